// X-Request-Id: every answer names its request, and every line the
// request's logger writes carries the same id (`reqId`). The id is the one a
// trusted proxy sent (TRUSTED_PROXIES, the peers Fastify trusts for the
// client address), when it is sane; otherwise the portal makes one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { buildApp } from '../../src/app.ts';
import { createCaptcha } from '../../src/captcha/create.ts';
import { buildManagementApp } from '../../src/management.ts';
import { loggerOptions } from '../../src/plugins/logging.ts';
import {
  createMember,
  createTestDatabase,
  databaseLabel,
  FAST_HASHER,
  FakeClock,
  TEST_SECRET,
  type TestDatabase,
  testConfig,
  withFormTokens,
} from '../helper.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** One JSON line of the app's log. */
interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  req?: { ip?: string; url?: string };
  res?: { statusCode?: number };
}

interface LoggedApp {
  app: FastifyInstance;
  lines: LogLine[];
  close(): Promise<void>;
}

/** The app as the server builds it, logging at info into `lines` instead of stdout. */
async function buildLoggedApp(
  database: TestDatabase,
  env: Record<string, string> = {},
): Promise<LoggedApp> {
  const config = testConfig(env);
  const clock = new FakeClock();
  const lines: LogLine[] = [];
  const stream = { write: (line: string) => lines.push(JSON.parse(line) as LogLine) };
  const app = await buildApp(
    {
      config,
      db: database.db,
      clock,
      hasher: FAST_HASHER,
      secret: TEST_SECRET,
      captcha: createCaptcha(config.captcha, {
        db: database.db,
        clock,
        secret: TEST_SECRET,
        publicUrl: config.publicUrl,
      }),
    },
    { logger: { ...(loggerOptions('info') as object), stream } },
  );
  await app.ready();
  withFormTokens(app, app.parts.background);
  return { app, lines, close: () => app.close() };
}

const idOf = (response: LightMyRequestResponse) => String(response.headers['x-request-id']);

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

