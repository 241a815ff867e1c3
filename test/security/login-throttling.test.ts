// Attack suite, login: brute force on one account across two app instances
// sharing one database, credential stuffing from one address (IPv4 and IPv6
// /64), and which address counts behind a proxy. SPEC §3 "Brute force and
// abuse" and its default limits table. The clock is moved, never waited on.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { solveChallenge } from 'altcha-lib';
import { deriveKey as pbkdf2 } from 'altcha-lib/algorithms/pbkdf2';
import { keyedHash } from '../../src/auth/secrets.ts';
import { loadConfig } from '../../src/config.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  solveAltcha,
  TEST_SECRET,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';
import { apiLogin, DEFAULT_ADDRESS_LIMITS, detailOf, observed, retryAfter } from './attack.ts';

const GENERIC_401 = {
  error: {
    code: 'INVALID_CREDENTIALS',
    message: 'El documento o la contraseña no son correctos. Revíselos e intente de nuevo.',
    fields: {},
  },
};
const PAUSED = 'Por su seguridad, después de varios intentos fallidos pausamos el ingreso.';

function throttledBody(minutes: number) {
  return {
    error: {
      code: 'LOGIN_THROTTLED',
      message: `${PAUSED} Espere ${minutes} ${minutes === 1 ? 'minuto' : 'minutos'} y vuelva a intentar.`,
      fields: {},
    },
  };
}

// One database for the file (each test uses its own documents and
// addresses); the apps of a describe share it like instances behind a
// load balancer.
let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

