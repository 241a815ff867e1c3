// The branch desk's sign-in through its pages (src/routes/web/desk.ts), as a
// browser without JavaScript uses them, on a real database with a clock the
// test moves: the enrolment link of `npm run staff:create` (QR key read from
// the page, codes from an authenticator's algorithm), the login with a
// second factor, the staff session's cookie and limits (15 min idle, 10 h
// absolute), logout, throttling, recovery codes, the audit, and the guards.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fastifyCookie from '@fastify/cookie';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import Fastify, { type InjectOptions, type LightMyRequestResponse } from 'fastify';
import { desk, errors } from '../../src/messages/es.ts';
import { registerDeskPages } from '../../src/routes/web/desk.ts';
import { createStaff, type StaffRole } from '../../src/staff/accounts.ts';
import { timeStep } from '../../src/staff/second-factor.ts';
import {
  createStaffSession,
  deleteStaffSessions,
  STAFF_SESSION_IDLE_MINUTES,
  STAFF_SESSION_MAX_HOURS,
  validateStaffSession,
} from '../../src/staff/sessions.ts';
import { escapeHtml } from '../../src/views/html.ts';
import {
  buildTestApp,
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  type TestApp,
  type TestDatabase,
  withoutFormToken,
} from '../helper.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const PASSWORD = 'mesa-de-ayuda-2026';

/** The one Set-Cookie whose name matches, split into name, value and lowercased attributes. */
function setCookie(response: LightMyRequestResponse, named: RegExp) {
  const raw = response.headers['set-cookie'];
  const list = (Array.isArray(raw) ? raw : raw ? [String(raw)] : []).filter((c: string) =>
    named.test(c),
  );
  assert.equal(list.length, 1, `one such Set-Cookie expected, got ${JSON.stringify(list)}`);
  const [pair = '', ...rest] = (list[0] as string).split(';').map((part) => part.trim());
  const [name = '', value = ''] = pair.split(/=(.*)/s);
  const attributes = new Map(
    rest.map((part) => {
      const [key = '', val = ''] = part.split('=');
      return [key.toLowerCase(), val] as const;
    }),
  );
  return { name, value, attributes };
}

/** Text of a page as a reader sees it: Spanish texts of the catalogue, escaped as the views do. */
const shown = (value: string) => escapeHtml(value);

