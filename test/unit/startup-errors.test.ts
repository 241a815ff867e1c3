import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/config.ts';
import { MigrationError } from '../../src/db/migrate.ts';
import { DemoMemberPresentError } from '../../src/members/demo.ts';
import { describeStartupError } from '../../src/startup-errors.ts';

const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
  code: 'ECONNREFUSED',
});

describe('start-up errors', () => {
  it('says the database cannot be reached when the migrator could not connect', () => {
    const message = describeStartupError(
      new MigrationError('database migration unknown failed', refused),
    );
    assert.match(message, /^the database cannot be reached \(connect ECONNREFUSED/);
    assert.match(message, /Check DATABASE_URL/);
  });

  it('names a migration that failed for another reason', () => {
    const message = describeStartupError(
      new MigrationError('database migration 2026-11-25-002 failed', new Error('syntax error')),
    );
    assert.equal(message, 'database migration 2026-11-25-002 failed: syntax error');
  });

  it('lists every configuration problem', () => {
    const message = describeStartupError(new ConfigError(['PORT: expected a whole number']));
    assert.match(message, /PORT: expected a whole number/);
    assert.match(message, /Fix the environment variables/);
  });

  it('tells the operator to remove the demo member, in one line without a stack', () => {
    const message = describeStartupError(new DemoMemberPresentError());
    assert.match(message, /^the database holds the demo member \(document 1234567/);
    assert.match(message, /Remove it with "npm run members:remove-demo"/);
    assert.doesNotMatch(message, /\n/);
  });

  it('explains a port already in use', () => {
    const busy = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    assert.match(describeStartupError(busy), /already in use/);
  });
});