describe(`brute force on one account, two instances on one database (${databaseLabel})`, () => {
  let a: TestApp;
  let b: TestApp;
  const clock = new FakeClock();

  before(async () => {
    a = await buildTestApp({ database, clock, env: { ...DEFAULT_ADDRESS_LIMITS } });
    b = await buildTestApp({ database, clock, env: { ...DEFAULT_ADDRESS_LIMITS } });
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  /** Instance A for odd tries, B for even ones. */
  const instance = (attempt: number) => (attempt % 2 === 1 ? a.app : b.app);

  it('answers 401 to tries 1 to 5 and 429 with Retry-After 60 to the 6th, alternating instances', async (t) => {
    const member = await createMember(a.db);
    const ip = '203.0.113.21';
    const statuses: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const response = await apiLogin(instance(attempt), member.document, `mala${attempt}`, ip);
      statuses.push(response.statusCode);
      assert.deepEqual(response.json(), GENERIC_401);
      assert.equal(response.headers['retry-after'], undefined);
    }
    const sixth = await apiLogin(instance(6), member.document, 'mala6', ip);
    statuses.push(sixth.statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    assert.equal(retryAfter(sixth), 60);
    assert.deepEqual(sixth.json(), throttledBody(1));
    t.diagnostic(`tries answered before 429 across instances: ${statuses.join(', ')}`);

    // The refusal is audited against the account (its keyed hash), not the member's data.
    const audit = await a.db
      .selectFrom('audit_events')
      .select(['outcome', 'detail', 'ip'])
      .where('type', '=', 'throttled')
      .where('document_hash', '=', keyedHash(TEST_SECRET, 'document', member.document))
      .execute();
    assert.equal(audit.length, 1);
    assert.equal(audit[0]?.outcome, 'refused');
    assert.equal(audit[0]?.ip, ip);
    assert.deepEqual(detailOf(audit[0]), { limit: 'account', retryAfter: 60 });
  });

  it('refuses the right password during the wait, then lets it in once the clock passes the wait and starts counting afresh', async () => {
    const member = await createMember(a.db);
    const ip = '203.0.113.22';
    for (let attempt = 1; attempt <= 5; attempt += 1)
      assert.equal(
        (await apiLogin(instance(attempt), member.document, 'mala', ip)).statusCode,
        401,
      );

    clock.advance(30_000);
    const during = await apiLogin(a.app, member.document, 'clave2026', ip);
    assert.equal(during.statusCode, 429);
    assert.equal(retryAfter(during), 30);
    const sessions = await a.db
      .selectFrom('sessions')
      .select('member_id')
      .where('member_id', '=', member.id)
      .execute();
    assert.equal(sessions.length, 0, 'no session was created during the wait');
    assert.equal((await apiLogin(b.app, member.document, 'clave2026', ip)).statusCode, 429);

    clock.advance(30_000);
    const afterWait = await apiLogin(b.app, member.document, 'clave2026', ip);
    assert.equal(afterWait.statusCode, 200, afterWait.body);
    assert.match(afterWait.json().token, /^[A-Za-z0-9_-]{43}$/);

    // The success reset the counter: four free failures again, the 5th starts a 1-minute wait.
    const again: number[] = [];
    for (let attempt = 1; attempt <= 6; attempt += 1)
      again.push((await apiLogin(instance(attempt), member.document, 'mala', ip)).statusCode);
    assert.deepEqual(again, [401, 401, 401, 401, 401, 429]);
    assert.equal(retryAfter(await apiLogin(a.app, member.document, 'mala', ip)), 60);
    clock.advance(60_000);
  });

  it('doubles the wait after each failure past it (60, 120, 240, 480) and caps it at 900 seconds', async (t) => {
    const member = await createMember(a.db);
    const ip = '203.0.113.23';
    for (let attempt = 1; attempt <= 5; attempt += 1)
      assert.equal(
        (await apiLogin(instance(attempt), member.document, 'mala', ip)).statusCode,
        401,
      );
    const seen = [retryAfter(await apiLogin(b.app, member.document, 'mala', ip))];
    for (let round = 1; round <= 6; round += 1) {
      const wait = seen.at(-1) as number;
      // Halfway through, the header counts down on either instance.
      clock.advance((wait / 2) * 1000);
      assert.equal(
        retryAfter(await apiLogin(instance(round), member.document, 'mala', ip)),
        wait / 2,
      );
      clock.advance((wait / 2) * 1000);
      const failure = await apiLogin(instance(round + 1), member.document, 'mala', ip);
      assert.equal(failure.statusCode, 401, 'the first try after a wait is checked');
      const refused = await apiLogin(instance(round), member.document, 'clave2026', ip);
      assert.equal(refused.statusCode, 429);
      seen.push(retryAfter(refused));
    }
    assert.deepEqual(seen, [60, 120, 240, 480, 900, 900, 900]);
    t.diagnostic(`Retry-After values seen: ${seen.join(', ')}`);
    const last = await apiLogin(a.app, member.document, 'mala', ip);
    assert.deepEqual(last.json(), throttledBody(15));
    clock.advance(900_000);
  });

  it('throttles an unknown document exactly like a known one: same statuses, same bodies, same waits', async () => {
    const member = await createMember(a.db);
    const unknown = '6543210';
    const exists = await a.db
      .selectFrom('members')
      .select('id')
      .where('document', '=', unknown)
      .executeTakeFirst();
    assert.equal(exists, undefined);

    async function script(document: string, ip: string) {
      const answers = [];
      for (let attempt = 1; attempt <= 7; attempt += 1)
        answers.push(observed(await apiLogin(instance(attempt), document, 'mala', ip)));
      clock.advance(60_000);
      for (let attempt = 1; attempt <= 3; attempt += 1)
        answers.push(observed(await apiLogin(instance(attempt), document, 'mala', ip)));
      clock.advance(120_000);
      return answers;
    }
    const known = await script(member.document, '203.0.113.24');
    const stranger = await script(unknown, '203.0.113.25');
    assert.deepEqual(
      known.map((x) => `${x.status}/${x.retryAfter}`),
      [
        '401/null',
        '401/null',
        '401/null',
        '401/null',
        '401/null',
        '429/60',
        '429/60',
        '401/null',
        '429/120',
        '429/120',
      ],
    );
    assert.deepEqual(stranger, known);
  });

  it('checks at most 5 passwords of a burst of 20 parallel tries spread over both instances', async (t) => {
    const member = await createMember(a.db);
    const ip = '203.0.113.26';
    const burst = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        apiLogin(i % 2 === 0 ? a.app : b.app, member.document, `mala${i}`, ip),
      ),
    );
    const statuses = burst.map((r) => r.statusCode);
    const checked = statuses.filter((s) => s === 401).length;
    t.diagnostic(`parallel burst of 20: ${checked} answered 401, the rest 429`);
    assert.equal(checked, 5, `statuses: ${statuses.join(', ')}`);
    assert.equal(statuses.filter((s) => s === 429).length, 15);
    clock.advance(900_000);
  });
});

