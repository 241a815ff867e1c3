// GET /api/v1/captcha (where the pages' ALTCHA widget fetches its challenge
// too) past CAPTCHA_CHALLENGES_PER_ADDRESS: members share addresses, and
// fetching challenges is free, so past the budget the address is served from
// a few challenges kept for it instead of being refused (challenge-pool.ts,
// ADR 005 "Challenges past the budget").
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Challenge, solveChallenge } from 'altcha-lib';
import { deriveKey as pbkdf2 } from 'altcha-lib/algorithms/pbkdf2';
import { hitLimit } from '../../src/auth/throttle.ts';
import { AltchaCaptcha } from '../../src/captcha/altcha.ts';
import {
  POOL_MAX_ADDRESSES,
  POOL_SIZE,
  SERVE_MARGIN_MS,
} from '../../src/captcha/challenge-pool.ts';
import { GLOBAL_FAILURES_KEY } from '../../src/flows/login/state.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  TEST_SECRET,
  type TestDatabase,
  testConfig,
} from '../helper.ts';

/** An ALTCHA captcha (cost 1, for speed) that records every challenge it makes. */
function countingAltcha(
  database: TestDatabase,
  clock: FakeClock,
  pool?: { size?: number; maxAddresses?: number },
) {
  const captcha = new AltchaCaptcha({
    db: database.db,
    clock,
    secret: TEST_SECRET,
    cost: 1,
    ...(pool ? { pool } : {}),
  });
  /** Signature → the work factor it was made at, in the order they were made. */
  const made = new Map<string, number>();
  const make = captcha.createChallenge.bind(captcha);
  captcha.createChallenge = async (factor = 1) => {
    const challenge = await make(factor);
    made.set(challenge.signature ?? '', factor);
    return challenge;
  };
  return { captcha, made };
}

