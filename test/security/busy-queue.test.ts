// The after-the-answer queue is bounded: a flood of password requests past
// BACKGROUND_QUEUE_LIMIT answers 503 with Retry-After, the same for every
// document, and spends nothing (no CAPTCHA, no budget); the depth is a metric.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/app.ts';
import { createCaptcha } from '../../src/captcha/create.ts';
import { createBackground } from '../../src/flows/background.ts';
import {
  createMember,
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

describe(`a full after-the-answer queue (${databaseLabel})`, () => {
  it('answers every document 503 with Retry-After, spends nothing, and shows the depth', async () => {
    const config = testConfig({ BACKGROUND_QUEUE_LIMIT: '2' });
    const clock = new FakeClock();
    const silent = { warn: () => {}, error: () => {} };
    const background = createBackground(silent, config.backgroundQueueLimit);
    const app = await buildApp(
      {
        config,
        db: database.db,
        clock,
        hasher: FAST_HASHER,
        captcha: createCaptcha(config.captcha, { db: database.db, clock, secret: TEST_SECRET }),
        secret: TEST_SECRET,
        background,
        log: silent,
      },
      { logger: false },
    );
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      const member = await createMember(database.db);
      // Two tasks that hold the queue until the test lets them go.
      background.run('held', () => gate);
      background.run('held', () => gate);
      const answers = [];
      for (const document of [member.document, '7777777'])
        answers.push(
          await app.inject({
            method: 'POST',
            url: '/api/v1/password-requests',
            remoteAddress: '203.0.113.120',
            payload: { document, channel: 'sms' },
          }),
        );
      for (const answer of answers) {
        assert.equal(answer.statusCode, 503);
        assert.equal(answer.headers['retry-after'], '5');
        assert.equal(answer.json().error.code, 'SERVICE_BUSY');
      }
      assert.equal(answers[0]?.body, answers[1]?.body, 'the same answer for every document');
      const spent = await database.db
        .selectFrom('rate_counters')
        .select('key')
        .where('key', 'like', 'password-requests:%')
        .execute();
      assert.deepEqual(spent, [], 'no budget spent');
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /^autogestion_background_tasks 2$/m);
      assert.match(metrics.body, /^autogestion_background_tasks_limit 2$/m);

      release();
      await background.idle();
      const accepted = await app.inject({
        method: 'POST',
        url: '/api/v1/password-requests',
        remoteAddress: '203.0.113.120',
        payload: { document: member.document, channel: 'sms' },
      });
      assert.equal(accepted.statusCode, 202, 'room again once the work is done');
    } finally {
      release();
      await app.close();
    }
  });
});