describe(`credential stuffing from one client address (${databaseLabel})`, () => {
  let t: TestApp;

  before(async () => {
    t = await buildTestApp({ database, env: { LOGIN_FAILURES_PER_ADDRESS: '10/15m' } });
  });
  after(async () => {
    await t.close();
  });

  /** Ten failures on ten different documents from `ip`, each answered 401. */
  async function spendBudget(ip: string | string[], prefix: string): Promise<void> {
    for (let i = 0; i < 10; i += 1) {
      const from = Array.isArray(ip) ? (ip[i % ip.length] as string) : ip;
      const response = await apiLogin(
        t.app,
        `${prefix}${String(i).padStart(3, '0')}`,
        'mala',
        from,
      );
      assert.equal(response.statusCode, 401, `try ${i + 1} from ${from}: ${response.body}`);
    }
  }

  it('refuses the 11th failed login from one address with 429, a fresh document and a right password too', async () => {
    const member = await createMember(t.db);
    await spendBudget('198.51.100.7', '4100');
    const fresh = await apiLogin(t.app, '4200001', 'mala', '198.51.100.7');
    assert.equal(fresh.statusCode, 429);
    assert.equal(retryAfter(fresh), 900, 'until the 15-minute window ends');
    assert.equal(fresh.json().error.code, 'LOGIN_THROTTLED');
    const right = await apiLogin(t.app, member.document, 'clave2026', '198.51.100.7');
    assert.equal(right.statusCode, 429);

    // Another address is not affected, and the member can log in from it.
    assert.equal((await apiLogin(t.app, '4200002', 'mala', '198.51.100.8')).statusCode, 401);
    assert.equal(
      (await apiLogin(t.app, member.document, 'clave2026', '198.51.100.8')).statusCode,
      200,
    );

    const audit = await t.db
      .selectFrom('audit_events')
      .select('detail')
      .where('type', '=', 'throttled')
      .where('ip', '=', '198.51.100.7')
      .execute();
    assert.equal(audit.length, 2);
    assert.equal(detailOf(audit[0]).limit, 'address');

    // A new window: the address may try again.
    t.clock.advanceMinutes(15);
    assert.equal((await apiLogin(t.app, '4200003', 'mala', '198.51.100.7')).statusCode, 401);
  });

  it('counts a whole IPv6 /64 as one address, and another /64 apart', async () => {
    t.clock.advanceMinutes(15);
    await spendBudget(['2001:db8:1:2::1', '2001:db8:1:2:ffff::9'], '4300');
    for (const ip of ['2001:db8:1:2::1', '2001:db8:1:2:ffff::9', '2001:db8:1:2:abcd:1:2:3'])
      assert.equal((await apiLogin(t.app, '4400001', 'mala', ip)).statusCode, 429, ip);
    assert.equal((await apiLogin(t.app, '4400001', 'mala', '2001:db8:1:3::1')).statusCode, 401);
  });

  it('holds the budget against a parallel burst: 30 documents at once, exactly 10 checked', async () => {
    t.clock.advanceMinutes(15);
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        apiLogin(t.app, `45${String(i).padStart(5, '0')}`, 'mala', '198.51.100.30'),
      ),
    );
    const statuses = burst.map((r) => r.statusCode);
    assert.equal(statuses.filter((s) => s === 401).length, 10, statuses.join(', '));
    assert.equal(statuses.filter((s) => s === 429).length, 20);
  });

  it('allows 100 failed logins per address per 15 minutes by default, and refuses the 101st', async () => {
    const defaults = loadConfig({}).limits.loginFailuresPerAddress;
    assert.deepEqual(defaults, { limit: 100, windowMs: 15 * 60_000 });

    const app = await buildTestApp({
      database,
      env: { LOGIN_FAILURES_PER_ADDRESS: DEFAULT_ADDRESS_LIMITS.LOGIN_FAILURES_PER_ADDRESS },
    });
    try {
      assert.deepEqual(app.deps.config.limits.loginFailuresPerAddress, defaults);
      for (let i = 0; i < 100; i += 1) {
        const response = await apiLogin(
          app.app,
          `46${String(i).padStart(5, '0')}`,
          'x',
          '192.0.2.9',
        );
        assert.equal(response.statusCode, 401, `try ${i + 1}`);
      }
      const refused = await apiLogin(app.app, '4700001', 'x', '192.0.2.9');
      assert.equal(refused.statusCode, 429);
      assert.equal(retryAfter(refused), 900);
    } finally {
      await app.close();
    }
  });
});

