// Attack suite, passkeys (issue 14): answers replayed, challenges reused,
// expired or of the other purpose, another origin or relying party, no user
// verification, a counter that goes backwards, a credential of another
// member, an inactive member, garbage bodies. Each is refused through the
// real routes with the Spanish error, stores nothing, spends the address's
// budget of failed logins and leaves an audit event with the reason, and
// no key, challenge or signature ever reaches the audit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { Member } from '../../src/db/schema.ts';
import { buildTestApp, cookieFrom, createMember, databaseLabel, type TestApp } from '../helper.ts';
import {
  type CreationOptionsJSON,
  type RequestOptionsJSON,
  SoftAuthenticator,
} from '../helpers/authenticator.ts';
import { send } from './attack.ts';

const ORIGIN = 'http://localhost:3000';
const RP_ID = 'localhost';
const IP = '203.0.113.50';

const FAILED = {
  code: 'PASSKEY_FAILED',
  message:
    'No pudimos verificar la llave de acceso. Intente de nuevo, o ingrese con su documento y contraseña.',
  fields: {},
};
const EXPIRED = {
  code: 'PASSKEY_EXPIRED',
  message: 'Pasó demasiado tiempo desde que empezó. Intente de nuevo.',
  fields: {},
};

describe(`passkey attacks (${databaseLabel})`, () => {
  let t: TestApp;
  /** Every challenge, signature and signed byte string the tests saw: none may reach the audit. */
  const seen = new Set<string>();

  before(async () => {
    t = await buildTestApp();
  });
  after(async () => {
    await t.close();
  });

  const call = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    options: { token?: string; payload?: unknown } = {},
  ) =>
    send(t.app, {
      method,
      url,
      remoteAddress: IP,
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      ...(options.payload !== undefined ? { payload: options.payload as object } : {}),
    });

  function remember<T extends { id: string; response: object }>(answer: T): T {
    seen.add(answer.id);
    for (const value of Object.values(answer.response))
      if (typeof value === 'string' && value.length > 16) seen.add(value);
    return answer;
  }

  async function tokenFor(member: Member): Promise<string> {
    const response = await call('POST', '/api/v1/login', {
      payload: { document: member.document, password: 'clave2026' },
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json().token as string;
  }

  async function creationOptions(token: string): Promise<CreationOptionsJSON> {
    const response = await call('POST', '/api/v1/me/passkeys/options', { token, payload: {} });
    assert.equal(response.statusCode, 200, response.body);
    const options = response.json() as CreationOptionsJSON;
    seen.add(options.challenge);
    return options;
  }

  async function requestOptions(): Promise<RequestOptionsJSON> {
    const response = await call('POST', '/api/v1/passkeys/login/options');
    assert.equal(response.statusCode, 200, response.body);
    const options = response.json() as RequestOptionsJSON;
    seen.add(options.challenge);
    return options;
  }

  const create = (token: string, answer: ReturnType<SoftAuthenticator['register']>) =>
    call('POST', '/api/v1/me/passkeys', { token, payload: remember(answer) });

  const logIn = (answer: ReturnType<SoftAuthenticator['authenticate']>) =>
    call('POST', '/api/v1/passkeys/login', { payload: remember(answer) });

  /** A member with a token and a passkey on `key`. */
  async function enrolled(key = new SoftAuthenticator(ORIGIN, RP_ID)) {
    const member = await createMember(t.db);
    const token = await tokenFor(member);
    const created = await create(token, key.register(await creationOptions(token)));
    assert.equal(created.statusCode, 201, created.body);
    return { member, token, key };
  }

  async function lastAudit(type: string) {
    return t.db
      .selectFrom('audit_events')
      .select(['outcome', 'member_id', 'detail', 'channel'])
      .where('type', '=', type)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
  }

  /** The answer was refused as `expected`, and the audit says why. */
  async function assertLoginRefused(
    response: LightMyRequestResponse,
    reason: string,
    memberId: number | null,
    expected: typeof FAILED = FAILED,
  ) {
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(response.json().error, expected);
    const audit = await lastAudit('login');
    assert.equal(audit.outcome, 'failed');
    assert.equal(audit.member_id, memberId);
    assert.equal(audit.channel, 'api');
    assert.deepEqual(audit.detail, { method: 'passkey', reason });
  }

  async function assertCreationRefused(
    response: LightMyRequestResponse,
    reason: string,
    member: Member,
    key: SoftAuthenticator,
    expected: typeof FAILED = FAILED,
  ) {
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(response.json().error, expected);
    const audit = await lastAudit('passkey_added');
    assert.equal(audit.outcome, 'failed');
    assert.equal(audit.member_id, member.id);
    assert.deepEqual(audit.detail, { reason });
    const stored = await t.db
      .selectFrom('passkeys')
      .select('id')
      .where('id', '=', key.id)
      .executeTakeFirst();
    assert.equal(stored, undefined, 'nothing stored');
  }

  const sessionsOf = async (memberId: number) =>
    (await t.db.selectFrom('sessions').select('kind').where('member_id', '=', memberId).execute())
      .length;

  const counterOf = async (id: string) =>
    Number(
      (
        await t.db
          .selectFrom('passkeys')
          .select('counter')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).counter,
    );

  it('refuses a login answer posted a second time, and the counter stays', async () => {
    const { member, key } = await enrolled(
      new SoftAuthenticator(ORIGIN, RP_ID, { startCounter: 3 }),
    );
    const answer = key.authenticate(await requestOptions());
    assert.equal((await logIn(answer)).statusCode, 200);
    assert.equal(await counterOf(key.id), 4);
    const sessions = await sessionsOf(member.id);

    await assertLoginRefused(await logIn(answer), 'challenge', member.id);
    assert.equal(await sessionsOf(member.id), sessions, 'no session for the replay');
    assert.equal(await counterOf(key.id), 4);
  });

  it('refuses a second well-signed answer to one challenge, also when both race', async () => {
    // A synced passkey keeps no counter (0 forever): only the challenge stops a second answer.
    const { member, key } = await enrolled();
    const options = await requestOptions();
    const first = key.authenticate(options);
    const second = key.authenticate(options);
    assert.notEqual(first.response.signature, second.response.signature);
    assert.equal((await logIn(first)).statusCode, 200);
    await assertLoginRefused(await logIn(second), 'challenge', member.id);

    const raced = await requestOptions();
    const before = await sessionsOf(member.id);
    const answers = await Promise.all([
      logIn(key.authenticate(raced)),
      logIn(key.authenticate(raced)),
    ]);
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [200, 400]);
    assert.equal(await sessionsOf(member.id), before + 1, 'one session of the two');
  });

  it('refuses a challenge older than five minutes (PASSKEY_EXPIRED), when logging in and when creating', async () => {
    const { member, key } = await enrolled();
    const options = await requestOptions();
    t.clock.advanceMinutes(6);
    await assertLoginRefused(await logIn(key.authenticate(options)), 'expired', member.id, EXPIRED);
    const left = await t.db
      .selectFrom('webauthn_challenges')
      .select('purpose')
      .where('expires_at', '<=', t.clock.now())
      .execute();
    assert.equal(left.length, 0, 'the expired challenge is gone');

    const fresh = await tokenFor(member);
    const creation = await creationOptions(fresh);
    t.clock.advanceMinutes(6);
    const laptop = new SoftAuthenticator(ORIGIN, RP_ID);
    await assertCreationRefused(
      await create(fresh, laptop.register(creation)),
      'expired',
      member,
      laptop,
      EXPIRED,
    );
  });

  it('refuses a creation challenge for a login, a login challenge for a creation, and another member’s creation challenge', async () => {
    const { member, token, key } = await enrolled();
    const creation = await creationOptions(token);
    await assertLoginRefused(
      await logIn(key.authenticate({ challenge: creation.challenge, rpId: RP_ID })),
      'challenge',
      member.id,
    );
    const tablet = new SoftAuthenticator(ORIGIN, RP_ID);
    // Used up by the refused login: it cannot create either.
    await assertCreationRefused(
      await create(token, tablet.register(creation)),
      'challenge',
      member,
      tablet,
    );

    const login = await requestOptions();
    const template = await creationOptions(token);
    await assertCreationRefused(
      await create(token, tablet.register({ ...template, challenge: login.challenge })),
      'challenge',
      member,
      tablet,
    );

    const other = await createMember(t.db);
    const theirs = await creationOptions(await tokenFor(other));
    await assertCreationRefused(
      await create(token, tablet.register(theirs)),
      'challenge',
      member,
      tablet,
    );
  });

  for (const [label, answer, reason] of [
    ['another origin', { origin: 'https://evil.example' }, 'origin'],
    ['another port of this host', { origin: 'http://localhost:3001' }, 'origin'],
    ['another relying party', { rpId: 'evil.example' }, 'rp_id'],
    ['an authenticator that did not verify the user', { userVerified: false }, 'user_verification'],
  ] as const) {
    it(`refuses ${label} when creating and when logging in`, async () => {
      const { member, token, key } = await enrolled();
      const phone = new SoftAuthenticator(ORIGIN, RP_ID);
      await assertCreationRefused(
        await create(token, phone.register(await creationOptions(token), answer)),
        reason,
        member,
        phone,
      );
      const sessions = await sessionsOf(member.id);
      await assertLoginRefused(
        await logIn(key.authenticate(await requestOptions(), answer)),
        reason,
        member.id,
      );
      assert.equal(await sessionsOf(member.id), sessions);
    });
  }

  it('refuses a counter that goes backwards or stands still', async () => {
    const { member, key } = await enrolled(
      new SoftAuthenticator(ORIGIN, RP_ID, { startCounter: 10 }),
    );
    assert.equal(await counterOf(key.id), 10);
    assert.equal((await logIn(key.authenticate(await requestOptions()))).statusCode, 200);
    assert.equal(await counterOf(key.id), 11);

    await assertLoginRefused(
      await logIn(key.authenticate(await requestOptions(), { counter: 5 })),
      'counter',
      member.id,
    );
    await assertLoginRefused(
      await logIn(key.authenticate(await requestOptions(), { counter: 11 })),
      'counter',
      member.id,
    );
    assert.equal(await counterOf(key.id), 11, 'the stored counter is kept');
  });

  it('refuses a credential already registered to another member (409), storing nothing for the second', async () => {
    const { member: owner, key } = await enrolled();
    const other = await createMember(t.db);
    const token = await tokenFor(other);
    const taken = await create(token, key.register(await creationOptions(token)));
    assert.equal(taken.statusCode, 409, taken.body);
    assert.deepEqual(taken.json().error, {
      code: 'PASSKEY_ALREADY_REGISTERED',
      message: 'Esa llave de acceso ya está registrada en el portal.',
      fields: {},
    });
    const audit = await lastAudit('passkey_added');
    assert.equal(audit.outcome, 'failed');
    assert.equal(audit.member_id, other.id);
    assert.deepEqual(audit.detail, { reason: 'taken' });
    const rows = await t.db
      .selectFrom('passkeys')
      .select('member_id')
      .where('id', '=', key.id)
      .execute();
    assert.deepEqual(
      rows.map((r) => r.member_id),
      [owner.id],
      'still the first member’s only',
    );
    const notices = await t.db
      .selectFrom('outbox')
      .select('id')
      .where('member_id', '=', other.id)
      .where('template', '=', 'passkey-added')
      .execute();
    assert.equal(notices.length, 0, 'no notice for a passkey not stored');
  });

  it('refuses a login answer that names another member as its user', async () => {
    const { member, key } = await enrolled();
    const other = await createMember(t.db);
    const theirHandle = (await creationOptions(await tokenFor(other))).user.id;
    const sessions = await sessionsOf(member.id);
    await assertLoginRefused(
      await logIn(key.authenticate(await requestOptions(), { userHandle: theirHandle })),
      'user_handle',
      member.id,
    );
    assert.equal(await sessionsOf(member.id), sessions);
    assert.equal(await sessionsOf(other.id), 1, 'only the other member’s own login');
  });

  it('never lists or removes another member’s passkey', async () => {
    const { member, key } = await enrolled();
    const other = await createMember(t.db);
    const token = await tokenFor(other);
    const removal = await call('DELETE', `/api/v1/me/passkeys/${key.id}`, { token });
    assert.equal(removal.statusCode, 404);
    assert.deepEqual(removal.json().error, {
      code: 'PASSKEY_NOT_FOUND',
      message: 'No encontramos esa llave de acceso. Puede que ya esté eliminada.',
      fields: {},
    });
    const list = await call('GET', '/api/v1/me/passkeys', { token });
    assert.deepEqual(list.json(), []);
    const still = await t.db
      .selectFrom('passkeys')
      .select('member_id')
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow();
    assert.equal(still.member_id, member.id);
  });

  it('refuses the passkey of an inactive member', async () => {
    const { member, key } = await enrolled();
    await t.db
      .updateTable('members')
      .set({ status: 'inactive' })
      .where('id', '=', member.id)
      .execute();
    const sessions = await sessionsOf(member.id);
    await assertLoginRefused(
      await logIn(key.authenticate(await requestOptions())),
      'inactive',
      member.id,
    );
    assert.equal(await sessionsOf(member.id), sessions);
  });

  it('refuses an unknown passkey (PASSKEY_UNKNOWN) and uses its challenge up', async () => {
    const stranger = new SoftAuthenticator(ORIGIN, RP_ID);
    const options = await requestOptions();
    const count = async () =>
      (await t.db.selectFrom('webauthn_challenges').select('purpose').execute()).length;
    const before = await count();
    const refused = await logIn(stranger.authenticate(options));
    assert.equal(refused.statusCode, 400);
    assert.equal(refused.json().error.code, 'PASSKEY_UNKNOWN');
    const audit = await lastAudit('login');
    assert.deepEqual(audit.detail, { method: 'passkey', reason: 'unknown_credential' });
    assert.equal(audit.member_id, null);
    assert.equal(await count(), before - 1, 'the challenge is used up');
  });

  it('uses the challenge up when an answer is refused before its signature is checked (inactive member, another member’s user handle)', async () => {
    const { member, key } = await enrolled();
    await t.db
      .updateTable('members')
      .set({ status: 'inactive' })
      .where('id', '=', member.id)
      .execute();
    const answer = key.authenticate(await requestOptions());
    assert.equal((await logIn(answer)).statusCode, 400);
    await t.db
      .updateTable('members')
      .set({ status: 'active' })
      .where('id', '=', member.id)
      .execute();
    const replay = await logIn(answer);
    assert.equal(replay.statusCode, 400, 'a refused answer must not log in later');

    const options = await requestOptions();
    const wrongHandle = key.authenticate(options, { userHandle: 'AAAA' });
    assert.equal((await logIn(wrongHandle)).statusCode, 400);
    // The user handle is not signed: taken off, the same signed answer is whole again.
    const { userHandle: _dropped, ...rest } = wrongHandle.response;
    const stripped = await logIn({ ...wrongHandle, response: { ...rest } } as typeof wrongHandle);
    assert.equal(stripped.statusCode, 400, 'its challenge must be spent');
  });

  it('answers garbage with 400 (415 for a body that is not JSON), never 500, on the API', async () => {
    const { token, key } = await enrolled();
    const good = key.authenticate(await requestOptions());
    const huge = 'A'.repeat(5000);
    const loginBodies: unknown[] = [
      {},
      { id: key.id },
      { id: key.id, rawId: key.id, type: 'public-key' },
      { ...good, type: 'password' },
      { ...good, response: 'nada' },
      { ...good, id: huge, rawId: huge },
      { ...good, id: '!!no base64!!', rawId: '!!no base64!!' },
      { ...good, response: { ...good.response, clientDataJSON: '%%%' } },
      {
        ...good,
        response: { ...good.response, clientDataJSON: Buffer.from('{').toString('base64url') },
      },
      { ...good, response: { ...good.response, authenticatorData: '%%%' } },
      { ...good, response: { ...good.response, authenticatorData: 'AAAA' } },
      { ...good, response: { ...good.response, signature: '%%%' } },
      { ...good, response: { ...good.response, signature: 'AAAA' } },
      { ...good, response: { ...good.response, userHandle: 42 } },
      { ...good, response: { clientDataJSON: good.response.clientDataJSON } },
      [],
    ];
    for (const body of loginBodies) {
      const response = await call('POST', '/api/v1/passkeys/login', { payload: body });
      assert.equal(
        response.statusCode,
        400,
        `${JSON.stringify(body).slice(0, 120)}: ${response.body}`,
      );
      assert.ok(response.json().error.code, response.body);
    }
    const raw = (payload: string, type = 'application/json') =>
      send(t.app, {
        method: 'POST',
        url: '/api/v1/passkeys/login',
        remoteAddress: IP,
        headers: { 'content-type': type },
        payload,
      });
    for (const body of ['{"id":', '"nada"', 'null', '42'])
      assert.equal((await raw(body)).statusCode, 400, body);
    const text = await raw('nada', 'text/plain');
    assert.equal(text.statusCode, 415);
    assert.equal(text.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');

    const phone = new SoftAuthenticator(ORIGIN, RP_ID);
    const created = phone.register(await creationOptions(token));
    const createBodies: unknown[] = [
      {},
      { ...created, response: {} },
      { ...created, response: { ...created.response, attestationObject: '%%%' } },
      { ...created, response: { ...created.response, attestationObject: 'AAAA' } },
      { ...created, response: { ...created.response, clientDataJSON: 'AAAA' } },
      { ...created, response: { ...created.response, transports: 'internal' } },
      { ...created, id: huge, rawId: huge },
      { ...created, id: 'otra', rawId: 'otra' },
    ];
    for (const body of createBodies) {
      const response = await call('POST', '/api/v1/me/passkeys', { token, payload: body });
      assert.equal(
        response.statusCode,
        400,
        `${JSON.stringify(body).slice(0, 120)}: ${response.body}`,
      );
    }
    const removal = await call('DELETE', `/api/v1/me/passkeys/${huge}`, { token });
    assert.ok([400, 404].includes(removal.statusCode), removal.body);
    const options = await call('POST', '/api/v1/me/passkeys/options', {
      token,
      payload: { currentPassword: 'x'.repeat(2000) },
    });
    assert.equal(options.statusCode, 400, options.body);
    assert.equal(
      (await t.db.selectFrom('passkeys').select('id').where('id', '=', phone.id).execute()).length,
      0,
    );
  });

  it('answers garbage with 400, never 500, on the pages’ calls', async () => {
    const { key } = await enrolled();
    const page = await send(t.app, { method: 'GET', url: '/', remoteAddress: IP });
    const csrfToken = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] ?? '';
    const csrfCookie = cookieFrom(page)
      .split('; ')
      .find((c) => /^(?:__Host-)?csrf=/.test(c));
    assert.ok(csrfToken && csrfCookie);
    const post = (url: string, payload: string, cookie = csrfCookie) =>
      send(t.app, {
        method: 'POST',
        url,
        remoteAddress: IP,
        headers: {
          'content-type': 'application/json',
          'x-csrf-token': csrfToken,
          cookie,
        },
        payload: Buffer.from(payload),
      });
    const optionsAnswer = await post('/ingresar/llave/opciones', '{}');
    assert.equal(optionsAnswer.statusCode, 200, optionsAnswer.body);
    const good = key.authenticate(optionsAnswer.json());
    const huge = 'A'.repeat(5000);
    for (const body of [
      '{}',
      'null',
      '[]',
      '"nada"',
      '42',
      JSON.stringify({ id: 42 }),
      JSON.stringify({ id: huge }),
      JSON.stringify({ ...good, response: 'nada' }),
      JSON.stringify({ ...good, response: null }),
      JSON.stringify({ ...good, response: { ...good.response, clientDataJSON: 42 } }),
      JSON.stringify({ ...good, response: { ...good.response, signature: '%%%' } }),
      JSON.stringify({ ...good, response: { ...good.response, userHandle: { a: 1 } } }),
      JSON.stringify({ ...good, type: 'password' }),
    ]) {
      const response = await post('/ingresar/llave', body);
      assert.equal(
        response.statusCode,
        400,
        `${body.slice(0, 120)}: ${response.body.slice(0, 300)}`,
      );
      assert.ok(response.json().error.message, response.body.slice(0, 300));
      assert.equal(
        cookieFrom(response)
          .split('; ')
          .find((c) => /^(?:__Host-)?sid=/.test(c)),
        undefined,
      );
    }
    const broken = await post('/ingresar/llave', '{"id":');
    assert.equal(broken.statusCode, 400, broken.body.slice(0, 300));
    const tooLarge = await post('/ingresar/llave', JSON.stringify({ id: 'A'.repeat(20_000) }));
    assert.equal(tooLarge.statusCode, 413, 'a body over the pages’ limit');

    // The member's own calls, with a session (the garbage built on the good
    // answer used its challenge up: a new one).
    const fresh = await post('/ingresar/llave/opciones', '{}');
    const login = await post('/ingresar/llave', JSON.stringify(key.authenticate(fresh.json())));
    assert.equal(login.statusCode, 200, login.body);
    const session = cookieFrom(login)
      .split('; ')
      .find((c) => /^(?:__Host-)?sid=/.test(c));
    assert.ok(session);
    for (const body of ['null', '[]', '{}', JSON.stringify({ currentPassword: 42 })]) {
      const response = await post('/mi-cuenta/llaves/opciones', body, `${csrfCookie}; ${session}`);
      assert.equal(response.statusCode, 200, `${body}: ${response.body.slice(0, 300)}`);
    }
    for (const body of ['null', '[]', '{}', JSON.stringify({ id: huge, response: 'nada' })]) {
      const response = await post('/mi-cuenta/llaves/nueva', body, `${csrfCookie}; ${session}`);
      assert.equal(
        response.statusCode,
        400,
        `${body.slice(0, 120)}: ${response.body.slice(0, 300)}`,
      );
    }
  });

  it('keeps every key, challenge and signature out of the audit', async () => {
    const keys = await t.db.selectFrom('passkeys').select(['id', 'public_key']).execute();
    for (const row of keys) {
      seen.add(row.id);
      seen.add(row.public_key);
    }
    const audit = await t.db.selectFrom('audit_events').select(['type', 'detail']).execute();
    assert.ok(audit.length > 40, `${audit.length} events`);
    const text = JSON.stringify(audit);
    assert.ok(seen.size > 100, `${seen.size} secrets followed`);
    for (const secret of seen) assert.ok(!text.includes(secret), `found in the audit: ${secret}`);
    const reasons = new Set(
      audit
        .filter((a) => a.type === 'login' || a.type === 'passkey_added')
        .map((a) => (a.detail as { reason?: string } | null)?.reason)
        .filter(Boolean),
    );
    for (const reason of [
      'challenge',
      'expired',
      'origin',
      'rp_id',
      'user_verification',
      'counter',
      'user_handle',
      'inactive',
      'unknown_credential',
      'taken',
    ])
      assert.ok(reasons.has(reason), `no audit event with reason ${reason}`);
  });
});
