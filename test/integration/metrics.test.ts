// GET /metrics: Prometheus text, read by a scraper on this machine, one of
// TRUSTED_PROXIES or the holder of METRICS_TOKEN; figures of this process
// and of the whole portal (from the database), never a member's data.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildManagementApp } from '../../src/management.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';

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
          .filter((l) => l.startsWith('autogestion_') && !l.startsWith('autogestion_http_'))
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