describe(`client address behind a proxy (${databaseLabel})`, () => {
  const env = { LOGIN_FAILURES_PER_ADDRESS: '3/15m' };

  it('ignores X-Forwarded-For without TRUSTED_PROXIES: the socket address is counted', async () => {
    const t = await buildTestApp({ database, env });
    try {
      for (let i = 1; i <= 3; i += 1) {
        const response = await apiLogin(t.app, `480000${i}`, 'mala', '127.0.0.1', {
          'x-forwarded-for': `203.0.113.${100 + i}`,
          'user-agent': 'no-trusted-proxy',
        });
        assert.equal(response.statusCode, 401);
      }
      const rotated = await apiLogin(t.app, '4800009', 'mala', '127.0.0.1', {
        'x-forwarded-for': '203.0.113.200',
      });
      assert.equal(rotated.statusCode, 429, 'a new X-Forwarded-For does not buy new tries');
      const audit = await t.db
        .selectFrom('audit_events')
        .select('ip')
        .where('type', '=', 'login')
        .where('user_agent', '=', 'no-trusted-proxy')
        .execute();
      assert.equal(audit.length, 3);
      assert.deepEqual(new Set(audit.map((r) => r.ip)), new Set(['127.0.0.1']));
    } finally {
      await t.close();
    }
  });

  it('counts the X-Forwarded-For client with TRUSTED_PROXIES=127.0.0.1/32, and only what the proxy added', async () => {
    const t = await buildTestApp({ database, env: { ...env, TRUSTED_PROXIES: '127.0.0.1/32' } });
    try {
      const viaProxy = (document: string, forwardedFor: string, socket = '127.0.0.1') =>
        apiLogin(t.app, document, 'mala', socket, {
          'x-forwarded-for': forwardedFor,
          'user-agent': 'trusted-proxy',
        });
      // Clients typing their own X-Forwarded-For: the proxy appends the real address.
      for (let i = 1; i <= 3; i += 1)
        assert.equal((await viaProxy(`490000${i}`, `10.9.9.${i}, 203.0.113.50`)).statusCode, 401);
      assert.equal((await viaProxy('4900009', '203.0.113.50')).statusCode, 429);
      assert.equal((await viaProxy('4900009', '10.1.1.1, 203.0.113.50')).statusCode, 429);
      // Another client behind the same proxy is not affected.
      assert.equal((await viaProxy('4900009', '203.0.113.51')).statusCode, 401);
      // A socket that is not a trusted proxy cannot pick its address.
      for (let i = 1; i <= 3; i += 1)
        assert.equal(
          (await viaProxy(`491000${i}`, '203.0.113.52', '198.51.100.60')).statusCode,
          401,
        );
      assert.equal((await viaProxy('4910009', '203.0.113.53', '198.51.100.60')).statusCode, 429);

      const audit = await t.db
        .selectFrom('audit_events')
        .select('ip')
        .where('type', '=', 'login')
        .where('user_agent', '=', 'trusted-proxy')
        .execute();
      assert.equal(audit.length, 7);
      assert.deepEqual(
        new Set(audit.map((r) => r.ip)),
        new Set(['203.0.113.50', '203.0.113.51', '198.51.100.60']),
      );
    } finally {
      await t.close();
    }
  });
});

