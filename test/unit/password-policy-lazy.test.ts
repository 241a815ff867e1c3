// The common-password list is loaded at the first check, not with the
// policy: a server that only logs members in never holds it (ADR 020).
// Its own file, so that nothing else in this process has loaded it first.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { createPasswordPolicy } from '../../src/auth/password-policy.ts';
import { errors } from '../../src/messages/es.ts';

const loaded = () =>
  Object.keys(createRequire(import.meta.url).cache).some((file) =>
    file.includes('@zxcvbn-ts/language-common'),
  );

describe('the common-password list', () => {
  it('is loaded at the first check, and then refuses a common password', () => {
    const policy = createPasswordPolicy('asvs');
    assert.equal(loaded(), false);
    const fields = policy.check({ password: 'password1', confirmation: 'password1', context: [] });
    assert.equal(loaded(), true);
    assert.equal(fields.password, errors.PASSWORD_COMMON);
  });
});
