// GET /metrics: Prometheus text, read by a scraper on this machine, one of
// TRUSTED_PROXIES or the holder of METRICS_TOKEN; figures of this process
// and of the whole portal (from the database), never a member's data.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { SmsWebhookChannel } from '../../src/courier/channels/sms-webhook.ts';
import { SmtpChannel } from '../../src/courier/channels/smtp.ts';
import { Dispatcher, RETRY_DELAYS_MS } from '../../src/courier/dispatcher.ts';
import { buildManagementApp } from '../../src/management.ts';
import { THROTTLE_KINDS } from '../../src/ops/metrics.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  TEST_SECRET,
  type TestApp,
  type TestDatabase,
  usingPostgres,
} from '../helper.ts';
import { SoftAuthenticator } from '../helpers/authenticator.ts';
import { SmsGatewayStub } from '../support/sms-gateway.ts';
import { SmtpStub } from '../support/smtp.ts';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

/** The value of one sample line, e.g. `name{a="b"} 3`; undefined when absent. */
function sample(body: string, name: string, labels = ''): number | undefined {
  const line = body
    .split('\n')
    .find((l) => l.startsWith(labels ? `${name}{${labels}} ` : `${name} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe(`metrics (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ database });
  });
  after(async () => {
    await t.close();
  });

  const scrape = (app = t.app, remoteAddress = '127.0.0.1', headers = {}) =>
    app.inject({ method: 'GET', url: '/metrics', remoteAddress, headers });

  it('counts logins, messages and answers, and shows the SMS budget and the global failure limit', async () => {
    const member = await createMember(t.db);
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { document: member.document, password: 'Equivocada9' },
    });
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/password-requests',
      payload: { document: member.document, channel: 'email' },
    });

    const response = await scrape();
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const body = response.body;
    assert.equal(
      sample(body, 'autogestion_audit_events_recent', 'type="login",outcome="failed"'),
      1,
    );
    // A password request is counted as a request: whether a link went out is not told.
    assert.equal(
      sample(body, 'autogestion_audit_events_recent', 'type="link_sent",outcome="requested"'),
      1,
    );
    assert.equal(
      sample(body, 'autogestion_audit_events_recent', 'type="link_sent",outcome="ok"'),
      undefined,
    );
    assert.equal(sample(body, 'autogestion_outbox_stalled_seconds', 'channel="email"'), 0);
    assert.equal(sample(body, 'autogestion_login_failures_global'), 1);
    assert.equal(sample(body, 'autogestion_login_failures_global_limit'), 10000);
    assert.equal(sample(body, 'autogestion_sms_budget'), 500);
    assert.equal(sample(body, 'autogestion_sms_budget_used_ratio'), 0);
    assert.equal(sample(body, 'autogestion_background_tasks'), 0);
    assert.equal(sample(body, 'autogestion_background_tasks_limit'), 1000);
    assert.equal(
      sample(
        body,
        'autogestion_http_responses_total',
        'route="/api/v1/login",method="POST",status="4xx"',
      ),
      1,
    );
    assert.ok(!body.includes(member.document), 'no document');
    assert.ok(!body.includes(String(member.email)), 'no email');
    assert.equal(response.headers['set-cookie'], undefined, 'no CSRF cookie for a scraper');
  });

  it('is not there for a client on another machine', async () => {
    const response = await scrape(t.app, '203.0.113.5');
    assert.equal(response.statusCode, 404);
    assert.doesNotMatch(response.body, /autogestion_/);
  });

  it('is not there for a client that came through a proxy, even a trusted one on loopback', async () => {
    // How every real deployment runs: nginx on the same machine, TRUSTED_PROXIES=127.0.0.1.
    const proxied = await buildTestApp({ database, env: { TRUSTED_PROXIES: '127.0.0.1' } });
    try {
      for (const header of [
        { 'x-forwarded-for': '203.0.113.5' },
        { forwarded: 'for=203.0.113.5' },
        { 'x-real-ip': '203.0.113.5' },
        { 'x-forwarded-for': '127.0.0.1' },
      ]) {
        const response = await scrape(proxied.app, '127.0.0.1', header);
        assert.equal(response.statusCode, 404, JSON.stringify(header));
        assert.doesNotMatch(response.body, /autogestion_/);
      }
      // A trusted proxy's own address is no pass either: it forwards everyone.
      const other = await buildTestApp({ database, env: { TRUSTED_PROXIES: '10.0.0.0/8' } });
      try {
        assert.equal((await scrape(other.app, '10.1.2.3')).statusCode, 404);
      } finally {
        await other.close();
      }
      assert.equal((await scrape(proxied.app, '127.0.0.1')).statusCode, 200, 'direct loopback');
    } finally {
      await proxied.close();
    }
  });

  it('with METRICS_TOKEN, answers only the bearer of the token', async () => {
    const token = 'metrics-token-0123456789abcdef';
    const guarded = await buildTestApp({ database, env: { METRICS_TOKEN: token } });
    try {
      assert.equal(
        (await scrape(guarded.app, '127.0.0.1')).statusCode,
        404,
        'loopback needs it too',
      );
      const wrong = { authorization: 'Bearer not-the-token' };
      assert.equal((await scrape(guarded.app, '127.0.0.1', wrong)).statusCode, 404);
      const right = { authorization: `Bearer ${token}` };
      assert.equal((await scrape(guarded.app, '203.0.113.5', right)).statusCode, 200);
    } finally {
      await guarded.close();
    }
  });

  it('moves no figure when a password request finds a member rather than an unknown document', async () => {
    const own = await createTestDatabase();
    const probe = await buildTestApp({ database: own, env: { SMS_HOURLY_BUDGET: '500' } });
    try {
      const member = await createMember(probe.db);
      /** Every sample of the portal-wide figures (this process's answers aside). */
      const figures = async () =>
        (await scrape(probe.app)).body
          .split('\n')
          .filter(
            (l) =>
              l.startsWith('autogestion_') &&
              !l.startsWith('autogestion_http_') &&
              // This process's connections, which the scrape itself moves.
              !l.startsWith('autogestion_db_pool_'),
          )
          .join('\n');
      const ask = (document: string, channel: 'email' | 'sms') =>
        probe.app.inject({
          method: 'POST',
          url: '/api/v1/password-requests',
          payload: { document, channel },
        });
      for (const channel of ['email', 'sms'] as const) {
        await ask('7999999', channel);
        const afterUnknown = await figures();
        // Back to the same point, then the member: the figures must not differ.
        await ask('7999998', channel);
        const afterSecondUnknown = await figures();
        assert.notEqual(afterUnknown, afterSecondUnknown, 'requests are counted');
        const own2 = await figures();
        await ask(member.document, channel);
        const afterMember = await figures();
        // What moved between the two unknown requests is what a member's request moves too.
        assert.equal(
          diff(own2, afterMember),
          diff(afterUnknown, afterSecondUnknown),
          `${channel}: a member's request moved a figure an unknown one does not`,
        );
        probe.clock.advanceMinutes(61);
      }
      const queued = await probe.db.selectFrom('outbox').select('id').execute();
      assert.equal(queued.length, 2, 'the member did get the link and the code');
    } finally {
      await probe.close();
      await own.close();
    }
  });

  it('serves metrics on MANAGEMENT_PORT only, and none on the public port', async () => {
    const managed = await buildTestApp({ database, env: { MANAGEMENT_PORT: '9464' } });
    const management = await buildManagementApp({
      config: managed.deps.config,
      db: managed.db,
      metrics: managed.deps.metrics,
    });
    try {
      assert.equal((await scrape(managed.app)).statusCode, 404, 'not on the public port');
      const scraped = await management.inject({ method: 'GET', url: '/metrics' });
      assert.equal(scraped.statusCode, 200);
      assert.match(scraped.body, /autogestion_login_failures_global /);
      assert.equal((await management.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
      assert.equal((await management.inject({ method: 'GET', url: '/' })).statusCode, 404);
    } finally {
      await management.close();
      await managed.close();
    }
  });
});

