// Sealed payloads (AES-256-GCM): what openText accepts and what it refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openText, sealText } from '../../src/auth/secrets.ts';
import { TEST_SECRET } from '../helper.ts';

const PURPOSE = 'outbox';

/** The sealed text with its tag (the middle part) cut to its first `bytes` bytes. */
function withTagCutTo(sealed: string, bytes: number): string {
  const [iv, tag, body] = sealed.split('.');
  const cut = Buffer.from(tag as string, 'base64url').subarray(0, bytes);
  return [iv, cut.toString('base64url'), body].join('.');
}

describe('sealed text', () => {
  it('opens what it sealed, with a 16-byte tag', () => {
    const sealed = sealText(TEST_SECRET, PURPOSE, 'Su código es 123456');
    const tag = Buffer.from(sealed.split('.')[1] as string, 'base64url');
    assert.equal(tag.length, 16);
    assert.equal(openText(TEST_SECRET, PURPOSE, sealed), 'Su código es 123456');
  });

  for (const bytes of [12, 8, 4]) {
    it(`refuses a sealed text whose tag is cut to ${bytes} bytes`, () => {
      const sealed = sealText(TEST_SECRET, PURPOSE, 'Su código es 123456');
      assert.throws(() => openText(TEST_SECRET, PURPOSE, withTagCutTo(sealed, bytes)));
    });
  }

  it('refuses a sealed text whose tag is longer than 16 bytes', () => {
    const sealed = sealText(TEST_SECRET, PURPOSE, 'hola');
    const [iv, tag, body] = sealed.split('.');
    const longer = Buffer.concat([Buffer.from(tag as string, 'base64url'), Buffer.from([0])]);
    assert.throws(() =>
      openText(TEST_SECRET, PURPOSE, [iv, longer.toString('base64url'), body].join('.')),
    );
  });

  it('refuses a sealed text opened under another purpose or another secret', () => {
    const sealed = sealText(TEST_SECRET, PURPOSE, 'hola');
    assert.throws(() => openText(TEST_SECRET, 'another-purpose', sealed));
    assert.throws(() => openText('another-secret-another-secret-0123456789', PURPOSE, sealed));
  });
});
