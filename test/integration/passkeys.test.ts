// Passkeys (issue 14) through the real routes, on a real database, with a
// software authenticator that signs real answers: the API journey of the
// mobile app (create, list, log in, remove), the current password again for
// an old login, the limits, the pages' JSON calls with their CSRF header,
// the passkeys a password reset leaves, the OpenAPI document, and a portal
// on an IP address where passkeys are off. The attacks are in
// test/security/passkeys-attacks.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { keyedHash, openText } from '../../src/auth/secrets.ts';
import { OUTBOX_SEAL } from '../../src/courier/outbox.ts';
import type { Member } from '../../src/db/schema.ts';
import {
  LOGIN_CHALLENGES_PER_ADDRESS,
  MAX_PASSKEYS,
  renamePasskey,
} from '../../src/flows/passkeys/service.ts';
import {
  buildTestApp,
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  TEST_SECRET,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';
import { type CreationOptionsJSON, SoftAuthenticator } from '../helpers/authenticator.ts';

const ORIGIN = 'http://localhost:3000';
const RP_ID = 'localhost';
const GOOGLE_AAGUID = 'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4';
const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

/** app.inject that fails the test on any 5xx. */
async function send(t: TestApp, options: InjectOptions): Promise<LightMyRequestResponse> {
  const response = await t.app.inject(options);
  assert.ok(
    response.statusCode < 500,
    `${options.method} ${options.url} answered ${response.statusCode}: ${response.body}`,
  );
  return response;
}

function api(
  t: TestApp,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  options: { token?: string; payload?: unknown; ip?: string; userAgent?: string } = {},
) {
  return send(t, {
    method,
    url,
    remoteAddress: options.ip ?? '127.0.0.1',
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      'user-agent': options.userAgent ?? ANDROID_CHROME,
    },
    ...(options.payload !== undefined ? { payload: options.payload as object } : {}),
  });
}

async function tokenFor(t: TestApp, member: Member, password = 'clave2026'): Promise<string> {
  const response = await api(t, 'POST', '/api/v1/login', {
    payload: { document: member.document, password },
  });
  assert.equal(response.statusCode, 200, response.body);
  return response.json().token as string;
}

/** Options, the authenticator's answer, and the stored passkey, through the API. */
async function enrol(
  t: TestApp,
  token: string,
  authenticator: SoftAuthenticator,
): Promise<LightMyRequestResponse> {
  const options = await api(t, 'POST', '/api/v1/me/passkeys/options', { token, payload: {} });
  assert.equal(options.statusCode, 200, options.body);
  const answer = authenticator.register(options.json() as CreationOptionsJSON);
  return api(t, 'POST', '/api/v1/me/passkeys', { token, payload: answer });
}

async function loginWith(
  t: TestApp,
  authenticator: SoftAuthenticator,
  ip = '127.0.0.1',
): Promise<LightMyRequestResponse> {
  const options = await api(t, 'POST', '/api/v1/passkeys/login/options', { ip });
  assert.equal(options.statusCode, 200, options.body);
  return api(t, 'POST', '/api/v1/passkeys/login', {
    ip,
    payload: authenticator.authenticate(options.json()),
  });
}

async function lastAudit(t: TestApp, type: string, memberId?: number) {
  let query = t.db
    .selectFrom('audit_events')
    .select(['type', 'outcome', 'member_id', 'channel', 'detail', 'actor_kind'])
    .where('type', '=', type);
  if (memberId !== undefined) query = query.where('member_id', '=', memberId);
  return query.orderBy('id', 'desc').executeTakeFirstOrThrow();
}

/** The newest message of a template queued for a member, opened. */
async function lastMessage(t: TestApp, memberId: number, template: string) {
  const row = await t.db
    .selectFrom('outbox')
    .select(['recipient', 'payload', 'template'])
    .where('member_id', '=', memberId)
    .where('template', '=', template)
    .orderBy('id', 'desc')
    .executeTakeFirst();
  if (!row) return undefined;
  const message = JSON.parse(openText(TEST_SECRET, OUTBOX_SEAL, row.payload ?? '')) as {
    to: string;
    content: { subject: string; text: string; html: string };
  };
  return { recipient: row.recipient, ...message };
}

const passkeyCount = async (t: TestApp, memberId: number) =>
  (await t.db.selectFrom('passkeys').select('id').where('member_id', '=', memberId).execute())
    .length;

