import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildTestApp, databaseLabel, type TestApp, testConfig } from '../helper.ts';

describe(`ALTCHA challenges per address (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({
      env: {
        CAPTCHA_PROVIDER: 'altcha',
        ALTCHA_COST: '10',
        CAPTCHA_CHALLENGES_PER_ADDRESS: '5/15m',
      },
    });
  });
  after(() => t.close());

  const challenge = (remoteAddress: string) =>
    t.app.inject({ method: 'GET', url: '/api/v1/captcha', remoteAddress });

  it('allows 600 per 15 minutes by default', () => {
    assert.deepEqual(testConfig().limits.captchaChallengesPerAddress, {
      limit: 600,
      windowMs: 15 * 60_000,
    });
  });

  it('answers 429 with Retry-After past the budget, for that address only, until the window ends', async () => {
    for (let i = 0; i < 5; i += 1) assert.equal((await challenge('203.0.113.7')).statusCode, 200);
    const refused = await challenge('203.0.113.7');
    assert.equal(refused.statusCode, 429);
    assert.ok(Number(refused.headers['retry-after']) > 0);
    assert.equal(refused.json().error.code, 'REQUESTS_THROTTLED');
    assert.equal(
      (await challenge('198.51.100.9')).statusCode,
      200,
      'another address is unaffected',
    );
    t.clock.advanceMinutes(15);
    assert.equal((await challenge('203.0.113.7')).statusCode, 200, 'a new window');
  });
});
