// Attack suite, cross-site forms: every form of the pages carries a token
// tied to an HttpOnly cookie; a post without it, with another browser's, or
// from another origin is refused with a Spanish page and changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { generateToken, hashToken } from '../../src/auth/secrets.ts';
import {
  buildTestApp,
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';
import { FORM, send, sidSet } from './attack.ts';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

interface Browser {
  /** The CSRF cookie, as `name=value`. */
  cookie: string;
  /** A token of a form this browser was shown. */
  token: string;
}

function tokenIn(page: LightMyRequestResponse): string {
  const token = /<input type="hidden" name="_csrf" value="([^"]+)">/.exec(page.body)?.[1];
  assert.ok(token, 'the form carries a token');
  return token;
}

describe(`cross-site form posts (${databaseLabel})`, () => {
  let t: TestApp;

  before(async () => {
    t = await buildTestApp({ database });
  });
  after(async () => {
    await t.close();
  });

  /** A browser that opened the login page: its own cookie and a token. */
  async function browser(): Promise<Browser> {
    const page = await send(t.app, { method: 'GET', url: '/' });
    const cookie = cookieFrom(page)
      .split('; ')
      .find((c) => c.startsWith('csrf='));
    assert.ok(cookie, 'the page sets the CSRF cookie');
    return { cookie, token: tokenIn(page) };
  }

  const login = (
    document: string,
    fields: { token?: string; cookie?: string; headers?: Record<string, string> },
  ) =>
    send(t.app, {
      method: 'POST',
      url: '/ingresar',
      headers: {
        ...FORM,
        ...(fields.cookie ? { cookie: fields.cookie } : {}),
        ...(fields.headers ?? {}),
      },
      payload: new URLSearchParams({
        document,
        password: 'clave2026',
        _csrf: fields.token ?? '',
      }).toString(),
    });

  const sessionsOf = async (memberId: number) =>
    (
      await t.db
        .selectFrom('sessions')
        .select('id_hash')
        .where('member_id', '=', memberId)
        .execute()
    ).length;

  it('puts a token in every form of every page, and the cookie is HttpOnly and SameSite', async () => {
    const member = await createMember(t.db);
    const pages = ['/', '/olvide-mi-contrasena', '/registro'];
    for (const url of pages) {
      const page = await send(t.app, { method: 'GET', url });
      const forms = page.body.match(/<form\b[^>]*method="post"/g) ?? [];
      const tokens = page.body.match(/name="_csrf"/g) ?? [];
      assert.ok(forms.length > 0, `${url} has a form`);
      assert.equal(tokens.length, forms.length, `${url}: one token per form`);
      const setCookie = String(page.headers['set-cookie']);
      assert.match(setCookie, /^csrf=/);
      assert.match(setCookie, /HttpOnly/i);
      assert.match(setCookie, /SameSite=Lax/i);
    }

    // The home page's logout form too.
    const { cookie, token } = await browser();
    const loggedIn = await login(member.document, { cookie, token });
    assert.equal(loggedIn.statusCode, 303);
    const home = await send(t.app, {
      method: 'GET',
      url: '/inicio',
      headers: { cookie: `${cookie}; ${cookieFrom(loggedIn)}` },
    });
    assert.match(home.body, /action="\/salir"[^>]*>\n<input type="hidden" name="_csrf"/);
  });

  it('puts a token in the SMS code step and the change-password form, and each post accepts its own', async () => {
    const member = await createMember(t.db);
    const b = await browser();
    const codeStep = await send(t.app, {
      method: 'POST',
      url: '/olvide-mi-contrasena',
      headers: { ...FORM, cookie: b.cookie },
      payload: new URLSearchParams({
        document: member.document,
        channel: 'sms',
        _csrf: b.token,
      }).toString(),
    });
    assert.equal(codeStep.statusCode, 200);
    assert.match(
      codeStep.body,
      /action="\/olvide-mi-contrasena\/codigo"[^>]*>\n<input type="hidden" name="_csrf"/,
    );
    const wrongCode = await send(t.app, {
      method: 'POST',
      url: '/olvide-mi-contrasena/codigo',
      headers: { ...FORM, cookie: b.cookie },
      payload: new URLSearchParams({
        document: member.document,
        code: '000000',
        _csrf: tokenIn(codeStep),
      }).toString(),
    });
    assert.equal(wrongCode.statusCode, 400, 'past the CSRF check, to the code check');
    assert.match(wrongCode.body, /El código no es correcto/);

    // The change-password form, opened with a valid set-password token.
    const secret = generateToken();
    await t.db
      .insertInto('one_time_secrets')
      .values({
        member_id: member.id,
        kind: 'set_password',
        purpose: 'recovery',
        secret_hash: hashToken(secret),
        created_at: t.clock.now(),
        expires_at: new Date(t.clock.now().getTime() + 10 * 60_000),
      })
      .execute();
    const cookie = `${b.cookie}; pwtoken=${secret}`;
    const form = await send(t.app, {
      method: 'GET',
      url: '/cambiar-contrasena',
      headers: { cookie },
    });
    assert.equal(form.statusCode, 200);
    assert.equal((form.body.match(/name="_csrf"/g) ?? []).length, 1);
    const forged = await send(t.app, {
      method: 'POST',
      url: '/cambiar-contrasena',
      headers: { ...FORM, cookie },
      payload: new URLSearchParams({
        password: 'nueva2026',
        passwordConfirmation: 'nueva2026',
        _csrf: 'made-up',
      }).toString(),
    });
    assert.equal(forged.statusCode, 403);
    const changed = await send(t.app, {
      method: 'POST',
      url: '/cambiar-contrasena',
      headers: { ...FORM, cookie },
      payload: new URLSearchParams({
        password: 'nueva2026',
        passwordConfirmation: 'nueva2026',
        _csrf: tokenIn(form),
      }).toString(),
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.match(changed.body, /Contraseña modificada correctamente/);
  });

  it('logs in with the token of the page, and refuses a post without one', async () => {
    const member = await createMember(t.db);
    const { cookie, token } = await browser();

    const noToken = await login(member.document, { cookie });
    assert.equal(noToken.statusCode, 403);
    assert.match(noToken.body, /Por su seguridad, este formulario ya no es válido/);
    assert.match(noToken.body, /href="\/"[^>]*>Abrir el formulario de nuevo/);
    assert.equal(sidSet(noToken), undefined, 'no session');

    const noCookie = await login(member.document, { token });
    assert.equal(noCookie.statusCode, 403);
    assert.equal(await sessionsOf(member.id), 0);

    const ok = await login(member.document, { cookie, token });
    assert.equal(ok.statusCode, 303);
    assert.ok(sidSet(ok));
  });

  it("refuses the attacker's own token with the victim's cookie (login CSRF)", async () => {
    const member = await createMember(t.db);
    const victim = await browser();
    const attacker = await browser();
    assert.notEqual(victim.cookie, attacker.cookie);

    const forged = await login(member.document, { cookie: victim.cookie, token: attacker.token });
    assert.equal(forged.statusCode, 403);
    const tampered = await login(member.document, {
      cookie: victim.cookie,
      token: `${victim.token.slice(0, -2)}xx`,
    });
    assert.equal(tampered.statusCode, 403);
    assert.equal(await sessionsOf(member.id), 0);
  });

  it('refuses a post from another origin even with a valid token, and accepts its own', async () => {
    const member = await createMember(t.db);
    const b = await browser();
    const refused: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null', 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site', origin: 'https://other.localhost:3000' },
      { origin: 'http://localhost:3000.evil.example' },
      { referer: 'https://evil.example/page' },
      { referer: 'not a url' },
    ];
    for (const headers of refused) {
      const response = await login(member.document, { ...b, headers });
      assert.equal(response.statusCode, 403, JSON.stringify(headers));
      assert.match(response.body, /solo aceptamos datos enviados desde las páginas del portal/);
    }
    assert.equal(await sessionsOf(member.id), 0, 'no refused post logged in');

    const accepted: Record<string, string>[] = [
      { origin: 'http://localhost:3000' },
      { referer: 'http://localhost:3000/' },
      { origin: 'null', 'sec-fetch-site': 'same-origin' },
      { origin: 'http://localhost:3000', 'sec-fetch-site': 'same-origin' },
      { origin: 'http://portal.internal:8080', host: 'portal.internal:8080' },
      {},
    ];
    for (const headers of accepted) {
      const response = await login(member.document, { ...b, headers });
      assert.equal(response.statusCode, 303, JSON.stringify(headers));
    }
  });

  it('a cross-site password request sends nothing; a cross-site logout ends nothing', async () => {
    const member = await createMember(t.db);
    const b = await browser();
    const request = await send(t.app, {
      method: 'POST',
      url: '/olvide-mi-contrasena',
      headers: { ...FORM, cookie: b.cookie, origin: 'https://evil.example' },
      payload: new URLSearchParams({
        document: member.document,
        channel: 'email',
        _csrf: b.token,
      }).toString(),
    });
    assert.equal(request.statusCode, 403);
    assert.match(request.body, /href="\/olvide-mi-contrasena"/);
    const queued = await t.db
      .selectFrom('outbox')
      .select('id')
      .where('member_id', '=', member.id)
      .execute();
    assert.equal(queued.length, 0);

    const loggedIn = await login(member.document, b);
    const sid = sidSet(loggedIn);
    assert.ok(sid);
    const logout = await send(t.app, {
      method: 'POST',
      url: '/salir',
      headers: { ...FORM, cookie: `sid=${sid}`, origin: 'https://evil.example' },
      payload: '_csrf=',
    });
    assert.equal(logout.statusCode, 403);
    const home = await send(t.app, {
      method: 'GET',
      url: '/inicio',
      headers: { cookie: `sid=${sid}` },
    });
    assert.equal(home.statusCode, 200, 'the session lives on');
  });

  it('leaves the JSON API alone: bearer tokens, JSON bodies only', async () => {
    const member = await createMember(t.db);
    const api = await send(t.app, {
      method: 'POST',
      url: '/api/v1/login',
      headers: { origin: 'https://app.example' },
      payload: { document: member.document, password: 'clave2026' },
    });
    assert.equal(api.statusCode, 200);
    assert.equal(api.headers['set-cookie'], undefined, 'the API sets no cookie');
    const form = await send(t.app, {
      method: 'POST',
      url: '/api/v1/login',
      headers: FORM,
      payload: `document=${member.document}&password=clave2026`,
    });
    assert.equal(form.statusCode, 415, 'a cross-site HTML form cannot reach the API');
  });
});

describe(`cross-site form posts on https (${databaseLabel})`, () => {
  it('uses a __Host- cookie, Secure', async () => {
    const t = await buildTestApp({ database, env: { PUBLIC_URL: 'https://portal.example.org' } });
    try {
      const page = await send(t.app, { method: 'GET', url: '/' });
      const setCookie = String(page.headers['set-cookie']);
      assert.match(setCookie, /^__Host-csrf=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax/);
    } finally {
      await t.close();
    }
  });
});
