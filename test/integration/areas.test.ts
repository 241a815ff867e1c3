// The areas of the site (src/app.ts): the pages, the API under /api/, the
// assets and the operations endpoints each answer their own errors, unknown
// addresses and guards, by the context a request routes to and never by a
// test on its path. What each must keep answering, beyond the suites that
// exercise the flows.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { buildTestApp, databaseLabel, type TestApp } from '../helper.ts';
import { FORM, send } from '../security/attack.ts';

/** A form post from another site (sent as is: it brings its own empty token). */
const CROSS_SITE_FORM = { ...FORM, 'sec-fetch-site': 'cross-site' };

/** The names of the cookies an answer sets. */
function cookiesSet(response: LightMyRequestResponse): string[] {
  const raw = response.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [String(raw)] : [];
  return list.map((cookie) => cookie.split('=')[0] ?? '');
}

function assertNotFoundPage(response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 404, `${what}: ${response.body.slice(0, 200)}`);
  assert.match(String(response.headers['content-type']), /^text\/html/, what);
  assert.match(response.body, /Página no encontrada/, what);
}

function assertApiNotFound(response: LightMyRequestResponse, what: string): void {
  assert.equal(response.statusCode, 404, what);
  assert.match(String(response.headers['content-type']), /^application\/json/, what);
  assert.equal(response.json().error.code, 'NOT_FOUND', what);
}

describe(`the areas of the site (${databaseLabel})`, () => {
  let t: TestApp;

  before(async () => {
    t = await buildTestApp();
  });
  after(async () => {
    await t.close();
  });

  it('answers every unknown address under /api/ in JSON, and JSON only', async () => {
    for (const [method, url] of [
      ['GET', '/api/'],
      ['GET', '/api/nothing'],
      ['POST', '/api/v2/login'],
      ['GET', '/%61pi/v1/nothing'],
      ['DELETE', '/api/v1/me'],
    ] as const)
      assertApiNotFound(await send(t.app, { method, url }), `${method} ${url}`);
    // A form body is refused before anything else, as on the API's routes.
    const form = await send(t.app, {
      method: 'POST',
      url: '/api/v2/login',
      headers: FORM,
      payload: 'document=1234567&password=clave2026',
    });
    assert.equal(form.statusCode, 415);
    assert.equal(form.json().error.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers an address that is not valid percent-encoding with the 404 of its area', async () => {
    assertNotFoundPage(await send(t.app, { method: 'GET', url: '/%zz' }), '/%zz');
    assertNotFoundPage(await send(t.app, { method: 'GET', url: '/ingresar%E0%A4' }), 'page');
    assertApiNotFound(await send(t.app, { method: 'GET', url: '/api/v1/%zz' }), '/api/v1/%zz');
  });

  it('answers an unknown page address with the Spanish page, through the pages’ CSRF hooks', async () => {
    const page = await send(t.app, { method: 'GET', url: '/nada-por-aqui' });
    assertNotFoundPage(page, 'GET');
    assert.deepEqual(cookiesSet(page), ['csrf'], 'a page of the pages: it gets the CSRF cookie');
    const crossSite = await send(t.app, {
      method: 'POST',
      url: '/nada-por-aqui',
      headers: CROSS_SITE_FORM,
      payload: 'a=1&_csrf=',
    });
    assert.equal(crossSite.statusCode, 403, 'a cross-site post is refused like any form post');
  });

  it('keeps the assets and the operations endpoints out of the pages’ hooks', async () => {
    for (const [method, url] of [
      ['GET', '/assets/nothing.css'],
      ['GET', '/assets/altcha/nothing.js'],
      ['POST', '/assets/app.css'],
      ['POST', '/healthz'],
      ['PUT', '/readyz'],
      ['POST', '/metrics'],
      ['GET', '/healthz/more'],
    ] as const) {
      const response = await send(t.app, {
        method,
        url,
        // A cross-site form post: the pages' hooks would refuse it (403).
        ...(method === 'GET' ? {} : { headers: CROSS_SITE_FORM, payload: 'a=1&_csrf=' }),
      });
      assertNotFoundPage(response, `${method} ${url}`);
      assert.deepEqual(cookiesSet(response), [], `${method} ${url}: no CSRF cookie`);
    }
    // A scrape refused to a client through a proxy finds the same page.
    const refused = await send(t.app, {
      method: 'GET',
      url: '/metrics',
      headers: { 'x-forwarded-for': '203.0.113.5' },
    });
    assertNotFoundPage(refused, 'a refused scrape');
    assert.deepEqual(cookiesSet(refused), []);
    assert.equal((await send(t.app, { method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  it('sends a page that needs a member back to the login, and refuses the API 401', async () => {
    const home = await send(t.app, { method: 'GET', url: '/inicio' });
    assert.equal(home.statusCode, 303);
    assert.equal(home.headers.location, '/');
    const stale = await send(t.app, {
      method: 'GET',
      url: '/inicio',
      headers: { cookie: 'sid=x' },
    });
    assert.equal(stale.headers.location, '/?vencida');
    assert.match(
      String(stale.headers['set-cookie']),
      /(?:^|,)sid=;/,
      'the stale cookie is cleared',
    );
    // Logging out without a session is no error: back to the login, told so.
    const logout = await send(t.app, { method: 'POST', url: '/salir', headers: FORM, payload: '' });
    assert.equal(logout.statusCode, 303);
    assert.equal(logout.headers.location, '/?salio');
    for (const [method, url] of [
      ['GET', '/api/v1/me'],
      ['POST', '/api/v1/logout'],
    ] as const) {
      const response = await send(t.app, { method, url });
      assert.equal(response.statusCode, 401, `${method} ${url}`);
      assert.equal(response.json().error.code, 'UNAUTHENTICATED');
    }
  });
});