describe(`the branch desk's sign-in pages (${databaseLabel})`, () => {
  let database: TestDatabase;
  let t: TestApp;
  let sequence = 0;

  before(async () => {
    database = await createTestDatabase();
    t = await buildTestApp({ database });
  });
  after(async () => {
    await t.close();
    await database.close();
  });

  async function send(options: InjectOptions): Promise<LightMyRequestResponse> {
    const response = await t.app.inject(options);
    assert.ok(
      response.statusCode < 500,
      `${options.method} ${options.url} answered ${response.statusCode}: ${response.body}`,
    );
    return response;
  }

  const post = (url: string, fields: Record<string, string>, cookie?: string, ip?: string) =>
    send({
      method: 'POST',
      url,
      headers: cookie ? { ...FORM, cookie } : FORM,
      payload: new URLSearchParams(fields).toString(),
      ...(ip ? { remoteAddress: ip } : {}),
    });
  const get = (url: string, cookie?: string) =>
    send({ method: 'GET', url, ...(cookie ? { headers: { cookie } } : {}) });

  /** The code an authenticator app shows now for the key. */
  const codeNow = (key: Uint8Array) => generateHOTP(key, BigInt(timeStep(t.clock.now())), 6);

  async function newStaff(role: StaffRole = 'desk') {
    sequence += 1;
    const email = `empleada${sequence}@example.org`;
    const name = `Lucía Gómez ${sequence}`;
    const { staff, enrolment } = await createStaff(t.db, t.clock, {
      email,
      name,
      role,
      createdBy: 'test',
    });
    return { staff, email, name, token: enrolment.token };
  }

  /** Opens the enrolment link as a browser does: the token moves into a cookie. */
  async function openLink(
    token: string,
  ): Promise<{ cookie: string; page: LightMyRequestResponse }> {
    const redirect = await get(`/mesa/alta?token=${token}`);
    assert.equal(redirect.statusCode, 303);
    assert.equal(redirect.headers.location, '/mesa/alta');
    assert.equal(redirect.headers['referrer-policy'], 'no-referrer');
    const enrol = setCookie(redirect, /^desk-enrol=/);
    assert.equal(enrol.attributes.get('path'), '/mesa/alta');
    assert.ok(enrol.attributes.has('httponly'));
    const cookie = `${enrol.name}=${enrol.value}`;
    const page = await get('/mesa/alta', cookie);
    return { cookie, page };
  }

  /** The TOTP key as the page shows it for typing by hand. */
  function keyOf(page: LightMyRequestResponse): { text: string; key: Uint8Array } {
    const text = /id="clave-manual">([A-Z2-7 ]+)</.exec(page.body)?.[1];
    assert.ok(text, 'the enrolment page shows the key for manual entry');
    return { text, key: decodeBase32IgnorePadding(text.replaceAll(' ', '')) };
  }

  const recoveryCodesOf = (page: LightMyRequestResponse) =>
    [...page.body.matchAll(/<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})<\/code><\/li>/g)].map(
      (m) => m[1] as string,
    );

  /** A staff user enrolled through the pages. */
  async function enrolledStaff(role: StaffRole = 'desk') {
    const created = await newStaff(role);
    const { cookie, page } = await openLink(created.token);
    const { key } = keyOf(page);
    const done = await post(
      '/mesa/alta',
      { password: PASSWORD, passwordConfirmation: PASSWORD, code: codeNow(key) },
      cookie,
    );
    assert.equal(done.statusCode, 200, done.body);
    return { ...created, key, recoveryCodes: recoveryCodesOf(done) };
  }

  /** Logs in with a fresh code (the clock moves one step: a code is good once). */
  async function logIn(
    who: { email: string; key: Uint8Array },
    code?: string,
  ): Promise<LightMyRequestResponse> {
    t.clock.advance(30_000);
    return post('/mesa/ingresar', {
      email: who.email,
      password: PASSWORD,
      code: code ?? codeNow(who.key),
    });
  }

  /** The desk cookie ("desk=…") a successful login set. */
  function deskCookie(response: LightMyRequestResponse): string {
    assert.equal(response.statusCode, 303, response.body);
    assert.equal(response.headers.location, '/mesa');
    const { name, value } = setCookie(response, /^desk=/);
    return `${name}=${value}`;
  }

  it('enrols through the link: name, email, QR code and key; then 10 recovery codes, once', async () => {
    const { email, name, token, staff } = await newStaff();
    const { cookie, page } = await openLink(token);
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.ok(page.body.includes(shown(name)));
    assert.ok(page.body.includes(email));
    assert.match(page.body, /<svg role="img" aria-label="[^"]+"/);
    assert.doesNotMatch(page.body, /style=/, 'no inline styles (CSP)');
    for (const label of [desk.newPasswordLabel, desk.repeatPasswordLabel, desk.appCodeLabel])
      assert.ok(page.body.includes(shown(label)), label);
    assert.ok(page.body.includes(shown(desk.passwordRule)));
    const { text, key } = keyOf(page);
    assert.equal(key.length, 20);
    // A reload shows the same key.
    assert.equal(keyOf(await get('/mesa/alta', cookie)).text, text);

    const done = await post(
      '/mesa/alta',
      { password: PASSWORD, passwordConfirmation: PASSWORD, code: codeNow(key) },
      cookie,
    );
    assert.equal(done.statusCode, 200);
    assert.equal(done.headers['referrer-policy'], 'no-referrer');
    const codes = recoveryCodesOf(done);
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    assert.ok(
      done.body.includes(shown('Guárdelos en un lugar seguro: cada uno sirve una sola vez')),
    );
    assert.ok(done.body.includes(`href="/mesa/ingresar">${shown(desk.goToLogin)}`));
    // The enrolment cookie is gone with the link.
    assert.match(setCookie(done, /^desk-enrol=/).attributes.get('expires') ?? '', /1970/);

    const audit = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('actor_kind', '=', 'staff')
      .where('actor_id', '=', String(staff.id))
      .execute();
    assert.equal(audit.length, 1);
    assert.match(String(JSON.stringify(audit[0]?.detail)), /staff_enrolled/);

    // The link, opened again or posted again, is refused with a clear page.
    const again = await openLink(token);
    assert.equal(again.page.statusCode, 400);
    assert.ok(again.page.body.includes(shown(desk.enrolInvalid)));
    assert.doesNotMatch(again.page.body, /clave-manual/);
    const repost = await post(
      '/mesa/alta',
      { password: PASSWORD, passwordConfirmation: PASSWORD, code: codeNow(key) },
      cookie,
    );
    assert.equal(repost.statusCode, 400);
    assert.ok(repost.body.includes(shown(desk.enrolInvalid)));
  });

  it('refuses an unknown link, and the page without any link, with the same clear page', async () => {
    const unknown = await openLink('x'.repeat(43));
    assert.equal(unknown.page.statusCode, 400);
    assert.ok(unknown.page.body.includes(shown(desk.enrolInvalidTitle)));
    const bare = await get('/mesa/alta');
    assert.equal(bare.statusCode, 400);
    assert.ok(bare.body.includes(shown(desk.enrolInvalid)));
  });

  it('shows the enrolment form again with what is wrong: the code, the password rule, the confirmation', async () => {
    const { token } = await newStaff();
    const { cookie, page } = await openLink(token);
    const { text, key } = keyOf(page);

    const wrongCode = await post(
      '/mesa/alta',
      {
        password: PASSWORD,
        passwordConfirmation: PASSWORD,
        code: codeNow(key) === '000000' ? '111111' : '000000',
      },
      cookie,
    );
    assert.equal(wrongCode.statusCode, 400);
    assert.ok(wrongCode.body.includes(shown(desk.appCodeWrong)));
    assert.equal(keyOf(wrongCode).text, text, 'the same QR key is offered again');

    const short = await post(
      '/mesa/alta',
      { password: 'corta-2026', passwordConfirmation: 'corta-2026', code: codeNow(key) },
      cookie,
    );
    assert.equal(short.statusCode, 400);
    assert.ok(short.body.includes(shown(errors.STAFF_PASSWORD_LENGTH)));

    const tooShortForAnyone = await post(
      '/mesa/alta',
      { password: 'abc1', passwordConfirmation: 'abc1', code: codeNow(key) },
      cookie,
    );
    assert.ok(
      tooShortForAnyone.body.includes(shown(errors.STAFF_PASSWORD_LENGTH)),
      'the staff rule (12), not the members’ (8)',
    );

    const mismatch = await post(
      '/mesa/alta',
      { password: PASSWORD, passwordConfirmation: `${PASSWORD}x`, code: 'abc' },
      cookie,
    );
    assert.equal(mismatch.statusCode, 400);
    assert.ok(mismatch.body.includes(shown(errors.PASSWORD_MISMATCH)));
    assert.ok(mismatch.body.includes(shown(desk.appCodeFormat)));

    // None of that used the link: it still completes.
    const done = await post(
      '/mesa/alta',
      { password: PASSWORD, passwordConfirmation: PASSWORD, code: codeNow(key) },
      cookie,
    );
    assert.equal(done.statusCode, 200);
    assert.equal(recoveryCodesOf(done).length, 10);
  });

  it('logs in with a TOTP code: the desk cookie on /mesa, HttpOnly, SameSite=Strict; /mesa shows the name', async () => {
    const who = await enrolledStaff('supervisor');
    const login = await logIn(who);
    const cookie = setCookie(login, /^desk=/);
    assert.equal(cookie.attributes.get('path'), '/mesa');
    assert.ok(cookie.attributes.has('httponly'));
    assert.equal(cookie.attributes.get('samesite'), 'Strict');
    assert.ok(!cookie.attributes.has('secure'), 'http in tests: no Secure');
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/);
    // Never the member's cookie.
    assert.doesNotMatch(cookieFrom(login), /(?:^|; )(?:__Host-)?sid=/);

    const home = await get('/mesa', deskCookie(login));
    assert.equal(home.statusCode, 200);
    assert.equal(home.headers['cache-control'], 'no-store');
    assert.ok(home.body.includes(shown(desk.homeTitle)));
    assert.ok(home.body.includes(shown(who.name)));
    assert.ok(home.body.includes(shown(desk.roles.supervisor)));
    assert.ok(home.body.includes('action="/mesa/socios"'));
    assert.ok(home.body.includes(shown(desk.searchLabel)));
    assert.match(
      home.body,
      /<form method="post" action="\/mesa\/salir"[^>]*>\s*<input type="hidden" name="_csrf"/,
    );

    // The login page of someone logged in leads to the desk.
    const loginPage = await get('/mesa/ingresar', deskCookie(login));
    assert.equal(loginPage.statusCode, 303);
    assert.equal(loginPage.headers.location, '/mesa');
    // The search form posts (documents stay out of the address bar) behind the guard.
    assert.match(home.body, /<form method="post" action="\/mesa\/socios" role="search">/);
    const search = await post('/mesa/socios', { q: '1234567' }, deskCookie(login));
    assert.equal(search.statusCode, 404, 'no member 1234567 in this database');
    assert.equal((await post('/mesa/socios', { q: '1' })).headers.location, '/mesa/ingresar');
  });

  it('sends /mesa without a staff session to the desk login', async () => {
    const bare = await get('/mesa');
    assert.equal(bare.statusCode, 303);
    assert.equal(bare.headers.location, '/mesa/ingresar');
    const page = await get('/mesa/ingresar');
    assert.equal(page.statusCode, 200);
    for (const label of [desk.emailLabel, desk.passwordLabel, desk.codeLabel])
      assert.ok(page.body.includes(shown(label)), label);
    // The header names the desk, not the members' portal, and leads to the desk's home.
    assert.match(page.body, /<a class="brand" href="\/mesa">/);
    assert.ok(page.body.includes(`<span class="brand-sub">${shown(desk.areaName)}</span>`));
    const member = await get('/');
    assert.match(member.body, /<a class="brand" href="\/">/);
    assert.match(member.body, /<span class="brand-sub">Portal del Socio<\/span>/);
  });

  it('ends the session after 15 minutes without use, and sliding never passes 10 hours', async () => {
    assert.equal(STAFF_SESSION_IDLE_MINUTES, 15);
    assert.equal(STAFF_SESSION_MAX_HOURS, 10);
    const who = await enrolledStaff();
    const cookie = deskCookie(await logIn(who));
    // In use: every 14 minutes keeps it open.
    for (let i = 0; i < 3; i++) {
      t.clock.advanceMinutes(14);
      assert.equal((await get('/mesa', cookie)).statusCode, 200, `after ${14 * (i + 1)} min`);
    }
    t.clock.advanceMinutes(15);
    const idle = await get('/mesa', cookie);
    assert.equal(idle.statusCode, 303);
    assert.equal(idle.headers.location, '/mesa/ingresar?vencida');
    assert.match(setCookie(idle, /^desk=/).attributes.get('expires') ?? '', /1970/);
    const notice = await get('/mesa/ingresar?vencida');
    assert.ok(notice.body.includes(shown(desk.sessionExpired)));

    // Busy all day: still over at 10 hours after the login.
    const busy = deskCookie(await logIn(who));
    const loggedInAt = t.clock.now().getTime();
    while (t.clock.now().getTime() + 10 * 60_000 < loggedInAt + 10 * 3_600_000) {
      t.clock.advanceMinutes(10);
      assert.equal((await get('/mesa', busy)).statusCode, 200);
    }
    t.clock.advance(loggedInAt + 10 * 3_600_000 - t.clock.now().getTime());
    const over = await get('/mesa', busy);
    assert.equal(over.statusCode, 303);
    assert.equal(over.headers.location, '/mesa/ingresar?vencida');
  });

  it('logs out: the session ends, the cookie is cleared, and the old cookie no longer opens /mesa', async () => {
    const who = await enrolledStaff();
    const cookie = deskCookie(await logIn(who));
    assert.equal((await get('/mesa', cookie)).statusCode, 200);
    const out = await post('/mesa/salir', {}, cookie);
    assert.equal(out.statusCode, 303);
    assert.equal(out.headers.location, '/mesa/ingresar?salio');
    const cleared = setCookie(out, /^desk=/);
    assert.equal(cleared.value, '');
    assert.equal(cleared.attributes.get('path'), '/mesa');
    const after = await get('/mesa', cookie);
    assert.equal(after.statusCode, 303);
    assert.match(String(after.headers.location), /^\/mesa\/ingresar/);
    const notice = await get('/mesa/ingresar?salio');
    assert.ok(notice.body.includes(shown(desk.loggedOut)));
    const rows = await t.db
      .selectFrom('staff_sessions')
      .select('id_hash')
      .where('staff_id', '=', who.staff.id)
      .execute();
    assert.equal(rows.length, 0);
  });

  it('never lets a member session open /mesa, in its own cookie or in the desk’s', async () => {
    const member = await createMember(t.db, { password: 'clave2026' });
    const login = await post('/ingresar', { document: member.document, password: 'clave2026' });
    assert.equal(login.statusCode, 303);
    const sid = cookieFrom(login)
      .split('; ')
      .find((c) => /^sid=/.test(c)) as string;
    assert.ok(sid);
    assert.equal((await get('/inicio', sid)).statusCode, 200);

    const withMemberCookie = await get('/mesa', sid);
    assert.equal(withMemberCookie.statusCode, 303);
    assert.equal(withMemberCookie.headers.location, '/mesa/ingresar');
    const memberTokenAsDesk = await get('/mesa', `desk=${sid.slice('sid='.length)}`);
    assert.equal(memberTokenAsDesk.statusCode, 303);
    assert.match(String(memberTokenAsDesk.headers.location), /^\/mesa\/ingresar/);
  });

  it('answers a wrong code exactly as a wrong password or an unknown email: one generic message', async () => {
    const who = await enrolledStaff();
    const ip = '203.0.113.21';
    t.clock.advance(30_000);
    const right = codeNow(who.key);
    const wrongCode = await post(
      '/mesa/ingresar',
      { email: who.email, password: PASSWORD, code: right === '123456' ? '654321' : '123456' },
      undefined,
      ip,
    );
    const wrongPassword = await post(
      '/mesa/ingresar',
      { email: who.email, password: `${PASSWORD}-no`, code: right },
      undefined,
      ip,
    );
    const unknown = await post(
      '/mesa/ingresar',
      { email: 'nadie@example.org', password: PASSWORD, code: right },
      undefined,
      ip,
    );
    for (const response of [wrongCode, wrongPassword, unknown]) {
      assert.equal(response.statusCode, 401);
      assert.ok(response.body.includes(shown(desk.loginFailed)));
      assert.doesNotMatch(cookieFrom(response), /(?:^|; )desk=/);
    }
    assert.equal(withoutFormToken(wrongCode.body), withoutFormToken(wrongPassword.body));
    assert.equal(
      withoutFormToken(unknown.body).replace('nadie@example.org', who.email),
      withoutFormToken(wrongCode.body),
    );
    // The typed email is kept; the password and code are not.
    assert.ok(wrongCode.body.includes(`value="${who.email}"`));
    assert.ok(!wrongCode.body.includes(PASSWORD));
    // The right code, not spent by those failures, still works.
    const ok = await post('/mesa/ingresar', { email: who.email, password: PASSWORD, code: right });
    deskCookie(ok);
  });

  it('refuses desk form posts without the form’s token, like every page form', async () => {
    for (const url of ['/mesa/ingresar', '/mesa/alta', '/mesa/salir']) {
      const forged = await post(url, { email: 'a@example.org', _csrf: 'forged' });
      assert.equal(forged.statusCode, 403, url);
    }
  });

  it('asks for every field before checking anything', async () => {
    const empty = await post('/mesa/ingresar', { email: '', password: '', code: '' });
    assert.equal(empty.statusCode, 400);
    for (const message of [desk.emailRequired, desk.passwordRequired, desk.codeRequired])
      assert.ok(empty.body.includes(shown(message)), message);
  });

  it('pauses the login after repeated failures: 429 with Retry-After and how long to wait', async () => {
    const who = await enrolledStaff();
    const ip = '203.0.113.22';
    let throttled: LightMyRequestResponse | undefined;
    for (let i = 0; i < 12 && !throttled; i++) {
      const response = await post(
        '/mesa/ingresar',
        { email: who.email, password: `equivocada-${i}-2026`, code: '123456' },
        undefined,
        ip,
      );
      if (response.statusCode === 429) throttled = response;
      else assert.equal(response.statusCode, 401);
    }
    assert.ok(throttled, 'throttled within 12 failures');
    const seconds = Number(throttled.headers['retry-after']);
    assert.ok(seconds > 0 && seconds <= 15 * 60, String(seconds));
    assert.ok(throttled.body.includes(shown(desk.loginThrottled)));
    assert.match(throttled.body, /Espere \d+ minutos? y vuelva a intentar/);
    // Even the right password waits (refused before any check: the clock
    // stays put, so the window of the count is still the same).
    const right = await post(
      '/mesa/ingresar',
      { email: who.email, password: PASSWORD, code: codeNow(who.key) },
      undefined,
      ip,
    );
    assert.equal(right.statusCode, 429);
  });

  it('logs in with a recovery code once', async () => {
    const who = await enrolledStaff();
    const code = who.recoveryCodes[0] as string;
    const first = await post('/mesa/ingresar', { email: who.email, password: PASSWORD, code });
    const cookie = deskCookie(first);
    assert.equal((await get('/mesa', cookie)).statusCode, 200);
    const second = await post('/mesa/ingresar', {
      email: who.email,
      password: PASSWORD,
      code: code.toLowerCase(),
    });
    assert.equal(second.statusCode, 401);
    assert.ok(second.body.includes(shown(desk.loginFailed)));
  });

  it('audits every staff login: the staff user as actor on success, anonymous on failure; never the email, password or code', async () => {
    const who = await enrolledStaff('admin');
    t.clock.advance(30_000);
    const code = codeNow(who.key);
    const failed = await post(
      '/mesa/ingresar',
      { email: who.email, password: `${PASSWORD}-mal`, code },
      undefined,
      '203.0.113.23',
    );
    assert.equal(failed.statusCode, 401);
    const ok = await post('/mesa/ingresar', { email: who.email, password: PASSWORD, code });
    const cookie = deskCookie(ok);
    await post('/mesa/salir', {}, cookie);

    const rows = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('type', '=', 'staff_action')
      .where('at', '>=', new Date(t.clock.now().getTime() - 1000))
      .orderBy('id')
      .execute();
    const detail = (row: (typeof rows)[number]) =>
      (typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail) as Record<
        string,
        unknown
      >;
    const success = rows.find(
      (r) =>
        r.outcome === 'ok' &&
        detail(r).action === 'staff_login' &&
        r.actor_id === String(who.staff.id),
    );
    assert.ok(success, JSON.stringify(rows));
    assert.equal(success.actor_kind, 'staff');
    assert.equal(success.channel, 'desk');
    assert.equal(detail(success).factor, 'totp');
    assert.equal(detail(success).role, 'admin');
    const failure = rows.find((r) => r.outcome === 'failed' && detail(r).action === 'staff_login');
    assert.ok(failure);
    assert.equal(failure.actor_kind, 'anonymous');
    assert.equal(failure.actor_id, null);
    assert.equal(failure.ip, '203.0.113.23');
    const logout = rows.find((r) => detail(r).action === 'staff_logout');
    assert.equal(logout?.actor_id, String(who.staff.id));

    const everything = JSON.stringify(
      await t.db
        .selectFrom('audit_events')
        .selectAll()
        .where('type', '=', 'staff_action')
        .execute(),
    );
    for (const secret of [who.email, PASSWORD, code, ...who.recoveryCodes])
      assert.ok(!everything.includes(secret), `the audit holds ${secret}`);
  });

  it('ends every session of a staff user at once, and none of a disabled one opens', async () => {
    const who = await enrolledStaff();
    const one = deskCookie(await logIn(who));
    const two = deskCookie(await logIn(who));
    assert.equal(await deleteStaffSessions(t.db, who.staff.id), 2);
    for (const cookie of [one, two]) assert.equal((await get('/mesa', cookie)).statusCode, 303);

    const three = deskCookie(await logIn(who));
    await t.db
      .updateTable('staff_users')
      .set({ status: 'disabled' })
      .where('id', '=', who.staff.id)
      .execute();
    assert.equal((await get('/mesa', three)).statusCode, 303);
    assert.equal(await validateStaffSession(t.db, t.clock, three.slice('desk='.length)), null);
  });

  it('requireRole lets the listed roles through and answers the others 403, in the desk’s look', async () => {
    const app = Fastify({ logger: false });
    await app.register(fastifyCookie);
    registerDeskPages(app, t.deps);
    app.get('/mesa/prueba-admin', { preHandler: app.requireRole('admin') }, async () => 'admin');
    app.get(
      '/mesa/prueba-supervision',
      { preHandler: [app.requireStaff, app.requireRole('supervisor', 'admin')] },
      async () => 'supervision',
    );
    await app.ready();
    try {
      const cookieOf = async (role: StaffRole) => {
        const { staff } = await newStaff(role);
        const { token } = await createStaffSession(t.db, t.clock, staff.id, {
          ip: null,
          userAgent: null,
        });
        return `desk=${token}`;
      };
      const deskOnly = await cookieOf('desk');
      const supervisor = await cookieOf('supervisor');
      const admin = await cookieOf('admin');
      const status = async (url: string, cookie?: string) =>
        (await app.inject({ method: 'GET', url, ...(cookie ? { headers: { cookie } } : {}) }))
          .statusCode;
      assert.equal(await status('/mesa/prueba-admin'), 303);
      assert.equal(await status('/mesa/prueba-admin', deskOnly), 403);
      assert.equal(await status('/mesa/prueba-admin', supervisor), 403);
      assert.equal(await status('/mesa/prueba-admin', admin), 200);
      assert.equal(await status('/mesa/prueba-supervision'), 303);
      assert.equal(await status('/mesa/prueba-supervision', deskOnly), 403);
      assert.equal(await status('/mesa/prueba-supervision', supervisor), 200);
      assert.equal(await status('/mesa/prueba-supervision', admin), 200);
      const refused = await app.inject({
        method: 'GET',
        url: '/mesa/prueba-admin',
        headers: { cookie: deskOnly },
      });
      assert.ok(refused.body.includes(shown(desk.forbidden)));
    } finally {
      await app.close();
    }
  });
});