describe(`failed logins on every instance together (${databaseLabel})`, () => {
  it('alerts once past LOGIN_FAILURES_GLOBAL and makes new CAPTCHA challenges three times the work until the window ends', async () => {
    // A database of its own: the global counter sees every failure in it.
    const own = await createTestDatabase();
    const clock = new FakeClock();
    const alerts: object[] = [];
    const log = { warn: () => {}, error: (obj: object) => alerts.push(obj) };
    const env = { LOGIN_FAILURES_GLOBAL: '6/15m', ALTCHA_COST: '1' };
    const a = await buildTestApp({ database: own, clock, log, env });
    const b = await buildTestApp({
      database: own,
      clock,
      log,
      env: { ...env, CAPTCHA_PROVIDER: 'altcha' },
    });
    try {
      /** The number of guesses a fresh challenge of instance b takes (its hidden counter). */
      const work = async () => {
        const response = await b.app.inject({ method: 'GET', url: '/api/v1/captcha' });
        assert.equal(response.statusCode, 200);
        const solution = await solveChallenge({ challenge: response.json(), deriveKey: pbkdf2 });
        assert.ok(solution);
        return solution.counter;
      };
      assert.ok((await work()) < 50, 'usual work');

      for (let i = 0; i < 6; i += 1) {
        const response = await apiLogin(a.app, `44000${i}`, 'mala', `192.0.2.${i + 1}`);
        assert.equal(response.statusCode, 401);
      }
      assert.equal(alerts.length, 0, 'six failures: at the limit, not past it');
      assert.ok((await work()) < 50);

      // A login without its CAPTCHA is junk: it does not count (it would let
      // anyone harden every member's CAPTCHA for free).
      const junk = await apiLogin(b.app, '4400098', 'mala', '192.0.2.98');
      assert.equal(junk.statusCode, 400);
      assert.equal(alerts.length, 0, 'a failed CAPTCHA is not a failed login');

      // The 7th failed login goes past it.
      const seventh = await apiLogin(a.app, '4400099', 'mala', '192.0.2.99');
      assert.equal(seventh.statusCode, 401);
      assert.equal(alerts.length, 1);
      assert.equal((alerts[0] as { alert: string }).alert, 'login_failures_surge');
      const surge = await own.db
        .selectFrom('audit_events')
        .select('type')
        .where('type', '=', 'login_failures_surge')
        .execute();
      assert.equal(surge.length, 1);
      assert.ok((await work()) >= 75, 'three times the work');

      // Nobody is refused for it, and the alert is not repeated.
      assert.equal((await apiLogin(a.app, '4400100', 'mala', '192.0.2.100')).statusCode, 401);
      assert.equal(alerts.length, 1);

      clock.advanceMinutes(15);
      assert.ok((await work()) < 50, 'a new window: usual work again');
    } finally {
      await a.close();
      await b.close();
      await own.close();
    }
  });
});

describe(`a refused login spends no CAPTCHA (${databaseLabel})`, () => {
  it('refuses a waiting account and a full address before the CAPTCHA is checked, so the same solution logs in afterwards', async () => {
    const clock = new FakeClock();
    const env = { LOGIN_FAILURES_PER_ADDRESS: '3/15m', ALTCHA_COST: '1' };
    const plain = await buildTestApp({ database, clock, env });
    const guarded = await buildTestApp({
      database,
      clock,
      env: { ...env, CAPTCHA_PROVIDER: 'altcha' },
    });
    try {
      const member = await createMember(plain.db);
      const ip = '203.0.113.71';
      const login = (password: string, captcha: string, from = ip) =>
        guarded.app.inject({
          method: 'POST',
          url: '/api/v1/login',
          remoteAddress: from,
          payload: { document: member.document, password, captcha },
        });
      // Five wrong passwords from five addresses (no CAPTCHA on this instance) start the account's wait.
      for (let attempt = 1; attempt <= 5; attempt += 1)
        assert.equal(
          (await apiLogin(plain.app, member.document, 'mala', `198.51.100.${70 + attempt}`))
            .statusCode,
          401,
        );
      const solution = await solveAltcha(guarded.app);
      const waiting = await login('clave2026', solution);
      assert.equal(waiting.statusCode, 429);
      assert.deepEqual(waiting.json(), throttledBody(1));

      // An address past its failures: three wrong tries from another address fill it.
      const busy = '203.0.113.72';
      const other = await createMember(plain.db);
      for (let attempt = 1; attempt <= 3; attempt += 1)
        assert.equal((await apiLogin(plain.app, other.document, 'mala', busy)).statusCode, 401);
      const full = await login('clave2026', solution, busy);
      assert.equal(full.statusCode, 429);

      // Neither refusal used the solution: once the wait is over it logs in.
      clock.advance(61_000);
      const after = await login('clave2026', solution);
      assert.equal(after.statusCode, 200, after.body);
      // And now it is spent.
      clock.advance(1_000);
      assert.equal((await login('clave2026', solution)).json().error.code, 'CAPTCHA_FAILED');
    } finally {
      await plain.close();
      await guarded.close();
    }
  });
});
