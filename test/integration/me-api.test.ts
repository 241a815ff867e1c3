// The member home through the API (the mobile app): every call answers only
// the bearer's member, 401 without a live session, 400 with field messages
// for bad input, 404 for another member's session.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openText } from '../../src/auth/secrets.ts';
import { OUTBOX_SEAL } from '../../src/courier/outbox.ts';
import { buildTestApp, createMember, databaseLabel, TEST_SECRET, type TestApp } from '../helper.ts';

describe(`the member home through the API (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(async () => {
    await t.close();
  });

  async function tokenFor(
    document: string,
    userAgent = 'Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36',
  ): Promise<string> {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/login',
      headers: { 'user-agent': userAgent },
      payload: { document, password: 'clave2026' },
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json().token as string;
  }

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, token?: string, payload?: object) =>
    t.app.inject({
      method,
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(payload ? { payload } : {}),
    });

  it('answers 401 to every call without a live session', async () => {
    const member = await createMember(t.db);
    const token = await tokenFor(member.document);
    await call('POST', '/api/v1/logout', token);
    for (const [method, url, body] of [
      ['GET', '/api/v1/me/sessions'],
      ['DELETE', '/api/v1/me/sessions/abc'],
      ['DELETE', '/api/v1/me/sessions'],
      ['GET', '/api/v1/me/activity'],
      [
        'POST',
        '/api/v1/me/password',
        { currentPassword: 'a', password: 'b', passwordConfirmation: 'b' },
      ],
      [
        'POST',
        '/api/v1/me/contact',
        { kind: 'email', value: 'x@example.org', currentPassword: 'a' },
      ],
      ['POST', '/api/v1/me/contact/verify', { kind: 'mobile', code: '123456' }],
    ] as const) {
      for (const bearer of [token, undefined]) {
        const response = await call(method, url, bearer, body);
        assert.equal(response.statusCode, 401, `${method} ${url}`);
        assert.equal(response.json().error.code, 'UNAUTHENTICATED');
      }
    }
  });

  it('lists the member’s sessions, this one marked, and closes another member’s never (404)', async () => {
    const ana = await createMember(t.db);
    const other = await createMember(t.db);
    const mine = await tokenFor(ana.document);
    await tokenFor(ana.document, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/121.0');
    const theirs = await tokenFor(other.document);
    const list = await call('GET', '/api/v1/me/sessions', mine);
    assert.equal(list.statusCode, 200);
    const sessions = list.json() as {
      id: string;
      current: boolean;
      device: string;
      browser: string;
    }[];
    assert.equal(sessions.length, 2);
    assert.equal(sessions.filter((s) => s.current).length, 1);
    assert.deepEqual(Object.keys(sessions[0] ?? {}).sort(), [
      'address',
      'browser',
      'current',
      'device',
      'id',
      'lastUsedAt',
    ]);
    const theirSessions = (await call('GET', '/api/v1/me/sessions', theirs)).json() as {
      id: string;
    }[];
    const theirId = theirSessions[0]?.id ?? '';
    assert.ok(!sessions.some((s) => s.id === theirId), 'never another member’s session');
    const refused = await call('DELETE', `/api/v1/me/sessions/${theirId}`, mine);
    assert.equal(refused.statusCode, 404);
    assert.equal(refused.json().error.code, 'SESSION_NOT_FOUND');
    assert.equal((await call('GET', '/api/v1/me', theirs)).statusCode, 200, 'theirs still open');

    const otherOfMine = sessions.find((s) => !s.current)?.id ?? '';
    assert.equal(
      (await call('DELETE', `/api/v1/me/sessions/${otherOfMine}`, mine)).statusCode,
      204,
    );
    assert.equal(((await call('GET', '/api/v1/me/sessions', mine)).json() as unknown[]).length, 1);
    await tokenFor(ana.document);
    assert.equal((await call('DELETE', '/api/v1/me/sessions', mine)).statusCode, 204);
    const left = (await call('GET', '/api/v1/me/sessions', mine)).json() as { current: boolean }[];
    assert.deepEqual(
      left.map((s) => s.current),
      [true],
    );
  });

  it('shows the member’s own activity, newest first, in Spanish', async () => {
    const member = await createMember(t.db);
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { document: member.document, password: 'Equivocada9' },
    });
    const token = await tokenFor(member.document);
    const activity = await call('GET', '/api/v1/me/activity', token);
    assert.equal(activity.statusCode, 200);
    const items = activity.json() as { type: string; outcome: string; text: string }[];
    assert.equal(items[0]?.type, 'login');
    assert.equal(items[0]?.outcome, 'ok');
    assert.match(items[0]?.text ?? '', /^Ingreso correcto/);
    assert.ok(items.some((i) => i.outcome === 'failed'));
  });

  it('changes the password with the current one: a new token, the others closed; bad input gets field messages', async () => {
    const member = await createMember(t.db);
    const token = await tokenFor(member.document);
    const elsewhere = await tokenFor(member.document);
    const missing = await call('POST', '/api/v1/me/password', token, {
      currentPassword: 'clave2026',
    });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().error.code, 'VALIDATION_FAILED');
    const wrong = await call('POST', '/api/v1/me/password', token, {
      currentPassword: 'Equivocada9',
      password: 'nueva2027',
      passwordConfirmation: 'nueva2027',
    });
    assert.equal(wrong.statusCode, 400);
    assert.ok(wrong.json().error.fields.currentPassword);
    const done = await call('POST', '/api/v1/me/password', token, {
      currentPassword: 'clave2026',
      password: 'nueva2027',
      passwordConfirmation: 'nueva2027',
    });
    assert.equal(done.statusCode, 200, done.body);
    const renewed = done.json().token as string;
    assert.notEqual(renewed, token);
    assert.equal((await call('GET', '/api/v1/me', token)).statusCode, 401, 'the old token ended');
    assert.equal((await call('GET', '/api/v1/me', elsewhere)).statusCode, 401, 'the others ended');
    assert.equal((await call('GET', '/api/v1/me', renewed)).statusCode, 200);
    const notice = await t.db
      .selectFrom('outbox')
      .select('template')
      .where('member_id', '=', member.id)
      .where('template', '=', 'password-changed')
      .execute();
    assert.equal(notice.length, 1, 'the notice email is queued');
  });

  it('changes the mobile once the code sent to the new number is given back', async () => {
    const member = await createMember(t.db);
    const token = await tokenFor(member.document);
    const bad = await call('POST', '/api/v1/me/contact', token, {
      kind: 'mobile',
      value: '123',
      currentPassword: 'clave2026',
    });
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.json().error.fields.value);
    const asked = await call('POST', '/api/v1/me/contact', token, {
      kind: 'mobile',
      value: '099 555 333',
      currentPassword: 'clave2026',
    });
    assert.equal(asked.statusCode, 202, asked.body);
    const row = await t.db
      .selectFrom('outbox')
      .select(['payload', 'recipient'])
      .where('member_id', '=', member.id)
      .where('channel', '=', 'sms')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(row.recipient, '+59899555333', 'the code goes to the new number');
    const code = /\b\d{6}\b/.exec(openText(TEST_SECRET, OUTBOX_SEAL, row.payload ?? ''))?.[0] ?? '';
    const before = await t.db
      .selectFrom('members')
      .select('mobile')
      .where('id', '=', member.id)
      .executeTakeFirstOrThrow();
    assert.equal(before.mobile, member.mobile, 'nothing changes before the proof');
    const wrongCode = code === '000000' ? '111111' : '000000';
    assert.equal(
      (await call('POST', '/api/v1/me/contact/verify', token, { kind: 'mobile', code: wrongCode }))
        .statusCode,
      400,
    );
    const verified = await call('POST', '/api/v1/me/contact/verify', token, {
      kind: 'mobile',
      code,
    });
    assert.equal(verified.statusCode, 200, verified.body);
    const after = await t.db
      .selectFrom('members')
      .select('mobile')
      .where('id', '=', member.id)
      .executeTakeFirstOrThrow();
    assert.equal(after.mobile, '+59899555333');
  });

  it('describes every call in the OpenAPI document', async () => {
    const paths = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json().paths;
    for (const path of [
      '/api/v1/me/sessions',
      '/api/v1/me/sessions/{id}',
      '/api/v1/me/activity',
      '/api/v1/me/password',
      '/api/v1/me/contact',
      '/api/v1/me/contact/verify',
    ])
      assert.ok(paths[path], path);
  });
});