/** The sample lines that changed between two scrapes, by name and labels. */
function diff(before: string, after: string): string {
  const values = (text: string) =>
    new Map(
      text.split('\n').map((line) => {
        const cut = line.lastIndexOf(' ');
        return [line.slice(0, cut), line.slice(cut + 1)] as const;
      }),
    );
  const a = values(before);
  const b = values(after);
  const names = new Set([...a.keys(), ...b.keys()]);
  return [...names]
    .filter((name) => a.get(name) !== b.get(name))
    .map((name) => `${name}: ${a.get(name) ?? '-'} -> ${b.get(name) ?? '-'}`)
    .map((line) => line.replace(/ -?\d+(\.\d+)? -> -?\d+(\.\d+)?$/, ' moved'))
    .sort()
    .join('\n');
}

/** Every sample of one metric, by its labels as written (`outcome="ok"`). */
function samples(body: string, name: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of body.split('\n')) {
    const match = new RegExp(`^${name}(?:\\{(.*)\\})? (\\S+)$`).exec(line);
    if (match) found.set(match[1] ?? '', Number(match[2]));
  }
  return found;
}

describe(`operator metrics (${databaseLabel})`, () => {
  // Each test on a database of its own: limits, counts and the outbox start empty.
  let own: TestDatabase;
  beforeEach(async () => {
    own = await createTestDatabase();
  });
  afterEach(async () => {
    await own.close();
  });
  const scrape = async (t: TestApp) => {
    const response = await t.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(response.statusCode, 200);
    return response.body;
  };
  const login = (t: TestApp, document: string, password: string, remoteAddress: string) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/login',
      remoteAddress,
      payload: { document, password },
    });

  it('counts logins by outcome, an unknown document and a wrong password alike as failed, and times every password check', async () => {
    const t = await buildTestApp({
      database: own,
      env: {
        LOGIN_FREE_FAILURES: '1',
        LOGIN_FAILURES_PER_ADDRESS: '2/15m',
        LOGIN_FAILURES_GLOBAL: '2/15m',
      },
    });
    try {
      const member = await createMember(t.db);
      const logins = async () => samples(await scrape(t), 'autogestion_logins_total');
      const verified = async () =>
        sample(await scrape(t), 'autogestion_password_verify_seconds_count');
      assert.deepEqual(
        await logins(),
        new Map([
          ['outcome="ok"', 0],
          ['outcome="failed"', 0],
          ['outcome="throttled"', 0],
        ]),
        'every outcome is there from the start, and only these',
      );

      assert.equal((await login(t, member.document, 'clave2026', '203.0.113.1')).statusCode, 200);
      assert.equal((await logins()).get('outcome="ok"'), 1);
      assert.equal(await verified(), 1);

      // A wrong password, then an unknown document: the same figures move.
      const before = await scrape(t);
      assert.equal((await login(t, member.document, 'Equivocada9', '203.0.113.2')).statusCode, 401);
      const afterWrong = await scrape(t);
      assert.equal((await login(t, '4999999', 'Equivocada9', '203.0.113.2')).statusCode, 401);
      const afterUnknown = await scrape(t);
      assert.equal(samples(afterUnknown, 'autogestion_logins_total').get('outcome="failed"'), 2);
      // Seconds of work differ by chance; which series moved must not.
      const moved = (a: string, b: string) =>
        diff(processFigures(a), processFigures(b))
          .split('\n')
          .filter((line) => !line.includes('_bucket') && !line.includes('_sum'))
          .join('\n');
      assert.equal(
        moved(afterWrong, afterUnknown),
        moved(before, afterWrong),
        'an unknown document moved other figures than a wrong password',
      );
      assert.equal(await verified(), 3, 'the unknown document spent its verification too');

      // The web form counts as the API does; this failure is the member's second
      // (the wait starts) and the third past LOGIN_FAILURES_GLOBAL's 2.
      const page = await t.app.inject({
        method: 'POST',
        url: '/ingresar',
        remoteAddress: '203.0.113.3',
        payload: { document: member.document, password: 'Equivocada9' },
      });
      assert.equal(page.statusCode, 401);
      assert.equal((await logins()).get('outcome="failed"'), 3);

      // The account waits (even with the right password), and the address
      // that failed twice is out of tries: throttled, no password checked.
      assert.equal((await login(t, member.document, 'clave2026', '203.0.113.4')).statusCode, 429);
      assert.equal((await login(t, '4999998', 'Equivocada9', '203.0.113.2')).statusCode, 429);
      const body = await scrape(t);
      assert.deepEqual(
        samples(body, 'autogestion_logins_total'),
        new Map([
          ['outcome="ok"', 1],
          ['outcome="failed"', 3],
          ['outcome="throttled"', 2],
        ]),
      );
      const hits = samples(body, 'autogestion_throttle_hits_total');
      assert.equal(hits.get('kind="login_account_wait"'), 1);
      assert.equal(hits.get('kind="login_failures_per_address"'), 1);
      assert.equal(hits.get('kind="login_failures_global"'), 1);
      assert.equal(sample(body, 'autogestion_password_verify_seconds_count'), 4);
      assert.ok((sample(body, 'autogestion_password_verify_seconds_sum') ?? 0) > 0);
      assert.equal(
        sample(body, 'autogestion_password_verify_seconds_bucket', 'le="+Inf"'),
        4,
        'the histogram has its buckets',
      );
      // A fixed set of kinds, never a key, an address or a document.
      assert.deepEqual(
        [...hits.keys()].sort(),
        THROTTLE_KINDS.map((kind) => `kind="${kind}"`).sort(),
      );
      assert.ok(!body.includes(member.document) && !body.includes('203.0.113'));
    } finally {
      await t.close();
    }
  });

  it('counts a passkey login that fails as failed', async () => {
    const t = await buildTestApp({ database: own });
    try {
      const options = await t.app.inject({ method: 'POST', url: '/api/v1/passkeys/login/options' });
      assert.equal(options.statusCode, 200, options.body);
      const stranger = new SoftAuthenticator(t.deps.config.publicUrl, 'localhost');
      const answer = await t.app.inject({
        method: 'POST',
        url: '/api/v1/passkeys/login',
        payload: stranger.authenticate(options.json()),
      });
      assert.equal(answer.statusCode, 400, answer.body);
      assert.equal(sample(await scrape(t), 'autogestion_logins_total', 'outcome="failed"'), 1);
    } finally {
      await t.close();
    }
  });

  it('counts password requests by the channel asked for, whoever the document is, and the refused ones as throttle hits', async () => {
    const t = await buildTestApp({ database: own, env: { PASSWORD_REQUESTS_PER_ADDRESS: '4/1h' } });
    try {
      const member = await createMember(t.db);
      const ask = (document: string, channel: string) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/password-requests',
          payload: { document, channel },
        });
      for (const channel of ['email', 'sms'])
        for (const document of [member.document, '4999997'])
          assert.equal((await ask(document, channel)).statusCode, 202, `${channel} ${document}`);
      assert.equal((await ask(member.document, 'email')).statusCode, 429);
      const body = await scrape(t);
      assert.deepEqual(
        samples(body, 'autogestion_password_requests_total'),
        new Map([
          ['channel="email"', 2],
          ['channel="sms"', 2],
        ]),
      );
      assert.equal(
        sample(body, 'autogestion_throttle_hits_total', 'kind="password_requests_per_address"'),
        1,
      );
    } finally {
      await t.close();
    }
  });

  it('counts junk CAPTCHA answers and wrong SMS codes past their budgets as throttle hits', async () => {
    const t = await buildTestApp({
      database: own,
      env: {
        CAPTCHA_PROVIDER: 'altcha',
        CAPTCHA_FAILURES_PER_ADDRESS: '1/15m',
        SMS_CODE_FAILURES_PER_ADDRESS: '1/1h',
      },
    });
    try {
      const junk = () =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/login',
          payload: { document: '4999996', password: 'Equivocada9', captcha: 'junk' },
        });
      assert.equal((await junk()).statusCode, 400, 'a wrong CAPTCHA is no login outcome');
      assert.equal((await junk()).statusCode, 429);
      const wrongCode = () =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/password-requests/verify',
          payload: { document: '4999996', code: '123456' },
        });
      assert.equal((await wrongCode()).statusCode, 400);
      assert.equal((await wrongCode()).statusCode, 429);
      const body = await scrape(t);
      const hits = samples(body, 'autogestion_throttle_hits_total');
      assert.equal(hits.get('kind="captcha_failures_per_address"'), 1);
      assert.equal(hits.get('kind="sms_code_failures_per_address"'), 1);
      assert.deepEqual(
        samples(body, 'autogestion_logins_total'),
        new Map([
          ['outcome="ok"', 0],
          ['outcome="failed"', 0],
          ['outcome="throttled"', 1],
        ]),
      );
    } finally {
      await t.close();
    }
  });

  it('counts deliveries by channel and result as the dispatcher records them: sent, retry, abandoned', async () => {
    const smtp = await SmtpStub.start();
    const sms = await SmsGatewayStub.start();
    const clock = new FakeClock();
    let dispatcher: Dispatcher | undefined;
    const t = await buildTestApp({ database: own, clock });
    dispatcher = new Dispatcher({
      db: t.db,
      clock,
      secret: TEST_SECRET,
      channels: {
        email: new SmtpChannel(smtp.url, 'Autogestión <no-reply@example.org>'),
        sms: new SmsWebhookChannel(sms.url, 2000),
      },
      log: { info() {}, warn() {}, error() {} },
      metrics: t.deps.metrics,
    });
    try {
      const member = await createMember(t.db);
      const ask = async (channel: 'email' | 'sms') => {
        const response = await t.app.inject({
          method: 'POST',
          url: '/api/v1/password-requests',
          payload: { document: member.document, channel },
        });
        assert.equal(response.statusCode, 202);
      };
      const deliveries = async () => samples(await scrape(t), 'autogestion_deliveries_total');
      assert.equal((await deliveries()).size, 6, 'every channel and result from the start');

      // Two links in a row: the first is retired before it goes (abandoned),
      // the second is sent.
      await ask('email');
      await ask('email');
      await dispatcher.runOnce();
      assert.equal(smtp.messages.length, 1);
      let counted = await deliveries();
      assert.equal(counted.get('channel="email",result="sent"'), 1);
      assert.equal(counted.get('channel="email",result="abandoned"'), 1);

      // The gateway refuses the SMS once (retry), then takes it.
      sms.fail(500, 1);
      await ask('sms');
      await dispatcher.runOnce();
      counted = await deliveries();
      assert.equal(counted.get('channel="sms",result="retry"'), 1);
      assert.equal(counted.get('channel="sms",result="sent"'), 0);
      clock.advance(RETRY_DELAYS_MS[0] as number);
      await dispatcher.runOnce();
      counted = await deliveries();
      assert.equal(counted.get('channel="sms",result="sent"'), 1);
      assert.equal(sms.delivered.length, 1);

      // The mail server down: the next link waits for a retry.
      await smtp.stop();
      await ask('email');
      await dispatcher.runOnce();
      counted = await deliveries();
      assert.equal(counted.get('channel="email",result="retry"'), 1);
      assert.equal(counted.get('channel="email",result="sent"'), 1);
      assert.equal(counted.get('channel="sms",result="abandoned"'), 0);
    } finally {
      await dispatcher?.stop();
      await t.close();
      await smtp.stop();
      await sms.close();
    }
  });

  it(
    usingPostgres
      ? "reports the PostgreSQL pool's connections, idle ones and waiting queries"
      : 'reports no pool on the embedded database, which has none',
    async () => {
      const t = await buildTestApp({ database: own });
      try {
        const body = await scrape(t);
        const pool = samples(body, 'autogestion_db_pool_connections');
        if (!usingPostgres) {
          assert.equal(pool.size, 0);
          assert.doesNotMatch(body, /autogestion_db_pool_/);
          return;
        }
        const total = pool.get('state="total"') ?? -1;
        const idle = pool.get('state="idle"') ?? -1;
        assert.ok(total >= 1 && total <= 10, `total ${total}`);
        assert.ok(idle >= 0 && idle <= total, `idle ${idle}`);
        assert.equal(pool.get('state="waiting"'), 0);
        assert.equal(sample(body, 'autogestion_db_pool_max_connections'), 10);
      } finally {
        await t.close();
      }
    },
  );
});

/** The samples of this process's own figures (not the ones read from the database). */
function processFigures(body: string): string {
  return body
    .split('\n')
    .filter((line) =>
      /^autogestion_(logins|password_requests|throttle_hits|deliveries|password_verify)/.test(line),
    )
    .join('\n');
}