describe(`passkeys through the API (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ database });
  });
  after(async () => {
    await t.close();
  });

  it('creates a passkey in a fresh session, lists it, emails the notice, logs in with it alone and stops once it is removed', async () => {
    const member = await createMember(t.db, { firstName: 'Lucía', lastName: 'Fernández' });
    const token = await tokenFor(t, member);
    const phone = new SoftAuthenticator(ORIGIN, RP_ID, { aaguid: GOOGLE_AAGUID });

    // A login of a moment ago: no password asked for.
    const options = await api(t, 'POST', '/api/v1/me/passkeys/options', { token, payload: {} });
    assert.equal(options.statusCode, 200, options.body);
    const creation = options.json();
    assert.equal(creation.rp.id, RP_ID);
    assert.equal(creation.user.name, member.document);
    assert.equal(creation.user.displayName, 'Lucía Fernández');
    assert.equal(creation.authenticatorSelection.residentKey, 'required');
    assert.equal(creation.authenticatorSelection.userVerification, 'required');
    assert.equal(creation.attestation, 'none');
    assert.deepEqual(creation.excludeCredentials, []);
    // The user handle: 32 opaque bytes, never the document or the member's number.
    assert.equal(Buffer.from(creation.user.id, 'base64url').length, 32);
    assert.ok(!creation.user.id.includes(member.document));
    assert.ok(!JSON.stringify(creation).includes(member.member_number));
    // The challenge is kept as a hash only, for this member, five minutes.
    const stored = await t.db
      .selectFrom('webauthn_challenges')
      .selectAll()
      .where('member_id', '=', member.id)
      .execute();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.purpose, 'register');
    assert.notEqual(stored[0]?.challenge_hash, creation.challenge);
    assert.equal(
      stored[0]?.expires_at.getTime(),
      t.clock.now().getTime() + 5 * 60_000,
      'five minutes to answer',
    );

    const created = await api(t, 'POST', '/api/v1/me/passkeys', {
      token,
      payload: phone.register(creation),
    });
    assert.equal(created.statusCode, 201, created.body);
    const view = created.json();
    assert.deepEqual(view, {
      id: phone.id,
      name: 'Gestor de contraseñas de Google',
      createdAt: t.clock.now().toISOString(),
      lastUsedAt: null,
      synced: true,
    });
    assert.equal(
      (await t.db.selectFrom('webauthn_challenges').select('purpose').execute()).length,
      0,
      'the challenge is used up',
    );
    const row = await t.db
      .selectFrom('passkeys')
      .selectAll()
      .where('id', '=', phone.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.member_id, member.id);
    assert.equal(row.device_type, 'multiDevice');
    assert.equal(row.backed_up, true);
    assert.equal(row.aaguid, GOOGLE_AAGUID);
    assert.deepEqual(JSON.parse(row.transports), ['internal', 'hybrid']);
    assert.equal(Number(row.counter), 0);

    const list = await api(t, 'GET', '/api/v1/me/passkeys', { token });
    assert.equal(list.statusCode, 200);
    assert.deepEqual(list.json(), [view]);

    const notice = await lastMessage(t, member.id, 'passkey-added');
    assert.ok(notice, 'the notice is queued in the outbox');
    assert.equal(notice.recipient, member.email);
    assert.equal(notice.content.subject, 'Se agregó una llave de acceso a su cuenta');
    assert.match(notice.content.text, /«Gestor de contraseñas de Google»/);

    const added = await lastAudit(t, 'passkey_added', member.id);
    assert.equal(added.outcome, 'ok');
    assert.equal(added.channel, 'api');
    assert.equal(added.actor_kind, 'member');
    assert.deepEqual(added.detail, { passkey: phone.id.slice(0, 12), synced: true });

    // Logging in: no document, no password, no CAPTCHA.
    t.clock.advanceMinutes(1);
    const loginOptions = await api(t, 'POST', '/api/v1/passkeys/login/options', {});
    assert.equal(loginOptions.statusCode, 200, loginOptions.body);
    const request = loginOptions.json();
    assert.equal(request.rpId, RP_ID);
    assert.equal(request.userVerification, 'required');
    assert.deepEqual(request.allowCredentials ?? [], [], 'discoverable: no credential list');
    const login = await api(t, 'POST', '/api/v1/passkeys/login', {
      payload: phone.authenticate(request),
    });
    assert.equal(login.statusCode, 200, login.body);
    const body = login.json();
    assert.deepEqual(Object.keys(body).sort(), ['deviceToken', 'expiresAt', 'member', 'token']);
    assert.deepEqual(body.member, {
      document: member.document,
      memberNumber: member.member_number,
      firstName: 'Lucía',
      lastName: 'Fernández',
    });
    const me = await api(t, 'GET', '/api/v1/me', { token: body.token });
    assert.equal(me.statusCode, 200);
    assert.deepEqual(me.json(), body.member);
    const sessions = await t.db
      .selectFrom('sessions')
      .select(['kind'])
      .where('member_id', '=', member.id)
      .execute();
    assert.deepEqual(
      sessions.map((s) => s.kind),
      ['api', 'api'],
      'the password login’s session and the passkey login’s, both API sessions',
    );
    const ok = await lastAudit(t, 'login', member.id);
    assert.equal(ok.outcome, 'ok');
    assert.deepEqual(ok.detail, { method: 'passkey', passkey: phone.id.slice(0, 12) });
    const used = await api(t, 'GET', '/api/v1/me/passkeys', { token: body.token });
    assert.equal(used.json()[0].lastUsedAt, t.clock.now().toISOString());

    const removed = await api(t, 'DELETE', `/api/v1/me/passkeys/${phone.id}`, {
      token: body.token,
    });
    assert.equal(removed.statusCode, 204, removed.body);
    assert.equal(await passkeyCount(t, member.id), 0);
    const removal = await lastAudit(t, 'passkey_removed', member.id);
    assert.equal(removal.outcome, 'ok');
    assert.deepEqual(removal.detail, { passkey: phone.id.slice(0, 12) });
    const again = await api(t, 'DELETE', `/api/v1/me/passkeys/${phone.id}`, {
      token: body.token,
    });
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().error.code, 'PASSKEY_NOT_FOUND');

    const refused = await loginWith(t, phone);
    assert.equal(refused.statusCode, 400);
    assert.deepEqual(refused.json().error, {
      code: 'PASSKEY_UNKNOWN',
      message:
        'Esa llave de acceso no está registrada en el portal (puede haber sido eliminada). Ingrese con su documento y contraseña.',
      fields: {},
    });
    const unknown = await lastAudit(t, 'login');
    assert.equal(unknown.outcome, 'failed');
    assert.equal(unknown.member_id, null);
    assert.deepEqual(unknown.detail, { method: 'passkey', reason: 'unknown_credential' });
  });

  it('names a passkey of an unknown provider after the app and system it was created on, and keeps the authenticator counter', async () => {
    const member = await createMember(t.db);
    const token = await tokenFor(t, member);
    const key = new SoftAuthenticator(ORIGIN, RP_ID, { startCounter: 7 });
    const created = await enrol(t, token, key);
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().name, 'App del Portal en Android');
    const login = await loginWith(t, key);
    assert.equal(login.statusCode, 200, login.body);
    const row = await t.db
      .selectFrom('passkeys')
      .select(['counter'])
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow();
    assert.equal(Number(row.counter), 8, 'the counter moved on with the login');
  });

  it('offers a member’s existing passkeys as excluded when creating another', async () => {
    const member = await createMember(t.db);
    const token = await tokenFor(t, member);
    const first = new SoftAuthenticator(ORIGIN, RP_ID);
    assert.equal((await enrol(t, token, first)).statusCode, 201);
    const options = await api(t, 'POST', '/api/v1/me/passkeys/options', { token, payload: {} });
    assert.deepEqual(
      options.json().excludeCredentials.map((c: { id: string }) => c.id),
      [first.id],
    );
  });

  it('renames a passkey of the member only, with a name of up to 60 characters, audited', async () => {
    const member = await createMember(t.db);
    const other = await createMember(t.db);
    const token = await tokenFor(t, member);
    const key = new SoftAuthenticator(ORIGIN, RP_ID);
    assert.equal((await enrol(t, token, key)).statusCode, 201);
    // Renaming is a form of the page (not a JSON call): the service's rules, with a real session.
    const session = await t.db
      .selectFrom('sessions')
      .selectAll()
      .where('member_id', '=', member.id)
      .executeTakeFirstOrThrow();
    const context = {
      ip: '127.0.0.1',
      userAgent: ANDROID_CHROME,
      channel: 'web' as const,
      deviceToken: null,
    };
    const renamed = await renamePasskey(
      t.deps.flow,
      { member, session },
      key.id,
      '  Teléfono   de Lucía ',
      context,
    );
    assert.equal(renamed.name, 'Teléfono de Lucía');
    const audit = await lastAudit(t, 'passkey_renamed', member.id);
    assert.deepEqual(audit.detail, { passkey: key.id.slice(0, 12) });
    await assert.rejects(
      renamePasskey(t.deps.flow, { member, session }, key.id, ' ', context),
      (error: { code: string; fields: Record<string, string> }) =>
        error.code === 'VALIDATION_FAILED' &&
        error.fields.name === 'Escriba un nombre para la llave de acceso.',
    );
    await assert.rejects(
      renamePasskey(t.deps.flow, { member, session }, key.id, 'x'.repeat(61), context),
      (error: { fields: Record<string, string> }) =>
        error.fields.name === 'Use un nombre de hasta 60 caracteres.',
    );
    const otherSession = { ...session, member_id: other.id };
    await assert.rejects(
      renamePasskey(t.deps.flow, { member: other, session: otherSession }, key.id, 'Mío', context),
      (error: { code: string }) => error.code === 'PASSKEY_NOT_FOUND',
    );
    const row = await t.db
      .selectFrom('passkeys')
      .select('name')
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.name, 'Teléfono de Lucía');
  });

  it('answers 401 to every member call without a live session', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/me/passkeys'],
      ['POST', '/api/v1/me/passkeys/options'],
      ['POST', '/api/v1/me/passkeys'],
      ['DELETE', '/api/v1/me/passkeys/abc'],
    ] as const) {
      // A body the schema takes: the guard, not the validation, answers.
      const payload = url.endsWith('/passkeys')
        ? { id: 'abc', rawId: 'abc', type: 'public-key', response: {} }
        : {};
      const response = await api(t, method, url, {
        token: 'not-a-token',
        ...(method === 'POST' ? { payload } : {}),
      });
      assert.equal(response.statusCode, 401, `${method} ${url}`);
      assert.equal(response.json().error.code, 'UNAUTHENTICATED');
    }
  });

  describe('a login older than five minutes', () => {
    it('asks for the current password: missing, wrong (counted and audited like a failed login), right', async () => {
      const member = await createMember(t.db);
      const token = await tokenFor(t, member);
      // The session stays alive (30 minutes idle) while it grows old.
      t.clock.advanceMinutes(4);
      assert.equal((await api(t, 'GET', '/api/v1/me', { token })).statusCode, 200);
      t.clock.advanceMinutes(2);

      const missing = await api(t, 'POST', '/api/v1/me/passkeys/options', { token, payload: {} });
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().error.code, 'VALIDATION_FAILED');
      assert.deepEqual(missing.json().error.fields, {
        currentPassword: 'Ingrese su contraseña actual.',
      });

      const wrong = await api(t, 'POST', '/api/v1/me/passkeys/options', {
        token,
        payload: { currentPassword: 'otra2026' },
      });
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().error.code, 'CURRENT_PASSWORD_WRONG');
      assert.equal(wrong.json().error.message, 'La contraseña actual no es correcta.');
      const audit = await lastAudit(t, 'passkey_added', member.id);
      assert.equal(audit.outcome, 'failed');
      assert.deepEqual(audit.detail, { step: 'options', reason: 'current_password' });
      const lockout = await t.db
        .selectFrom('account_lockouts')
        .select(['failures'])
        .where('document_hash', '=', keyedHash(TEST_SECRET, 'document', member.document))
        .executeTakeFirstOrThrow();
      assert.equal(lockout.failures, 1, 'counted as a failed login of the account');
      assert.equal(
        (
          await t.db
            .selectFrom('webauthn_challenges')
            .select('purpose')
            .where('member_id', '=', member.id)
            .execute()
        ).length,
        0,
        'no challenge for a wrong password',
      );

      const right = await api(t, 'POST', '/api/v1/me/passkeys/options', {
        token,
        payload: { currentPassword: 'clave2026' },
      });
      assert.equal(right.statusCode, 200, right.body);
      const key = new SoftAuthenticator(ORIGIN, RP_ID);
      const created = await api(t, 'POST', '/api/v1/me/passkeys', {
        token,
        payload: key.register(right.json()),
      });
      assert.equal(created.statusCode, 201, created.body);
      const cleared = await t.db
        .selectFrom('account_lockouts')
        .select(['failures'])
        .where('document_hash', '=', keyedHash(TEST_SECRET, 'document', member.document))
        .executeTakeFirstOrThrow();
      assert.equal(cleared.failures, 0, 'the right password clears the count, as a login does');
    });

    it('locks the check after the login’s free failures, as a login', async () => {
      const member = await createMember(t.db);
      const token = await tokenFor(t, member);
      t.clock.advanceMinutes(6);
      const answers: number[] = [];
      for (let i = 0; i < 6; i += 1) {
        const response = await api(t, 'POST', '/api/v1/me/passkeys/options', {
          token,
          payload: { currentPassword: `mala${i}2026` },
        });
        answers.push(response.statusCode);
      }
      assert.deepEqual(answers.slice(0, 5), [400, 400, 400, 400, 400]);
      assert.equal(answers[5], 429, 'the sixth waits');
      const login = await api(t, 'POST', '/api/v1/login', {
        payload: { document: member.document, password: 'clave2026' },
      });
      assert.equal(login.statusCode, 429, 'and so does the password login of that account');
    });
  });

  describe('limits', () => {
    it(`refuses an eleventh passkey (PASSKEY_LIMIT), also when two were started at ${MAX_PASSKEYS - 1}`, async () => {
      assert.equal(MAX_PASSKEYS, 10);
      const member = await createMember(t.db);
      const token = await tokenFor(t, member);
      for (let i = 0; i < MAX_PASSKEYS - 1; i += 1)
        assert.equal((await enrol(t, token, new SoftAuthenticator(ORIGIN, RP_ID))).statusCode, 201);
      // Two creations started while there is room for one.
      const first = await api(t, 'POST', '/api/v1/me/passkeys/options', { token, payload: {} });
      const second = await api(t, 'POST', '/api/v1/me/passkeys/options', { token, payload: {} });
      assert.equal(first.statusCode, 200);
      assert.equal(second.statusCode, 200);
      const a = new SoftAuthenticator(ORIGIN, RP_ID);
      const b = new SoftAuthenticator(ORIGIN, RP_ID);
      const madeA = await api(t, 'POST', '/api/v1/me/passkeys', {
        token,
        payload: a.register(first.json()),
      });
      assert.equal(madeA.statusCode, 201, madeA.body);
      const madeB = await api(t, 'POST', '/api/v1/me/passkeys', {
        token,
        payload: b.register(second.json()),
      });
      assert.equal(madeB.statusCode, 409);
      assert.deepEqual(madeB.json().error, {
        code: 'PASSKEY_LIMIT',
        message:
          'Su cuenta ya tiene el máximo de llaves de acceso. Elimine una que no use para agregar otra.',
        fields: {},
      });
      assert.equal(await passkeyCount(t, member.id), MAX_PASSKEYS);

      const more = await api(t, 'POST', '/api/v1/me/passkeys/options', { token, payload: {} });
      assert.equal(more.statusCode, 409);
      assert.equal(more.json().error.code, 'PASSKEY_LIMIT');
      const notices = await t.db
        .selectFrom('outbox')
        .select('id')
        .where('member_id', '=', member.id)
        .where('template', '=', 'passkey-added')
        .execute();
      assert.equal(
        notices.length,
        MAX_PASSKEYS,
        'one notice per passkey stored, none for the refused',
      );
    });

    it('waits (429, Retry-After) after the address’s failed passkey logins, for good answers too, and not elsewhere', async () => {
      const limited = await buildTestApp({
        database,
        env: { LOGIN_FAILURES_PER_ADDRESS: '3/15m' },
      });
      try {
        const member = await createMember(limited.db);
        const token = await tokenFor(limited, member);
        const key = new SoftAuthenticator(ORIGIN, RP_ID);
        assert.equal((await enrol(limited, token, key)).statusCode, 201);
        const stranger = new SoftAuthenticator(ORIGIN, RP_ID);
        const ip = '203.0.113.77';
        for (let i = 0; i < 3; i += 1) {
          const refused = await loginWith(limited, stranger, ip);
          assert.equal(refused.statusCode, 400);
          assert.equal(refused.json().error.code, 'PASSKEY_UNKNOWN');
        }
        const waiting = await loginWith(limited, key, ip);
        assert.equal(waiting.statusCode, 429);
        assert.equal(waiting.json().error.code, 'LOGIN_THROTTLED');
        const seconds = Number(waiting.headers['retry-after']);
        assert.ok(
          seconds > 0 && seconds <= 15 * 60,
          `Retry-After ${waiting.headers['retry-after']}`,
        );
        assert.match(waiting.json().error.message, /Espere \d+ minutos?/);
        const audit = await lastAudit(limited, 'throttled');
        assert.equal(audit.outcome, 'refused');
        assert.deepEqual(audit.detail, {
          limit: 'passkey_failures_per_address',
          retryAfter: seconds,
        });

        const elsewhere = await loginWith(limited, key, '198.51.100.9');
        assert.equal(elsewhere.statusCode, 200, elsewhere.body);
        limited.clock.advance(seconds * 1000);
        const later = await loginWith(limited, key, ip);
        assert.equal(later.statusCode, 200, later.body);
      } finally {
        await limited.close();
      }
    });

    it(`hands out at most ${LOGIN_CHALLENGES_PER_ADDRESS.limit} login challenges per address in 15 minutes`, async () => {
      const ip = '203.0.113.200';
      const { limit, windowMs } = LOGIN_CHALLENGES_PER_ADDRESS;
      const first = await api(t, 'POST', '/api/v1/passkeys/login/options', { ip });
      assert.equal(first.statusCode, 200);
      // The address's counter, found by the address rather than by its key's
      // spelling, moved on to the last allowed one: a loop of 600 requests
      // would prove the same in seconds more.
      const counters = await t.db
        .selectFrom('rate_counters')
        .select(['key', 'count'])
        .where('key', 'like', `passkey%${ip}`)
        .execute();
      assert.equal(counters.length, 1, JSON.stringify(counters));
      assert.equal(counters[0]?.count, 1);
      await t.db
        .updateTable('rate_counters')
        .set({ count: limit - 1 })
        .where('key', '=', counters[0]?.key ?? '')
        .execute();
      const last = await api(t, 'POST', '/api/v1/passkeys/login/options', { ip });
      assert.equal(last.statusCode, 200, `the ${limit}th is handed out`);
      const challenges = await t.db.selectFrom('webauthn_challenges').select('purpose').execute();
      const refused = await api(t, 'POST', '/api/v1/passkeys/login/options', { ip });
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.json().error.code, 'LOGIN_THROTTLED');
      assert.ok(Number(refused.headers['retry-after']) > 0);
      assert.equal(
        (await t.db.selectFrom('webauthn_challenges').select('purpose').execute()).length,
        challenges.length,
        'no challenge stored for a refused request',
      );
      const other = await api(t, 'POST', '/api/v1/passkeys/login/options', {
        ip: '203.0.113.201',
      });
      assert.equal(other.statusCode, 200, 'another address is not affected');
      t.clock.advance(windowMs);
      const next = await api(t, 'POST', '/api/v1/passkeys/login/options', { ip });
      assert.equal(next.statusCode, 200, 'a new window, new challenges');
    });
  });

  it('keeps the passkeys after a password reset, and the notice says how many', async () => {
    const member = await createMember(t.db);
    const bare = await createMember(t.db);
    const token = await tokenFor(t, member);
    const key = new SoftAuthenticator(ORIGIN, RP_ID);
    assert.equal((await enrol(t, token, key)).statusCode, 201);

    for (const who of [member, bare]) {
      const asked = await api(t, 'POST', '/api/v1/password-requests', {
        payload: { document: who.document, channel: 'email' },
      });
      assert.ok(asked.statusCode < 300, asked.body);
      const link = await lastMessage(t, who.id, 'password-request');
      assert.ok(link, 'the link is queued');
      const resetToken = /[?&]token=([A-Za-z0-9_-]+)/.exec(link.content.text)?.[1];
      assert.ok(resetToken, 'the email carries the link');
      const set = await api(t, 'POST', '/api/v1/password', {
        payload: { token: resetToken, password: 'nueva2027', passwordConfirmation: 'nueva2027' },
      });
      assert.equal(set.statusCode, 200, set.body);
    }

    assert.equal(await passkeyCount(t, member.id), 1, 'the passkey stays');
    const notice = await lastMessage(t, member.id, 'password-changed');
    assert.ok(notice);
    assert.match(notice.content.text, /Su cuenta sigue teniendo 1 llave de acceso;/);
    assert.match(notice.content.html, /1 llave de acceso/);
    const bareNotice = await lastMessage(t, bare.id, 'password-changed');
    assert.ok(bareNotice);
    assert.doesNotMatch(bareNotice.content.text, /llave/, 'no passkeys, nothing said');

    // The reset ended every session; the passkey still opens a new one.
    assert.equal((await api(t, 'GET', '/api/v1/me', { token })).statusCode, 401);
    const login = await loginWith(t, key);
    assert.equal(login.statusCode, 200, login.body);
  });

  it('lists the six passkey operations in the OpenAPI document', async () => {
    const response = await api(t, 'GET', '/api/openapi.json');
    assert.equal(response.statusCode, 200);
    const paths = response.json().paths as Record<string, Record<string, unknown>>;
    const operations = Object.entries(paths)
      .filter(([path]) => path.includes('passkeys'))
      .flatMap(([path, methods]) =>
        Object.keys(methods)
          .filter((m) => ['get', 'post', 'delete', 'put', 'patch'].includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      )
      .sort();
    assert.deepEqual(operations, [
      'DELETE /api/v1/me/passkeys/{id}',
      'GET /api/v1/me/passkeys',
      'POST /api/v1/me/passkeys',
      'POST /api/v1/me/passkeys/options',
      'POST /api/v1/passkeys/login',
      'POST /api/v1/passkeys/login/options',
    ]);
    const login = paths['/api/v1/passkeys/login'] as { post: { security?: unknown } };
    assert.equal(login.post.security, undefined, 'logging in needs no bearer');
    const list = paths['/api/v1/me/passkeys'] as { get: { security?: unknown[] } };
    assert.ok(list.get.security?.length, 'the member’s calls need a bearer');
  });
});

describe(`the pages’ passkey calls (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ database });
  });
  after(async () => {
    await t.close();
  });

  /** What a page's script holds: the CSRF cookie and the token of the page it runs in. */
  async function pageTokens(): Promise<{ cookie: string; token: string }> {
    const page = await send(t, { method: 'GET', url: '/' });
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    const cookie = cookieFrom(page)
      .split('; ')
      .find((c) => /^(?:__Host-)?csrf=/.test(c));
    assert.ok(token && cookie, 'the login page carries a CSRF token and cookie');
    return { cookie, token };
  }

  /**
   * A page script's fetch: JSON body, the token in x-csrf-token (unless
   * left out), cookies. The body goes as bytes so the test helper adds no
   * form field of its own.
   */
  function call(
    url: string,
    body: unknown,
    options: { csrf?: { cookie: string; token: string }; cookies?: string[] },
  ) {
    const cookies = [...(options.cookies ?? []), ...(options.csrf ? [options.csrf.cookie] : [])];
    return send(t, {
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/json',
        'user-agent': ANDROID_CHROME,
        ...(options.csrf ? { 'x-csrf-token': options.csrf.token } : {}),
        ...(cookies.length ? { cookie: cookies.join('; ') } : {}),
      },
      payload: Buffer.from(JSON.stringify(body)),
    });
  }

  const sessionCookie = (response: LightMyRequestResponse) =>
    cookieFrom(response)
      .split('; ')
      .find((c) => /^(?:__Host-)?(?:session|sid)=/.test(c));

  it('logs in with a passkey: the session cookie is set and the home opens', async () => {
    const member = await createMember(t.db);
    const key = new SoftAuthenticator(ORIGIN, RP_ID);
    assert.equal((await enrol(t, await tokenFor(t, member), key)).statusCode, 201);

    const csrf = await pageTokens();
    const options = await call('/ingresar/llave/opciones', {}, { csrf });
    assert.equal(options.statusCode, 200, options.body);
    const login = await call('/ingresar/llave', key.authenticate(options.json()), { csrf });
    assert.equal(login.statusCode, 200, login.body);
    assert.deepEqual(login.json(), { redirect: '/inicio' });
    const cookies = cookieFrom(login);
    assert.ok(cookies, 'cookies are set');
    const home = await send(t, { method: 'GET', url: '/inicio', headers: { cookie: cookies } });
    assert.equal(home.statusCode, 200, home.body.slice(0, 300));
    const kinds = await t.db
      .selectFrom('sessions')
      .select('kind')
      .where('member_id', '=', member.id)
      .execute();
    assert.deepEqual(kinds.map((s) => s.kind).sort(), ['api', 'web'], 'a web session opened');
    const audit = await lastAudit(t, 'login', member.id);
    assert.equal(audit.outcome, 'ok');
    assert.equal(audit.channel, 'web');

    // From the home: a second passkey (the session is fresh, no password).
    const createOptions = await call(
      '/mi-cuenta/llaves/opciones',
      {},
      { csrf, cookies: [cookies] },
    );
    assert.equal(createOptions.statusCode, 200, createOptions.body);
    const laptop = new SoftAuthenticator(ORIGIN, RP_ID);
    const created = await call('/mi-cuenta/llaves/nueva', laptop.register(createOptions.json()), {
      csrf,
      cookies: [cookies],
    });
    assert.equal(created.statusCode, 200, created.body);
    assert.deepEqual(created.json(), { passkey: { id: laptop.id, name: 'Chrome en Android' } });
    assert.equal(await passkeyCount(t, member.id), 2);
    assert.equal((await lastAudit(t, 'passkey_added', member.id)).channel, 'web');
  });

  it('answers a refusal as JSON with the Spanish message the script shows', async () => {
    const csrf = await pageTokens();
    const options = await call('/ingresar/llave/opciones', {}, { csrf });
    const stranger = new SoftAuthenticator(ORIGIN, RP_ID);
    const refused = await call('/ingresar/llave', stranger.authenticate(options.json()), { csrf });
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error.code, 'PASSKEY_UNKNOWN');
    assert.match(refused.json().error.message, /^Esa llave de acceso no está registrada/);
    assert.equal(sessionCookie(refused), undefined, 'no session');
  });

  it('refuses every call without the CSRF token (403), and asks for a session on Mi cuenta', async () => {
    const member = await createMember(t.db);
    const key = new SoftAuthenticator(ORIGIN, RP_ID);
    assert.equal((await enrol(t, await tokenFor(t, member), key)).statusCode, 201);
    const csrf = await pageTokens();
    const options = await call('/ingresar/llave/opciones', {}, { csrf });
    const answer = key.authenticate(options.json());

    for (const url of [
      '/ingresar/llave/opciones',
      '/ingresar/llave',
      '/mi-cuenta/llaves/opciones',
      '/mi-cuenta/llaves/nueva',
    ]) {
      const body = url === '/ingresar/llave' ? answer : {};
      const bare = await call(url, body, {});
      assert.equal(bare.statusCode, 403, `${url} without token or cookie`);
      const noHeader = await call(url, body, { cookies: [csrf.cookie] });
      assert.equal(noHeader.statusCode, 403, `${url} with the cookie but no token`);
      const otherToken = await pageTokens();
      const mixed = await call(url, body, {
        csrf: { cookie: csrf.cookie, token: `${otherToken.token.slice(0, -2)}xx` },
      });
      assert.equal(mixed.statusCode, 403, `${url} with a forged token`);
      const crossSite = await send(t, {
        method: 'POST',
        url,
        headers: {
          'content-type': 'application/json',
          origin: 'https://evil.example',
          'x-csrf-token': csrf.token,
          cookie: csrf.cookie,
        },
        payload: Buffer.from(JSON.stringify(body)),
      });
      assert.equal(crossSite.statusCode, 403, `${url} from another origin`);
    }
    assert.equal(
      (
        await t.db
          .selectFrom('sessions')
          .select('id_hash')
          .where('member_id', '=', member.id)
          .execute()
      ).length,
      1,
      'only the API login’s session',
    );
    // The refused login used nothing up: the answer still logs in with the token.
    const login = await call('/ingresar/llave', answer, { csrf });
    assert.equal(login.statusCode, 200, login.body);

    for (const url of ['/mi-cuenta/llaves/opciones', '/mi-cuenta/llaves/nueva']) {
      const anonymous = await call(url, {}, { csrf });
      assert.notEqual(anonymous.statusCode, 200, `${url} without a session`);
      assert.ok([303, 401].includes(anonymous.statusCode), `${url}: ${anonymous.statusCode}`);
    }
  });
});

