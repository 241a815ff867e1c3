// GET /metrics: Prometheus text, read by a scraper on this machine, one of
// TRUSTED_PROXIES or the holder of METRICS_TOKEN; figures of this process
// and of the whole portal (from the database), never a member's data.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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
    assert.equal(
      sample(body, 'autogestion_audit_events_recent', 'type="link_sent",outcome="ok"'),
      1,
    );
    assert.equal(sample(body, 'autogestion_outbox_messages', 'channel="email",status="queued"'), 1);
    assert.equal(sample(body, 'autogestion_login_failures_global'), 1);
    assert.equal(sample(body, 'autogestion_login_failures_global_limit'), 10000);
    assert.equal(sample(body, 'autogestion_sms_budget'), 500);
    assert.equal(sample(body, 'autogestion_sms_budget_spent'), 0);
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

  it('lets TRUSTED_PROXIES in, and with METRICS_TOKEN only the bearer of the token', async () => {
    const proxied = await buildTestApp({ database, env: { TRUSTED_PROXIES: '10.0.0.0/8' } });
    const token = 'metrics-token-0123456789abcdef';
    const guarded = await buildTestApp({ database, env: { METRICS_TOKEN: token } });
    try {
      assert.equal((await scrape(proxied.app, '10.1.2.3')).statusCode, 200);
      assert.equal((await scrape(proxied.app, '11.1.2.3')).statusCode, 404);
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
      await proxied.close();
      await guarded.close();
    }
  });
});