describe(`request ids (${databaseLabel})`, () => {
  let direct: LoggedApp;
  let proxied: LoggedApp;
  before(async () => {
    direct = await buildLoggedApp(database);
    proxied = await buildLoggedApp(database, { TRUSTED_PROXIES: '127.0.0.1,10.0.0.0/8' });
  });
  after(async () => {
    await direct.close();
    await proxied.close();
  });

  it('names every answer with an id of its own: pages, API, errors, not found, files, probes', async () => {
    const home = await direct.app.inject({ method: 'GET', url: '/' });
    const stylesheet = /\/assets\/[^"]+\.css/.exec(home.body)?.[0];
    assert.ok(stylesheet, 'the login page links its stylesheet');
    const requests: InjectOptions[] = [
      { method: 'GET', url: '/' },
      { method: 'POST', url: '/ingresar', payload: { document: '4999999', password: 'x' } },
      { method: 'GET', url: '/api/v1/me' },
      {
        method: 'POST',
        url: '/api/v1/login',
        headers: { 'content-type': 'application/json' },
        payload: '{not json',
      },
      { method: 'GET', url: '/no-existe' },
      { method: 'GET', url: '/api/v1/no-existe' },
      { method: 'GET', url: '/%zz' },
      { method: 'GET', url: stylesheet },
      { method: 'GET', url: '/sw.js' },
      { method: 'GET', url: '/healthz' },
      { method: 'GET', url: '/metrics', remoteAddress: '203.0.113.5' },
    ];
    const seen = new Set<string>();
    for (const request of requests) {
      const response = await direct.app.inject(request);
      const id = idOf(response);
      assert.match(id, UUID, `${request.method} ${request.url} (${response.statusCode})`);
      seen.add(id);
    }
    assert.equal(seen.size, requests.length, 'each answer its own id');
  });

  it('names a failed request (500) and files every log line of it under that id', async () => {
    const own = await createTestDatabase();
    const broken = await buildLoggedApp(own);
    try {
      // The database loses a table the login reads: a real failure inside a flow.
      await sql`alter table members rename to members_gone`.execute(own.db);
      const response = await broken.app.inject({
        method: 'POST',
        url: '/api/v1/login',
        payload: { document: '4999999', password: 'Equivocada9' },
      });
      assert.equal(response.statusCode, 500);
      const id = idOf(response);
      assert.match(id, UUID);
      const lines = broken.lines.filter((line) => line.reqId === id);
      assert.deepEqual(
        lines.map((line) => line.msg),
        ['request failed', 'request completed'],
      );
      assert.equal(lines[1]?.res?.statusCode, 500);
      await sql`alter table members_gone rename to members`.execute(own.db);
    } finally {
      await broken.close();
      await own.close();
    }
  });

  it('files every line a request writes under its id, and no line of a request without one', async () => {
    const member = await createMember(database.db);
    // The form's CSRF token is fetched once, by a request of its own: before the count.
    await proxied.app.inject({ method: 'POST', url: '/ingresar', payload: {} });
    proxied.lines.length = 0;
    const answers = await Promise.all([
      proxied.app.inject({
        method: 'POST',
        url: '/api/v1/login',
        payload: { document: member.document, password: 'Equivocada9' },
      }),
      proxied.app.inject({
        method: 'POST',
        url: '/api/v1/login',
        payload: { document: member.document, password: 'clave2026' },
      }),
      proxied.app.inject({
        method: 'POST',
        url: '/ingresar',
        remoteAddress: '10.1.2.3',
        headers: { 'x-request-id': 'nginx-7f3a9c', 'x-forwarded-for': '198.51.100.7' },
        payload: { document: member.document, password: 'Equivocada9' },
      }),
    ]);
    assert.deepEqual(
      answers.map((a) => a.statusCode),
      [401, 200, 401],
    );
    assert.equal(idOf(answers[2] as LightMyRequestResponse), 'nginx-7f3a9c');
    const ids = new Set(answers.map(idOf));
    const ofRequests = proxied.lines.filter((line) => line.req || line.res);
    assert.ok(ofRequests.length >= answers.length);
    for (const line of ofRequests) assert.ok(line.reqId && ids.has(line.reqId), line.msg);
    for (const answer of answers) {
      const own = proxied.lines.filter((line) => line.reqId === idOf(answer));
      assert.equal(own.length, 1, 'one access line a request');
      assert.equal(own[0]?.msg, 'request completed');
      assert.equal(own[0]?.res?.statusCode, answer.statusCode);
    }
    // The proxy's request: its id, and the client address it forwarded (masked).
    const forwarded = proxied.lines.find((line) => line.reqId === 'nginx-7f3a9c');
    assert.equal(forwarded?.req?.ip, '198.51.100.x');
  });

  it("keeps a trusted proxy's id, and makes its own for anyone else's", async () => {
    const ask = (app: FastifyInstance, remoteAddress: string, id: string) =>
      app.inject({
        method: 'GET',
        url: '/',
        remoteAddress,
        headers: { 'x-request-id': id, 'x-forwarded-for': '198.51.100.7' },
      });
    assert.equal(idOf(await ask(proxied.app, '127.0.0.1', 'from-nginx-1')), 'from-nginx-1');
    assert.equal(idOf(await ask(proxied.app, '10.9.8.7', 'from-lb:2')), 'from-lb:2');
    assert.equal(idOf(await ask(proxied.app, '::ffff:127.0.0.1', 'mapped.3')), 'mapped.3');
    // A client on the Internet, or any client when no proxy is trusted.
    assert.match(idOf(await ask(proxied.app, '203.0.113.5', 'chosen-by-client')), UUID);
    assert.match(idOf(await ask(direct.app, '127.0.0.1', 'chosen-by-client')), UUID);
  });

  it("ignores a trusted proxy's id that is not 1 to 128 letters, digits or . _ : -", async () => {
    for (const id of [
      '',
      'two words',
      'a'.repeat(129),
      'id,id',
      'niño',
      '<script>',
      'a/b',
      '{"json":1}',
    ]) {
      const response = await proxied.app.inject({
        method: 'GET',
        url: '/healthz',
        remoteAddress: '127.0.0.1',
        headers: { 'x-request-id': id },
      });
      assert.match(idOf(response), UUID, JSON.stringify(id));
    }
    const longest = 'A-z0.9_:'.repeat(16);
    const kept = await proxied.app.inject({
      method: 'GET',
      url: '/healthz',
      remoteAddress: '127.0.0.1',
      headers: { 'x-request-id': longest },
    });
    assert.equal(idOf(kept), longest);
  });

  it('trusts exactly the peers whose forwarded client address Fastify takes', async () => {
    const cases: [string, string[]][] = [
      ['127.0.0.1', ['127.0.0.1', '::ffff:127.0.0.1', '127.0.0.2', '10.0.0.1', '::1']],
      [
        '10.0.0.0/8,2001:db8::/32',
        ['10.200.0.1', '::ffff:10.0.0.9', '11.0.0.1', '2001:db8::7', '2001:db9::1', '127.0.0.1'],
      ],
      ['::1,192.0.2.0/24', ['::1', '127.0.0.1', '192.0.2.200', '::ffff:192.0.2.9', '192.0.3.1']],
    ];
    for (const [trusted, peers] of cases) {
      const logged = await buildLoggedApp(database, { TRUSTED_PROXIES: trusted });
      const verdicts = new Set<boolean>();
      try {
        for (const [index, peer] of peers.entries()) {
          const id = `probe-${index}`;
          logged.lines.length = 0;
          const response = await logged.app.inject({
            method: 'GET',
            url: '/healthz',
            remoteAddress: peer,
            headers: { 'x-request-id': id, 'x-forwarded-for': '198.51.100.7' },
          });
          const access = logged.lines.find((line) => line.msg === 'request completed');
          const fastifyTrusts = access?.req?.ip === '198.51.100.x';
          verdicts.add(fastifyTrusts);
          assert.equal(
            idOf(response) === id,
            fastifyTrusts,
            `TRUSTED_PROXIES=${trusted}, peer ${peer}: id kept ${idOf(response) === id}, address forwarded ${fastifyTrusts}`,
          );
        }
        assert.equal(verdicts.size, 2, `${trusted}: peers trusted and peers not`);
      } finally {
        await logged.close();
      }
    }
  });

  it('names the answers of the management listener too', async () => {
    const config = testConfig({ TRUSTED_PROXIES: '127.0.0.1' });
    const { metrics } = proxied.app.parts;
    const management = await buildManagementApp({ config, db: database.db, metrics });
    try {
      for (const url of ['/healthz', '/readyz', '/metrics', '/nada']) {
        const response = await management.inject({ method: 'GET', url });
        assert.match(idOf(response), UUID, url);
      }
      const kept = await management.inject({
        method: 'GET',
        url: '/metrics',
        remoteAddress: '127.0.0.1',
        headers: { 'x-request-id': 'scrape-42' },
      });
      assert.equal(idOf(kept), 'scrape-42');
    } finally {
      await management.close();
    }
  });
});
