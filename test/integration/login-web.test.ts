// The login screen of the manual, as a browser without JavaScript uses it:
// GET /, the form post to /ingresar, the member home /inicio and /salir.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
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
const GENERIC = 'El documento o la contraseña no son correctos. Revíselos e intente de nuevo.';

/** The attributes of the one Set-Cookie header, lowercased names, and the cookie itself. */
/** The one Set-Cookie of the session (or of the cookie named by `named`). */
function parseSetCookie(
  response: LightMyRequestResponse,
  named: RegExp = /^(?:__Host-)?sid=/,
): {
  name: string;
  value: string;
  attributes: Map<string, string>;
} {
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

describe(`login through the pages (${databaseLabel})`, () => {
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

  async function send(options: InjectOptions, app = t.app): Promise<LightMyRequestResponse> {
    const response = await app.inject(options);
    assert.ok(
      response.statusCode < 500,
      `${options.method} ${options.url} answered ${response.statusCode}`,
    );
    return response;
  }

  const postLogin = (fields: Record<string, string>, cookie?: string, app = t.app) =>
    send(
      {
        method: 'POST',
        url: '/ingresar',
        headers: cookie ? { ...FORM, cookie } : FORM,
        payload: new URLSearchParams(fields).toString(),
      },
      app,
    );

  const home = (cookie: string) => send({ method: 'GET', url: '/inicio', headers: { cookie } });

  it('shows the login screen of the manual', async () => {
    const altcha = await buildTestApp({ database, env: { CAPTCHA_PROVIDER: 'altcha' } });
    try {
      const response = await send({ method: 'GET', url: '/' }, altcha.app);
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/html; charset=utf-8/);
      const page = response.body;
      assert.match(page, /<html lang="es-UY">/);
      assert.match(page, /<h1>Bienvenido al Portal del Socio<\/h1>/);
      assert.ok(
        page.includes(
          'Ingresá con tu N° de documento sin barra, sin puntos ni dígito verificador.',
        ),
      );
      assert.match(page, /<label for="document">Usuario<\/label>/);
      assert.match(page, /placeholder="N° Documento"/);
      assert.match(page, /<label for="password">Contraseña<\/label>/);
      assert.match(page, /<input id="password" name="password" type="password"/);
      assert.match(page, /<button type="submit"[^>]*>INICIAR SESIÓN<\/button>/);
      assert.match(page, /<a href="[^"]+">¿Olvidaste tu contraseña\?<\/a>/);
      assert.match(page, /<a href="[^"]+">¿No estás registrado\?<\/a>/);
      assert.match(page, /<a[^>]+href="tel:144"[^>]*>[\s\S]*?CALL CENTER 144<\/a>/);
      // The eye toggle: a real button bound to the password field, off at first.
      assert.match(
        page,
        /<button type="button"[^>]*aria-controls="password"[^>]*aria-pressed="false"[^>]*aria-label="Mostrar contraseña"/,
      );
      // The form posts without JavaScript.
      assert.match(page, /<form method="post" action="\/ingresar"/);
      // The CAPTCHA, and next to it what a browser without JavaScript is told.
      assert.match(page, /<altcha-widget[^>]*name="altcha"/);
      assert.match(
        page,
        /id="captcha"[\s\S]*<altcha-widget[\s\S]*La verificación «No soy un robot» necesita JavaScript/,
      );
    } finally {
      await altcha.close();
    }
  });

  it('logs in, redirects to the home page and sets an HttpOnly, SameSite=Lax session cookie', async () => {
    const member = await createMember(t.db);
    const response = await postLogin({ document: member.document, password: 'clave2026' });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/inicio');
    const cookie = parseSetCookie(response);
    assert.equal(cookie.name, 'sid');
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(cookie.attributes.has('httponly'));
    assert.equal(cookie.attributes.get('samesite')?.toLowerCase(), 'lax');
    assert.equal(cookie.attributes.get('path'), '/');
    assert.ok(!cookie.attributes.has('secure'), 'no Secure on a plain http PUBLIC_URL');
    assert.ok(!cookie.attributes.has('domain'));
    // And this browser is known to the member from now on: a signed device cookie.
    const device = parseSetCookie(response, /^device=/);
    assert.match(device.value, /^v1\.\d+\.\d+\.[A-Za-z0-9_-]{22}\.[a-f0-9]{64}$/);
    assert.ok(device.attributes.has('httponly'));
    assert.equal(device.attributes.get('samesite')?.toLowerCase(), 'lax');
    assert.equal(device.attributes.get('max-age'), String(180 * 86_400));
  });

  it('names the cookie __Host-sid and marks it Secure when PUBLIC_URL is https', async () => {
    const secure = await buildTestApp({
      database,
      env: { PUBLIC_URL: 'https://portal.example.org' },
    });
    try {
      const member = await createMember(secure.db);
      const response = await postLogin(
        { document: member.document, password: 'clave2026' },
        undefined,
        secure.app,
      );
      assert.equal(response.statusCode, 303);
      const cookie = parseSetCookie(response);
      assert.equal(cookie.name, '__Host-sid');
      assert.ok(cookie.attributes.has('secure'));
      assert.ok(cookie.attributes.has('httponly'));
      assert.equal(cookie.attributes.get('samesite')?.toLowerCase(), 'lax');
      assert.equal(cookie.attributes.get('path'), '/');
      assert.ok(!cookie.attributes.has('domain'), '__Host- cookies carry no Domain');
      const page = await send(
        { method: 'GET', url: '/inicio', headers: { cookie: cookieFrom(response) } },
        secure.app,
      );
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['strict-transport-security']), /max-age=\d+/);
    } finally {
      await secure.close();
    }
  });

  it('greets the member by first name on the home page, with the member number', async () => {
    const member = await createMember(t.db, {
      firstName: 'Martín',
      lastName: 'Álvarez',
      memberNumber: '777001',
    });
    const login = await postLogin({ document: member.document, password: 'clave2026' });
    const page = await home(cookieFrom(login));
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Hola, Martín<\/h1>/);
    assert.match(page.body, /777001/);
    assert.equal(page.headers['cache-control'], 'no-store');

    // Back on the start page while logged in: straight to the home page.
    const start = await send({ method: 'GET', url: '/', headers: { cookie: cookieFrom(login) } });
    assert.equal(start.statusCode, 303);
    assert.equal(start.headers.location, '/inicio');
  });

  it('sends a visitor without a session from the home page to the login page', async () => {
    const response = await send({ method: 'GET', url: '/inicio' });
    assert.equal(response.statusCode, 303);
    assert.equal(response.headers.location, '/');
  });

  it('shows one generic message for a wrong password, keeps the document and never echoes the password', async () => {
    const member = await createMember(t.db);
    const response = await postLogin({ document: member.document, password: 'Equivocada9' });
    assert.equal(response.statusCode, 401);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.ok(response.body.includes(GENERIC));
    assert.match(response.body, new RegExp(`<input id="document"[^>]*value="${member.document}"`));
    assert.ok(!response.body.includes('Equivocada9'));
    assert.doesNotMatch(response.body, /<input id="password"[^>]*value=/);
    assert.equal(response.headers['set-cookie'], undefined);

    // An unknown document reads exactly the same.
    const unknown = await postLogin({ document: '7654321', password: 'Equivocada9' });
    assert.equal(unknown.statusCode, 401);
    assert.equal(
      withoutFormToken(unknown.body.replace('7654321', member.document)),
      withoutFormToken(response.body),
      'the pages differ only by the typed document',
    );
  });

  it('escapes what was typed when it shows it again', async () => {
    const response = await postLogin({ document: '"><script>alert(1)</script>', password: 'x1' });
    assert.equal(response.statusCode, 400);
    assert.ok(!response.body.includes('<script>alert(1)</script>'));
    assert.ok(response.body.includes('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'));
  });

  it('shows the messages for empty fields next to the fields', async () => {
    const response = await postLogin({ document: '', password: '' });
    assert.equal(response.statusCode, 400);
    const page = response.body;
    assert.match(
      page,
      /<p class="field-error" id="document-error">[\s\S]*?Ingrese su N° de documento\.<\/p>/,
    );
    assert.match(
      page,
      /<p class="field-error" id="password-error">[\s\S]*?Ingrese su contraseña\.<\/p>/,
    );
    assert.match(page, /<input id="document"[^>]*aria-describedby="document-error"/);
    assert.match(page, /<input id="document"[^>]*aria-invalid="true"/);
    assert.match(page, /<input id="password"[^>]*aria-invalid="true"/);
    // The summary at the top links to each field.
    assert.match(page, /<a href="#document">Ingrese su N° de documento\.<\/a>/);
    assert.match(page, /<a href="#password">Ingrese su contraseña\.<\/a>/);
  });

  it('gives a new session id at login, never the one planted before', async () => {
    const member = await createMember(t.db);
    const planted = 'P'.repeat(43);
    const before = await home(`sid=${planted}`);
    assert.equal(before.statusCode, 303, 'a made-up cookie opens nothing');
    const response = await postLogin(
      { document: member.document, password: 'clave2026' },
      `sid=${planted}`,
    );
    assert.equal(response.statusCode, 303);
    const cookie = parseSetCookie(response);
    assert.notEqual(cookie.value, planted);
    assert.equal((await home(`sid=${planted}`)).statusCode, 303, 'the planted id is still nothing');
    assert.equal((await home(cookieFrom(response))).statusCode, 200);

    // Logging in again, even over a live session, gives yet another id.
    const again = await postLogin(
      { document: member.document, password: 'clave2026' },
      cookieFrom(response),
    );
    assert.notEqual(parseSetCookie(again).value, cookie.value);
  });

  it('ends the session at /salir; the old cookie then leads back to the login page', async () => {
    const member = await createMember(t.db);
    const login = await postLogin({ document: member.document, password: 'clave2026' });
    const cookie = cookieFrom(login);
    assert.equal((await home(cookie)).statusCode, 200);

    const logout = await send({ method: 'POST', url: '/salir', headers: { cookie } });
    assert.equal(logout.statusCode, 303);
    assert.equal(logout.headers.location, '/?salio');
    const cleared = parseSetCookie(logout);
    assert.equal(cleared.name, 'sid');
    assert.equal(cleared.value, '');

    const after = await home(cookie);
    assert.equal(after.statusCode, 303);
    assert.match(String(after.headers.location), /^\/(\?|$)/);
    const sessions = await t.db
      .selectFrom('sessions')
      .select('id_hash')
      .where('member_id', '=', member.id)
      .execute();
    assert.equal(sessions.length, 0);

    const start = await send({ method: 'GET', url: '/?salio' });
    assert.ok(start.body.includes('Cerró su sesión'));
  });

  it('ends a web session left idle for more than 30 minutes', async () => {
    const member = await createMember(t.db);
    const login = await postLogin({ document: member.document, password: 'clave2026' });
    t.clock.advanceMinutes(31);
    const after = await home(cookieFrom(login));
    assert.equal(after.statusCode, 303);
    assert.equal(after.headers.location, '/?vencida');
    const start = await send({ method: 'GET', url: '/?vencida' });
    assert.ok(start.body.includes('Su sesión terminó por inactividad.'));
  });

  it('ends the session of a member made inactive (by the registry import)', async () => {
    const member = await createMember(t.db);
    const login = await postLogin({ document: member.document, password: 'clave2026' });
    assert.equal((await home(cookieFrom(login))).statusCode, 200);
    await t.db
      .updateTable('members')
      .set({ status: 'inactive' })
      .where('id', '=', member.id)
      .execute();
    const after = await home(cookieFrom(login));
    assert.equal(after.statusCode, 303, 'back to the login page');
    const left = await t.db
      .selectFrom('sessions')
      .select('id_hash')
      .where('member_id', '=', member.id)
      .execute();
    assert.equal(left.length, 0, 'the session row is gone');
  });

  it('shows the form again with 429, Retry-After and the minutes to wait after 5 failures on the pages', async () => {
    const member = await createMember(t.db);
    for (let i = 0; i < 5; i += 1) {
      const failed = await postLogin({ document: member.document, password: 'Equivocada9' });
      assert.equal(failed.statusCode, 401);
    }
    const waiting = await postLogin({ document: member.document, password: 'clave2026' });
    assert.equal(waiting.statusCode, 429);
    assert.equal(waiting.headers['retry-after'], '60');
    assert.match(waiting.body, /pausamos el ingreso\. Espere 1 minuto y vuelva a intentar\./);
    assert.match(waiting.body, /<form method="post" action="\/ingresar"/);
    assert.equal(waiting.headers['set-cookie'], undefined, 'no session during the wait');
  });

  it('lets password managers fill the fields: autocomplete on user name and password, no paste blocking', async () => {
    const page = await send({ method: 'GET', url: '/' });
    assert.match(page.body, /name="document"[\s\S]*?autocomplete="username webauthn"/);
    assert.match(
      page.body,
      /name="password" type="password"[\s\S]*?autocomplete="current-password"/,
    );
    assert.doesNotMatch(page.body, /onpaste|oncopy|autocomplete="off"/i);
  });

  it('records the web login in the audit trail with the web channel', async () => {
    const member = await createMember(t.db);
    await postLogin({ document: member.document, password: 'clave2026' });
    const rows = await t.db
      .selectFrom('audit_events')
      .select(['type', 'outcome', 'channel'])
      .where('member_id', '=', member.id)
      .execute();
    assert.deepEqual(rows, [{ type: 'login', outcome: 'ok', channel: 'web' }]);
  });

  it('answers an unknown address with a Spanish 404 page', async () => {
    const response = await send({ method: 'GET', url: '/no-existe' });
    assert.equal(response.statusCode, 404);
    assert.match(String(response.headers['content-type']), /^text\/html; charset=utf-8/);
    assert.match(response.body, /<html lang="es-UY">/);
    assert.match(response.body, /<h1>Página no encontrada<\/h1>/);
    assert.match(response.body, /<a[^>]+href="\/"/);
  });
});