describe(`a portal on an IP address (${databaseLabel})`, () => {
  it('has no passkeys: every options call answers 404 PASSKEYS_UNAVAILABLE', async () => {
    const t = await buildTestApp({ database, env: { PUBLIC_URL: 'http://127.0.0.1:3000' } });
    try {
      const member = await createMember(t.db);
      const token = await tokenFor(t, member);
      const challenges = async () =>
        (await t.db.selectFrom('webauthn_challenges').select('purpose').execute()).length;
      const before = await challenges();
      const expected = {
        code: 'PASSKEYS_UNAVAILABLE',
        message:
          'Las llaves de acceso no están disponibles en esta dirección del portal. Ingrese con su documento y contraseña.',
        fields: {},
      };
      const login = await api(t, 'POST', '/api/v1/passkeys/login/options', {});
      assert.equal(login.statusCode, 404);
      assert.deepEqual(login.json().error, expected);
      const create = await api(t, 'POST', '/api/v1/me/passkeys/options', { token, payload: {} });
      assert.equal(create.statusCode, 404);
      assert.deepEqual(create.json().error, expected);
      const key = new SoftAuthenticator('http://127.0.0.1:3000', '127.0.0.1');
      const answer = key.authenticate({ challenge: 'AAAA', rpId: '127.0.0.1' });
      const post = await api(t, 'POST', '/api/v1/passkeys/login', { payload: answer });
      assert.equal(post.statusCode, 404);
      assert.equal(post.json().error.code, 'PASSKEYS_UNAVAILABLE');
      const page = await t.app.inject({
        method: 'POST',
        url: '/ingresar/llave/opciones',
        payload: {},
      });
      assert.equal(page.statusCode, 404);
      assert.equal(page.json().error.code, 'PASSKEYS_UNAVAILABLE');
      assert.equal(await challenges(), before, 'no challenge stored');
    } finally {
      await t.close();
    }
  });
});
