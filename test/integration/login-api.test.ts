// The mobile app's login through the JSON API (SPEC §4), on a real database:
// POST /api/v1/login, GET /api/v1/me, POST /api/v1/logout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { PasswordHasher } from '../../src/auth/passwords.ts';
import { keyedHash } from '../../src/auth/secrets.ts';
import {
  buildTestApp,
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  FAST_HASHER,
  TEST_SECRET,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';

const GENERIC_401 = {
  error: {
    code: 'INVALID_CREDENTIALS',
    message: 'El documento o la contraseña no son correctos. Revíselos e intente de nuevo.',
    fields: {},
  },
};

describe(`login through the API (${databaseLabel})`, () => {
  let database: TestDatabase;
  let t: TestApp;

  before(async () => {
    database = await createTestDatabase();
    t = await buildTestApp({ database });
  });
  after(async () => {
    await t.close();
    await database.close();
  });

  /** Every request of this file goes through here: none may ever answer 5xx. */
  async function send(options: InjectOptions, app = t.app): Promise<LightMyRequestResponse> {
    const response = await app.inject(options);
    assert.ok(
      response.statusCode < 500,
      `${options.method} ${options.url} answered ${response.statusCode}: ${response.body}`,
    );
    return response;
  }

  const logIn = (body: Record<string, unknown>, app = t.app) =>
    send({ method: 'POST', url: '/api/v1/login', payload: body }, app);

  const me = (token: string) =>
    send({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });

  async function tokenFor(document: string, password = 'clave2026'): Promise<string> {
    const response = await logIn({ document, password });
    assert.equal(response.statusCode, 200, response.body);
    return response.json().token;
  }

  it('logs in with document and password and answers a bearer token, its expiry and the member', async () => {
    const member = await createMember(t.db, { firstName: 'Lucía', lastName: 'Fernández' });
    const response = await logIn({ document: member.document, password: 'clave2026' });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    const body = response.json();
    assert.deepEqual(Object.keys(body).sort(), ['deviceToken', 'expiresAt', 'member', 'token']);
    assert.match(body.token, /^[A-Za-z0-9_-]{43}$/);
    // The absolute limit: 12 hours after the (fake) now.
    assert.equal(body.expiresAt, new Date(t.clock.now().getTime() + 12 * 3_600_000).toISOString());
    assert.deepEqual(body.member, {
      document: member.document,
      memberNumber: member.member_number,
      firstName: 'Lucía',
      lastName: 'Fernández',
    });

    const answer = await me(body.token);
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(answer.json(), body.member);
  });

  it('keeps only the hash of the token in the database', async () => {
    const member = await createMember(t.db);
    const token = await tokenFor(member.document);
    const rows = await t.db
      .selectFrom('sessions')
      .selectAll()
      .where('member_id', '=', member.id)
      .execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.kind, 'api');
    assert.notEqual(rows[0]?.id_hash, token);
    assert.ok(!JSON.stringify(rows).includes(token));
  });

  it('gives the same 401 for a wrong password, an unknown document, an inactive member and a member without password', async () => {
    const active = await createMember(t.db);
    const inactive = await createMember(t.db, { status: 'inactive' });
    const unregistered = await createMember(t.db, { password: null });

    const answers = [
      await logIn({ document: active.document, password: 'otra2026' }),
      await logIn({ document: '7654321', password: 'clave2026' }),
      await logIn({ document: inactive.document, password: 'clave2026' }),
      await logIn({ document: unregistered.document, password: 'clave2026' }),
    ];
    for (const answer of answers) {
      assert.equal(answer.statusCode, 401);
      assert.deepEqual(answer.json(), GENERIC_401);
    }
    const bodies = new Set(answers.map((a) => a.body));
    assert.equal(bodies.size, 1, `bodies differ: ${[...bodies].join(' | ')}`);
    const lengths = new Set(answers.map((a) => a.headers['content-length']));
    assert.equal(lengths.size, 1);
  });

  it('asks for the document and the password in Spanish when they are empty', async () => {
    const response = await logIn({ document: '', password: '' });
    assert.equal(response.statusCode, 400);
    const { error } = response.json();
    assert.equal(error.code, 'VALIDATION_FAILED');
    assert.equal(error.fields.document, 'Ingrese su N° de documento.');
    assert.equal(error.fields.password, 'Ingrese su contraseña.');

    const missing = await logIn({});
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error.fields.document, 'Este dato es obligatorio.');
    assert.equal(missing.json().error.fields.password, 'Este dato es obligatorio.');
  });

  it('says kindly that the check digit was included, naming the document without it', async () => {
    await createMember(t.db, { document: '1234567' });
    const response = await logIn({ document: '12345672', password: 'clave2026' });
    assert.equal(response.statusCode, 400);
    const { error } = response.json();
    assert.equal(error.code, 'DOCUMENT_HAS_CHECK_DIGIT');
    assert.match(error.message, /dígito verificador/);
    assert.match(error.message, /1234567\b/);
    assert.match(error.fields.document, /1234567\b/);

    // Eight digits that do not end in their check digit are just unknown.
    const other = await logIn({ document: '12345673', password: 'clave2026' });
    assert.equal(other.statusCode, 401);
    assert.deepEqual(other.json(), GENERIC_401);
  });

  it('accepts a document typed with dots, dashes or spaces', async () => {
    const member = await createMember(t.db, { document: '2345678' });
    for (const typed of ['2.345.678', '2 345 678', ' 2345678 ']) {
      const response = await logIn({ document: typed, password: 'clave2026' });
      assert.equal(response.statusCode, 200, `${typed}: ${response.body}`);
      assert.equal(response.json().member.document, member.document);
    }
  });

  it('ends the token sent along with a new login, and only after the login succeeds', async () => {
    const member = await createMember(t.db);
    const old = await tokenFor(member.document);
    const failed = await send({
      method: 'POST',
      url: '/api/v1/login',
      headers: { authorization: `Bearer ${old}` },
      payload: { document: member.document, password: 'Equivocada9' },
    });
    assert.equal(failed.statusCode, 401);
    assert.equal((await me(old)).statusCode, 200, 'a failed login ends nothing');
    const renewed = await send({
      method: 'POST',
      url: '/api/v1/login',
      headers: { authorization: `Bearer ${old}` },
      payload: { document: member.document, password: 'clave2026' },
    });
    assert.equal(renewed.statusCode, 200);
    const fresh = renewed.json().token as string;
    assert.notEqual(fresh, old);
    assert.equal((await me(old)).statusCode, 401, 'the old token is over');
    assert.equal((await me(fresh)).statusCode, 200);
  });

  it('logs out with 204, after which the token gets 401', async () => {
    const member = await createMember(t.db);
    const token = await tokenFor(member.document);
    const logout = await send({
      method: 'POST',
      url: '/api/v1/logout',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(logout.statusCode, 204);
    assert.equal(logout.body, '');

    const after = await me(token);
    assert.equal(after.statusCode, 401);
    assert.equal(after.json().error.code, 'UNAUTHENTICATED');
    const again = await send({
      method: 'POST',
      url: '/api/v1/logout',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(again.statusCode, 401);
  });

  it('refuses a missing, malformed or made-up bearer token', async () => {
    for (const authorization of [
      undefined,
      'Bearer',
      'Basic dXNlcjpwYXNz',
      `Bearer ${'A'.repeat(43)}`,
    ]) {
      const response = await send({
        method: 'GET',
        url: '/api/v1/me',
        headers: authorization ? { authorization } : {},
      });
      assert.equal(response.statusCode, 401, String(authorization));
      assert.equal(response.json().error.code, 'UNAUTHENTICATED');
    }
  });

  it('does not accept a web session cookie token as a bearer token, nor a bearer token as a cookie', async () => {
    const member = await createMember(t.db);
    const page = await send({
      method: 'POST',
      url: '/ingresar',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ document: member.document, password: 'clave2026' }).toString(),
    });
    assert.equal(page.statusCode, 303);
    const webToken = /(?:^|; )sid=([^;]*)/.exec(cookieFrom(page))?.[1] ?? '';
    assert.match(webToken, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await me(webToken)).statusCode, 401);

    const apiToken = await tokenFor(member.document);
    const home = await send({
      method: 'GET',
      url: '/inicio',
      headers: { cookie: `sid=${apiToken}` },
    });
    assert.equal(home.statusCode, 303);
    assert.notEqual(home.headers.location, '/inicio');
    // Both sessions are still good for their own channel.
    assert.equal((await me(apiToken)).statusCode, 200);
    const web = await send({
      method: 'GET',
      url: '/inicio',
      headers: { cookie: cookieFrom(page) },
    });
    assert.equal(web.statusCode, 200);
  });

  describe('session timeouts', () => {
    it('ends a session left idle for more than 30 minutes', async () => {
      const member = await createMember(t.db);
      const token = await tokenFor(member.document);
      t.clock.advanceMinutes(29);
      assert.equal((await me(token)).statusCode, 200, 'still alive after 29 minutes');
      t.clock.advanceMinutes(31);
      const response = await me(token);
      assert.equal(response.statusCode, 401);
      assert.equal(response.json().error.code, 'UNAUTHENTICATED');
      const rows = await t.db
        .selectFrom('sessions')
        .select('id_hash')
        .where('member_id', '=', member.id)
        .execute();
      assert.equal(rows.length, 0, 'the expired session is deleted');
    });

    it('slides the idle deadline with use, until the absolute limit of 12 hours', async () => {
      const member = await createMember(t.db);
      const token = await tokenFor(member.document);
      // Used every 20 minutes: alive at 20, 40, …, 700 minutes (11 h 40 min).
      for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
        t.clock.advanceMinutes(20);
        const response = await me(token);
        assert.equal(response.statusCode, 200, `alive after ${minutes} minutes`);
      }
      t.clock.advanceMinutes(20); // 12 h since login
      assert.equal((await me(token)).statusCode, 401, 'over at 12 hours, however busy');
    });
  });

  describe('bad requests', () => {
    it('answers 400 MALFORMED_BODY in the error shape for malformed JSON', async () => {
      const response = await send({
        method: 'POST',
        url: '/api/v1/login',
        headers: { 'content-type': 'application/json' },
        payload: '{"document": "1234567", "password": ',
      });
      assert.equal(response.statusCode, 400);
      assert.deepEqual(response.json(), {
        error: {
          code: 'MALFORMED_BODY',
          message: 'No pudimos leer los datos enviados.',
          fields: {},
        },
      });
    });

    it('answers 400 for a JSON body that is not an object or has unknown fields', async () => {
      for (const payload of [
        '[]',
        'null',
        '"1234567"',
        '{"document":"1","password":"x","admin":true}',
      ]) {
        const response = await send({
          method: 'POST',
          url: '/api/v1/login',
          headers: { 'content-type': 'application/json' },
          payload,
        });
        assert.equal(response.statusCode, 400, payload);
        assert.equal(typeof response.json().error.message, 'string');
      }
    });

    it('answers 413 for a body over 16 KiB', async () => {
      const response = await logIn({ document: '1234567', password: 'x'.repeat(17 * 1024) });
      assert.equal(response.statusCode, 413);
      assert.equal(response.json().error.code, 'BODY_TOO_LARGE');
    });

    it('answers 415 for a body that is not JSON', async () => {
      for (const [type, payload] of [
        ['application/xml', '<login/>'],
        ['text/plain', 'document=1234567&password=clave2026'],
        ['application/x-www-form-urlencoded', 'document=1234567&password=clave2026'],
      ] as const) {
        const response = await send({
          method: 'POST',
          url: '/api/v1/login',
          headers: { 'content-type': type },
          payload,
        });
        assert.equal(response.statusCode, 415, `${type}: ${response.body}`);
        assert.equal(response.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');
      }
      // A percent-encoded address that routes to the API is the API as well.
      const encoded = await send({
        method: 'POST',
        url: '/%61pi/v1/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: '_csrf=&document=1234567&password=clave2026',
      });
      assert.equal(encoded.statusCode, 415, encoded.body);
      assert.equal(encoded.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('answers 404 in JSON for an unknown API address', async () => {
      for (const [method, url] of [
        ['GET', '/api/v1/nothing'],
        ['POST', '/api/v2/login'],
        ['GET', '/api/v1/login'],
      ] as const) {
        const response = await send({ method, url });
        assert.equal(response.statusCode, 404, `${method} ${url}`);
        assert.match(String(response.headers['content-type']), /^application\/json/);
        assert.equal(response.json().error.code, 'NOT_FOUND');
        assert.equal(response.json().error.message, 'No encontramos lo que buscaba.');
      }
    });
  });

  it('describes the API in OpenAPI at /api/openapi.json', async () => {
    const response = await send({ method: 'GET', url: '/api/openapi.json' });
    assert.equal(response.statusCode, 200);
    const document = response.json();
    assert.match(document.openapi, /^3\./);
    const paths = Object.keys(document.paths);
    for (const path of ['/api/v1/captcha', '/api/v1/login', '/api/v1/logout', '/api/v1/me'])
      assert.ok(paths.includes(path), `${path} missing from ${paths.join(', ')}`);
    // Pages and operations endpoints are not part of the API's description.
    assert.ok(
      paths.every((path) => path.startsWith('/api/v1/')),
      paths.join(', '),
    );
    assert.ok(document.paths['/api/v1/login'].post.requestBody);
    assert.ok(document.paths['/api/v1/me'].get.security);
  });

  it('re-hashes a password stored with other argon2 parameters at login', async () => {
    const member = await createMember(t.db, {}, FAST_HASHER);
    assert.match(member.password_hash ?? '', /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    const stronger = new PasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 });
    const upgraded = await buildTestApp({ database, hasher: stronger });
    try {
      const response = await logIn(
        { document: member.document, password: 'clave2026' },
        upgraded.app,
      );
      assert.equal(response.statusCode, 200);
      const row = await t.db
        .selectFrom('members')
        .select('password_hash')
        .where('id', '=', member.id)
        .executeTakeFirstOrThrow();
      assert.match(row.password_hash ?? '', /^\$argon2id\$v=19\$m=2048,t=2,p=1\$/);
      assert.equal(await stronger.verify(row.password_hash ?? '', 'clave2026'), true);
      const audit = await t.db
        .selectFrom('audit_events')
        .select(['type', 'outcome'])
        .where('member_id', '=', member.id)
        .where('type', '=', 'password_rehashed')
        .execute();
      assert.deepEqual(audit, [{ type: 'password_rehashed', outcome: 'ok' }]);

      // The next login needs no re-hash.
      const again = await logIn({ document: member.document, password: 'clave2026' }, upgraded.app);
      assert.equal(again.statusCode, 200);
      const count = await t.db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('member_id', '=', member.id)
        .where('type', '=', 'password_rehashed')
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 1);
    } finally {
      await upgraded.close();
    }
  });

  it('does not re-hash after a wrong password', async () => {
    const member = await createMember(t.db, {}, FAST_HASHER);
    const stronger = new PasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 });
    const upgraded = await buildTestApp({ database, hasher: stronger });
    try {
      const response = await logIn(
        { document: member.document, password: 'otra2026' },
        upgraded.app,
      );
      assert.equal(response.statusCode, 401);
      const row = await t.db
        .selectFrom('members')
        .select('password_hash')
        .where('id', '=', member.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.password_hash, member.password_hash);
    } finally {
      await upgraded.close();
    }
  });

  it('records logins, good and failed, in the audit trail without the password', async () => {
    const member = await createMember(t.db, { password: 'Secreta7x' });
    const since = t.clock.now();
    t.clock.advanceMinutes(1);
    await logIn({ document: member.document, password: 'Secreta7x' });
    await logIn({ document: member.document, password: 'Secreta8x' });
    await logIn({ document: '6543210', password: 'Secreta9x' });

    const rows = await t.db
      .selectFrom('audit_events')
      .select(['type', 'outcome', 'member_id', 'document_hash', 'channel', 'ip'])
      .where('at', '>', since)
      .where('type', '=', 'login')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.outcome, r.member_id, r.document_hash, r.channel]),
      [
        ['ok', member.id, null, 'api'],
        ['failed', member.id, keyedHash(TEST_SECRET, 'document', member.document), 'api'],
        ['failed', null, keyedHash(TEST_SECRET, 'document', '6543210'), 'api'],
      ],
    );
    for (const row of rows) assert.equal(row.ip, '127.0.0.1');

    // Scan the whole audit table as text: no password, nor the unknown document in clear.
    const text = await sql<{
      row: string;
    }>`select audit_events::text as row from audit_events`.execute(t.db);
    const all = text.rows.map((r) => r.row).join('\n');
    assert.ok(all.length > 0);
    for (const secret of [
      'Secreta7x',
      'Secreta8x',
      'Secreta9x',
      'clave2026',
      'otra2026',
      '6543210',
    ])
      assert.ok(!all.includes(secret), `audit_events contains ${secret}`);
  });
});
