// Attack suite, sessions and headers: a logout on one instance ends the
// session on every instance, a session id planted or held before login is
// never the one after it, and every page carries the security headers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';
import { apiLogin, FORM, send, sidSet } from './attack.ts';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

describe(`sessions across two instances (${databaseLabel})`, () => {
  let a: TestApp;
  let b: TestApp;
  const clock = new FakeClock();

  before(async () => {
    a = await buildTestApp({ database, clock });
    b = await buildTestApp({ database, clock });
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  const me = (t: TestApp, token: string) =>
    send(t.app, {
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${token}` },
    });
  const home = (t: TestApp, sid: string) =>
    send(t.app, { method: 'GET', url: '/inicio', headers: { cookie: `sid=${sid}` } });
  const webLogin = (t: TestApp, document: string, cookie?: string) =>
    send(t.app, {
      method: 'POST',
      url: '/ingresar',
      headers: { ...FORM, ...(cookie ? { cookie } : {}) },
      payload: `document=${document}&password=clave2026`,
    });

  it('ends an API session everywhere: logout on A, then B answers 401 to the token', async () => {
    const member = await createMember(a.db);
    const login = await apiLogin(a.app, member.document, 'clave2026');
    assert.equal(login.statusCode, 200);
    const { token } = login.json() as { token: string };
    assert.equal((await me(b, token)).statusCode, 200, 'the token works on the other instance');

    const logout = await send(a.app, {
      method: 'POST',
      url: '/api/v1/logout',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(logout.statusCode, 204);
    const onB = await me(b, token);
    assert.equal(onB.statusCode, 401);
    assert.equal(onB.json().error.code, 'UNAUTHENTICATED');
    assert.equal((await me(a, token)).statusCode, 401);
    const again = await send(b.app, {
      method: 'POST',
      url: '/api/v1/logout',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(again.statusCode, 401);
  });

  it('ends a web session everywhere: /salir on B, then A sends the cookie back to the login page', async () => {
    const member = await createMember(a.db);
    const sid = sidSet(await webLogin(a, member.document));
    assert.ok(sid);
    assert.equal((await home(b, sid)).statusCode, 200);
    const out = await send(b.app, {
      method: 'POST',
      url: '/salir',
      headers: { cookie: `sid=${sid}` },
    });
    assert.equal(out.statusCode, 303);
    const onA = await home(a, sid);
    assert.equal(onA.statusCode, 303);
    assert.equal(onA.headers.location, '/?vencida');
  });

  it('never keeps a session id planted before login: the login sets a new one and the planted one opens nothing', async () => {
    const member = await createMember(a.db);
    const planted = randomBytes(32).toString('base64url');
    const login = await webLogin(a, member.document, `sid=${planted}`);
    assert.equal(login.statusCode, 303);
    const sid = sidSet(login);
    assert.ok(sid);
    assert.notEqual(sid, planted);
    assert.equal((await home(b, sid)).statusCode, 200);
    assert.equal((await home(b, planted)).statusCode, 303, 'the planted id is no session');
  });

  it('replaces a live session at login: the id before is dead, the id after is new', async () => {
    const member = await createMember(a.db);
    const before = sidSet(await webLogin(a, member.document));
    assert.ok(before);
    const relogin = await webLogin(b, member.document, `sid=${before}`);
    const afterLogin = sidSet(relogin);
    assert.ok(afterLogin);
    assert.notEqual(afterLogin, before);
    assert.equal(
      (await home(a, before)).statusCode,
      303,
      'the old id no longer opens the home page',
    );
    assert.equal((await home(a, afterLogin)).statusCode, 200);
  });

  it('does not take an API token as a web session cookie', async () => {
    const member = await createMember(a.db);
    const { token } = (await apiLogin(a.app, member.document, 'clave2026')).json() as {
      token: string;
    };
    assert.equal((await home(b, token)).statusCode, 303);
    assert.equal((await me(b, token)).statusCode, 200);
  });
});

/** Directive name to its sources. */
function csp(response: LightMyRequestResponse): Map<string, string[]> {
  const header = response.headers['content-security-policy'];
  assert.ok(header, `no Content-Security-Policy on ${response.statusCode}`);
  return new Map(
    String(header)
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...sources]) => [String(name), sources]),
  );
}

describe(`security headers on every page (${databaseLabel})`, () => {
  let http: TestApp;
  let https: TestApp;

  before(async () => {
    http = await buildTestApp({ database, env: { PUBLIC_URL: 'http://localhost:3000' } });
    https = await buildTestApp({ database, env: { PUBLIC_URL: 'https://portal.example.org' } });
  });
  after(async () => {
    await http.close();
    await https.close();
  });

  const pages: { name: string; url: string; method?: 'GET' | 'POST'; status: number }[] = [
    { name: 'login', url: '/', status: 200 },
    { name: 'forgot password', url: '/olvide-mi-contrasena', status: 200 },
    { name: 'registration', url: '/registro', status: 200 },
    { name: 'change password (no token)', url: '/cambiar-contrasena', status: 400 },
    {
      name: 'change password (link)',
      url: `/cambiar-contrasena?token=${'A'.repeat(43)}`,
      status: 303,
    },
    { name: 'home, redirected', url: '/inicio', status: 303 },
    { name: 'unknown page', url: '/no-existe', status: 404 },
    { name: 'API without a token', url: '/api/v1/me', status: 401 },
    { name: 'API unknown address', url: '/api/v1/nada', status: 404 },
    { name: 'failed login page', url: '/ingresar', method: 'POST', status: 400 },
  ];

  async function fetchPage(t: TestApp, page: (typeof pages)[number]) {
    const response = await send(t.app, {
      method: page.method ?? 'GET',
      url: page.url,
      ...(page.method === 'POST' ? { headers: FORM, payload: 'document=&password=' } : {}),
    });
    assert.equal(response.statusCode, page.status, `${page.name}: ${response.body.slice(0, 200)}`);
    return response;
  }

  it('keeps the CSP strict with the ALTCHA widget: its stylesheet and worker come from our origin', async () => {
    const altcha = await buildTestApp({ database, env: { CAPTCHA_PROVIDER: 'altcha' } });
    try {
      const page = await send(altcha.app, { method: 'GET', url: '/' });
      const policy = csp(page);
      assert.deepEqual(policy.get('script-src'), ["'self'"]);
      assert.deepEqual(policy.get('style-src'), ["'self'"]);
      assert.deepEqual(policy.get('worker-src'), ["'self'"]);
      // The widget's stylesheet and its one script (worker and Spanish inside) are ours.
      const css = page.body.match(
        /<link rel="stylesheet" href="(\/assets\/captcha\.[0-9a-f]{10}\.css)">/,
      );
      const js = page.body.match(
        /<script type="module" src="(\/assets\/captcha\.[0-9a-f]{10}\.js)">/,
      );
      assert.ok(css?.[1] && js?.[1], 'the CAPTCHA stylesheet and script are linked');
      const script = await send(altcha.app, { method: 'GET', url: js[1] });
      assert.equal(script.statusCode, 200);
      const worker = script.body.match(
        /new Worker\('(\/assets\/altcha-pbkdf2\.[0-9a-f]{10}\.js)'\)/,
      );
      assert.ok(worker?.[1], 'the PBKDF2 worker is a file of our origin');
      for (const url of [css[1], worker[1]]) {
        assert.equal((await send(altcha.app, { method: 'GET', url })).statusCode, 200, url);
      }
    } finally {
      await altcha.close();
    }
  });

  it('sends CSP (frame-ancestors none, no inline script), nosniff, Referrer-Policy and Permissions-Policy, and no X-Powered-By', async () => {
    for (const page of pages) {
      const response = await fetchPage(http, page);
      const policy = csp(response);
      assert.deepEqual(policy.get('frame-ancestors'), ["'none'"], page.name);
      const scripts = policy.get('script-src') ?? policy.get('default-src');
      assert.ok(scripts, `${page.name}: no script-src`);
      assert.ok(!scripts.includes("'unsafe-inline'"), `${page.name}: ${scripts.join(' ')}`);
      assert.ok(!scripts.includes("'unsafe-eval'"), page.name);
      assert.ok(!scripts.includes('*'), page.name);
      // ALTCHA's external build: no inline style, no blob: worker either.
      assert.deepEqual(policy.get('style-src'), ["'self'"], page.name);
      assert.deepEqual(policy.get('worker-src'), ["'self'"], page.name);
      assert.deepEqual(policy.get('object-src'), ["'none'"], page.name);
      assert.deepEqual(policy.get('base-uri'), ["'none'"], page.name);
      assert.equal(response.headers['x-content-type-options'], 'nosniff', page.name);
      assert.match(
        String(response.headers['referrer-policy']),
        /^(?:no-referrer|same-origin|strict-origin)$/,
        page.name,
      );
      assert.match(String(response.headers['permissions-policy']), /camera=\(\)/, page.name);
      assert.equal(response.headers['x-powered-by'], undefined, page.name);
      assert.equal(response.headers['strict-transport-security'], undefined, page.name);
    }
  });

  it('sends Strict-Transport-Security on every page only when PUBLIC_URL is https', async () => {
    for (const page of pages) {
      const response = await fetchPage(https, page);
      const hsts = String(response.headers['strict-transport-security'] ?? '');
      assert.match(hsts, /max-age=(\d+)/, page.name);
      assert.ok(Number(/max-age=(\d+)/.exec(hsts)?.[1]) >= 15_552_000, `${page.name}: ${hsts}`);
      assert.deepEqual(csp(response).get('frame-ancestors'), ["'none'"], page.name);
    }
  });

  it('sends Referrer-Policy no-referrer on the change-password page, its link and its form post', async () => {
    for (const page of pages.filter((p) => p.url.startsWith('/cambiar-contrasena')))
      assert.equal(
        (await fetchPage(http, page)).headers['referrer-policy'],
        'no-referrer',
        page.name,
      );
    const post = await send(http.app, {
      method: 'POST',
      url: '/cambiar-contrasena',
      headers: FORM,
      payload: 'password=nueva2026&passwordConfirmation=nueva2026',
    });
    assert.equal(post.statusCode, 400);
    assert.equal(post.headers['referrer-policy'], 'no-referrer');
    // Elsewhere the site's own policy: the full address never leaves the site.
    assert.equal(
      (await fetchPage(http, pages[0] as (typeof pages)[number])).headers['referrer-policy'],
      'same-origin',
    );
  });
});
