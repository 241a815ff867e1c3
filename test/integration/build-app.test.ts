// buildApp completes the parts it is given once, and changes none of them:
// one background, one set of metrics, one FlowDeps for every route.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { createCaptcha } from '../../src/captcha/create.ts';
import type { AppDeps } from '../../src/deps.ts';
import {
  createTestDatabase,
  databaseLabel,
  FAST_HASHER,
  FakeClock,
  TEST_SECRET,
  type TestDatabase,
  testConfig,
} from '../helper.ts';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

describe(`building the app (${databaseLabel})`, () => {
  it('changes nothing it was handed, and builds the flows’ parts once', async () => {
    const config = testConfig();
    const clock = new FakeClock();
    const given: AppDeps = {
      config,
      db: database.db,
      clock,
      hasher: FAST_HASHER,
      captcha: createCaptcha(config.captcha, { db: database.db, clock, secret: TEST_SECRET }),
      secret: TEST_SECRET,
    };
    const before = Object.keys(given).sort();
    const app = await buildApp(given, { logger: false });
    try {
      assert.deepEqual(Object.keys(given).sort(), before, 'no part was added to the object given');
      const { parts } = app;
      assert.equal(parts.flow.background, parts.background, 'flows use the app’s one background');
      assert.equal(parts.flow.log, parts.log);
      assert.equal(parts.flow.db, given.db);
      // A second app from the same parts gets its own background, not the first one's.
      const other = await buildApp(given, { logger: false });
      try {
        assert.notEqual(other.parts.background, parts.background);
      } finally {
        await other.close();
      }
    } finally {
      await app.close();
    }
  });
});