/** Solves a challenge as the widget would; the payload a form or the app sends. */
async function solve(challenge: Challenge): Promise<string> {
  const solution = await solveChallenge({ challenge, deriveKey: pbkdf2 });
  assert.ok(solution, 'the challenge can be solved');
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

describe(`ALTCHA challenges per address (${databaseLabel})`, () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(() => database.close());

  /** An app on the shared database with its own clock and counting captcha. */
  async function appWith(
    env: Record<string, string>,
    pool?: { size?: number; maxAddresses?: number },
    clock = new FakeClock(),
  ) {
    const altcha = countingAltcha(database, clock, pool);
    const t = await buildTestApp({
      database,
      clock,
      captcha: altcha.captcha,
      env: { CAPTCHA_PROVIDER: 'altcha', ALTCHA_COST: '1', ...env },
    });
    /** GET /api/v1/captcha from `remoteAddress`: 200 and the challenge. */
    const challenge = async (remoteAddress: string): Promise<Challenge> => {
      const response = await t.app.inject({ method: 'GET', url: '/api/v1/captcha', remoteAddress });
      assert.equal(response.statusCode, 200, response.body);
      assert.equal(response.headers['cache-control'], 'no-store');
      return response.json();
    };
    /** POST /api/v1/login from `remoteAddress` with a solved CAPTCHA. */
    const login = (remoteAddress: string, document: string, captcha: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/login',
        remoteAddress,
        payload: { document, password: 'clave2026', captcha },
      });
    return { t, ...altcha, challenge, login };
  }

  it('allows 600 per 15 minutes by default, and keeps 16 challenges for each of at most 10,000 addresses past it', () => {
    assert.deepEqual(testConfig().limits.captchaChallengesPerAddress, {
      limit: 600,
      windowMs: 15 * 60_000,
    });
    assert.equal(POOL_SIZE, 16);
    assert.equal(POOL_MAX_ADDRESSES, 10_000);
  });

  describe('past the budget', () => {
    let app: Awaited<ReturnType<typeof appWith>>;
    before(async () => {
      app = await appWith({});
    });
    after(() => app.t.close());

    it('the server makes no more than the budget and one pool of challenges, however many one address fetches', async () => {
      for (let i = 0; i < 600; i += 1) await app.challenge('203.0.113.7');
      assert.equal(app.made.size, 600, 'the budget: one new challenge each');
      for (let i = 0; i < 200; i += 1) await app.challenge('203.0.113.7');
      assert.equal(app.made.size, 600 + POOL_SIZE);
    });

    it('hands out the pooled challenges in turn, each one the server signed', async () => {
      const handedOut: string[] = [];
      for (let i = 0; i < POOL_SIZE; i += 1)
        handedOut.push((await app.challenge('203.0.113.7')).signature ?? '');
      assert.equal(new Set(handedOut).size, POOL_SIZE, 'the whole pool, once each');
      for (const signature of handedOut) assert.ok(app.made.has(signature));
      assert.equal((await app.challenge('203.0.113.7')).signature, handedOut[0], 'then again');
      assert.equal(app.made.size, 600 + POOL_SIZE);
    });

    it('a client that fetched 600 challenges does not keep its NAT neighbours from getting one', async () => {
      const neighbour = await app.challenge('203.0.113.7');
      assert.equal(app.made.size, 600 + POOL_SIZE, 'at no new cost');
      const member = await createMember(app.t.db);
      const response = await app.login('203.0.113.7', member.document, await solve(neighbour));
      assert.equal(response.statusCode, 200, response.body);
      assert.ok(response.json().token, 'the neighbour is logged in');
    });

    it('another address still gets fresh challenges of its own', async () => {
      const before = app.made.size;
      await app.challenge('198.51.100.9');
      assert.equal(app.made.size, before + 1);
      assert.equal(app.captcha.pool.has('198.51.100.9'), false);
    });
  });

  describe('a pool shared by neighbours', () => {
    let app: Awaited<ReturnType<typeof appWith>>;
    before(async () => {
      app = await appWith({ CAPTCHA_CHALLENGES_PER_ADDRESS: '1/15m' }, { size: 1 });
      await app.challenge('203.0.113.20');
    });
    after(() => app.t.close());

    it('accepts a pooled challenge once: the neighbour who sends it second is refused and gets a new one', async () => {
      const first = await app.challenge('203.0.113.20');
      const second = await app.challenge('203.0.113.20');
      assert.equal(second.signature, first.signature, 'both got the one kept challenge');
      const ana = await createMember(app.t.db);
      const beto = await createMember(app.t.db);

      const winner = await app.login('203.0.113.20', ana.document, await solve(first));
      assert.equal(winner.statusCode, 200, winner.body);
      const loser = await app.login('203.0.113.20', beto.document, await solve(second));
      assert.equal(loser.statusCode, 400);
      assert.equal(loser.json().error.code, 'CAPTCHA_FAILED');

      const made = app.made.size;
      const retry = await app.challenge('203.0.113.20');
      assert.notEqual(retry.signature, first.signature, 'the spent challenge was made again');
      assert.equal(app.made.size, made + 1, 'once: paid for by a solved proof of work');
      assert.equal((await app.challenge('203.0.113.20')).signature, retry.signature);
      const again = await app.login('203.0.113.20', beto.document, await solve(retry));
      assert.equal(again.statusCode, 200, again.body);
    });
  });

  describe('expiry and memory', () => {
    let app: Awaited<ReturnType<typeof appWith>>;
    before(async () => {
      app = await appWith(
        { CAPTCHA_CHALLENGES_PER_ADDRESS: '1/15m' },
        { size: 2, maxAddresses: 3 },
      );
    });
    after(() => app.t.close());

    /** Spends the address's budget and fills its pool; the signatures of the pool. */
    async function exhaust(address: string): Promise<string[]> {
      await app.challenge(address);
      const pool = [await app.challenge(address), await app.challenge(address)];
      return pool.map((challenge) => challenge.signature ?? '');
    }

    it('hands a pooled challenge out only while a member still has two minutes to use it, then makes it again', async () => {
      const pool = await exhaust('203.0.113.30');
      const made = app.made.size;
      app.t.clock.advance(10 * 60_000 - SERVE_MARGIN_MS - 1000);
      assert.ok(pool.includes((await app.challenge('203.0.113.30')).signature ?? ''));
      assert.equal(app.made.size, made);

      app.t.clock.advance(1000);
      const fresh = await app.challenge('203.0.113.30');
      assert.ok(!pool.includes(fresh.signature ?? ''), 'a new challenge');
      assert.equal(app.made.size, made + 1);
      const expiresAt = Number(fresh.parameters.data?.exp) * 1000;
      assert.equal(expiresAt, app.t.clock.now().getTime() + 10 * 60_000, 'with its full life');
    });

    it('drops a pool once none of its challenges can be handed out any more', async () => {
      app.t.clock.advanceMinutes(15);
      await exhaust('203.0.113.31');
      app.t.clock.advanceMinutes(9);
      assert.ok(app.captcha.pool.has('203.0.113.31'));
      await exhaust('203.0.113.32');
      assert.equal(app.captcha.pool.has('203.0.113.31'), false);
    });

    it('keeps the pools of at most its cap of addresses: past it, the oldest pool is gone', async () => {
      app.t.clock.advanceMinutes(15);
      const addresses = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'];
      for (const address of addresses) await exhaust(address);
      assert.equal(app.captcha.pool.addresses, 3);
      assert.equal(app.captcha.pool.has('192.0.2.1'), false, 'the oldest was dropped');
      for (const address of addresses.slice(1)) assert.ok(app.captcha.pool.has(address));

      const made = app.made.size;
      await app.challenge('192.0.2.1');
      assert.equal(app.made.size, made + 1, 'its pool is made again, and still served');
    });
  });

  describe('the hardened CAPTCHA', () => {
    let app: Awaited<ReturnType<typeof appWith>>;
    before(async () => {
      // A clock of its own: the global failure counter is shared by the database.
      app = await appWith(
        { CAPTCHA_CHALLENGES_PER_ADDRESS: '1/15m', LOGIN_FAILURES_GLOBAL: '2/15m' },
        { size: 2 },
        new FakeClock(new Date('2026-12-02T12:00:00Z')),
      );
    });
    after(() => app.t.close());

    it('makes the pool again at three times the work once failed logins pass the global limit', async () => {
      await app.challenge('203.0.113.40');
      const easy = [await app.challenge('203.0.113.40'), await app.challenge('203.0.113.40')];
      for (const challenge of easy) assert.equal(app.made.get(challenge.signature ?? ''), 1);

      const rule = app.t.deps.config.limits.loginFailuresGlobal;
      for (let i = 0; i < 3; i += 1)
        await hitLimit(app.t.db, app.t.clock, GLOBAL_FAILURES_KEY, rule);

      for (let i = 0; i < 4; i += 1) {
        const challenge = await app.challenge('203.0.113.40');
        assert.equal(app.made.get(challenge.signature ?? ''), 3, 'never an easier one');
      }
      assert.equal(app.made.size, 1 + 2 + 2);
    });
  });
});
