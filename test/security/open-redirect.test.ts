// Attack suite, open redirects: no link, form action or Location the portal
// answers is built from the request (its path, query or Host). A refused
// form post links back to its form from the portal's own list of forms, by
// the route it matched; an address that matched no form links to the login.
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { formPageFor } from '../../src/plugins/errors.ts';
import { buildTestApp, databaseLabel, type TestApp } from '../helper.ts';
import { FORM, send } from './attack.ts';

/** The pages a refused form may send a member back to. */
const FORM_PAGES = [
  '/',
  '/inicio',
  '/olvide-mi-contrasena',
  '/registro',
  '/cambiar-contrasena',
  '/mesa',
  '/mesa/ingresar',
  '/mesa/alta',
] as const;

/** What the tests read of an answer, from app.inject or from a socket. */
interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * POSTs a form to the listening app with `path` sent byte for byte, as
 * `curl --path-as-is` does: app.inject resolves the address first, turning
 * `/\\evil.example/x` into a request for `/x` on host evil.example.
 */
function rawPost(port: number, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: '127.0.0.1', port, method: 'POST', path, headers },
      (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => {
          body += chunk;
        });
        r.on('end', () => resolve({ statusCode: r.statusCode ?? 0, headers: r.headers, body }));
      },
    );
    outgoing.on('error', reject);
    outgoing.end('document=1234567&password=x');
  });
}

/** Every href and action of a page, in order. */
function linksIn(body: string): string[] {
  return [...body.matchAll(/\b(?:href|action)="([^"]*)"/g)].map((m) => m[1] as string);
}

/**
 * Asserts that every link of the answer (and its Location) stays on the
 * portal: a fragment, the CALL CENTER's phone, or a path of this origin
 * (one slash, not `//host` nor `/\host`, which browsers read as another site).
 */
function assertLinksStayHome(response: Answer): void {
  const location = response.headers.location;
  const links = [...linksIn(response.body), ...(location === undefined ? [] : [String(location)])];
  assert.ok(links.length > 0, 'the answer has links');
  for (const link of links) {
    assert.ok(!/evil/i.test(link), `a link names the attacker's site: ${link}`);
    const fragmentOrPhone = link.startsWith('#') || link === 'tel:144';
    const samePath = /^\/(?![/\\])/.test(link) && !/[\\%]/.test(link);
    assert.ok(fragmentOrPhone || samePath, `a link leaves the portal: ${link}`);
  }
}

/** The "open the form again" button of a refused post's page. */
function formAgainLink(response: Answer): string {
  const link = /<a class="button button-primary" href="([^"]*)">/.exec(response.body)?.[1];
  assert.ok(link !== undefined, `no button on the page: ${response.body}`);
  return link;
}

describe(`open redirects (${databaseLabel})`, () => {
  let t: TestApp;

  before(async () => {
    t = await buildTestApp();
  });
  after(async () => {
    await t.close();
  });

  /** A form post from another site to the raw address `url`, as curl --path-as-is sends it. */
  const crossSitePost = (url: string) =>
    send(t.app, {
      method: 'POST',
      url,
      headers: { ...FORM, 'sec-fetch-site': 'cross-site' },
      payload: 'document=1234567&password=x',
    });

  describe('a refused cross-site post whose address names another site links to the login page', () => {
    for (const url of [
      '//evil.example/ingresar',
      '/\\evil.example/ingresar',
      '/%2F%2Fevil.example/ingresar',
      '/%5Cevil.example/ingresar',
      '//evil.example/registrarme/codigo',
      '//evil.example/registro/codigo',
      '//evil.example/olvide-mi-contrasena',
      '/ingresar/..//evil.example',
    ]) {
      it(url, async () => {
        const response = await crossSitePost(url);
        assert.equal(response.statusCode, 403, response.body);
        assert.equal(response.headers.location, undefined);
        assert.equal(formAgainLink(response), '/');
        assertLinksStayHome(response);
      });
    }
  });

  describe('the same posts sent byte for byte over HTTP (curl --path-as-is)', () => {
    let port: number;
    before(async () => {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      port = (t.app.server.address() as AddressInfo).port;
    });

    for (const path of [
      '//evil.example/ingresar',
      '/\\evil.example/ingresar',
      '/\\/evil.example/ingresar',
      '/\\\\evil.example/registro/codigo',
      '//evil.example/registrarme/codigo',
      '/%2F%2Fevil.example/ingresar',
    ]) {
      it(path, async () => {
        const response = await rawPost(port, path, {
          ...FORM,
          'sec-fetch-site': 'cross-site',
        });
        assert.equal(response.statusCode, 403, response.body);
        assert.equal(response.headers.location, undefined);
        assert.equal(formAgainLink(response), '/');
        assertLinksStayHome(response);
      });
    }
  });

  describe('a refused cross-site post to a form links back to that form', () => {
    const cases: [string, (typeof FORM_PAGES)[number]][] = [
      ['/ingresar', '/'],
      ['/ingresar/', '/'],
      ['/ingresar?next=//evil.example', '/'],
      ['/salir', '/inicio'],
      ['/olvide-mi-contrasena', '/olvide-mi-contrasena'],
      ['/olvide-mi-contrasena/codigo', '/olvide-mi-contrasena'],
      ['/olvide-mi-contrasena/codigo/', '/olvide-mi-contrasena'],
      ['/registro', '/registro'],
      ['/registro/codigo', '/registro'],
      ['/registro/codigo/?back=//evil.example', '/registro'],
      ['/cambiar-contrasena', '/cambiar-contrasena'],
    ];
    for (const [url, page] of cases) {
      it(`${url} → ${page}`, async () => {
        const response = await crossSitePost(url);
        assert.equal(response.statusCode, 403, response.body);
        assert.equal(formAgainLink(response), page);
        assertLinksStayHome(response);
      });
    }
  });

  it('takes the form page from the list of forms by route, and the login page for anything else', () => {
    assert.equal(formPageFor('/registro/codigo'), '/registro');
    assert.equal(formPageFor('/salir'), '/inicio');
    assert.equal(formPageFor('/mesa/salir'), '/mesa');
    assert.equal(formPageFor('/mesa/ingresar'), '/mesa/ingresar');
    assert.equal(formPageFor(undefined), '/');
    assert.equal(formPageFor('//evil.example/ingresar'), '/');
    assert.equal(formPageFor('/api/v1/login'), '/');
    for (const route of ['/', '/ingresar', '/inicio', '/olvide-mi-contrasena/codigo'])
      assert.ok(FORM_PAGES.includes(formPageFor(route) as (typeof FORM_PAGES)[number]), route);
  });

  it('answers a forged Host and a hostile query with links and redirects of its own', async () => {
    const hostile = { host: 'evil.example', 'x-forwarded-host': 'evil.example' };
    for (const url of [
      '/?next=//evil.example&salio',
      '/inicio?next=//evil.example',
      '//evil.example/inicio',
      '/olvide-mi-contrasena?next=https://evil.example',
      '/registro/?next=//evil.example',
      '/cambiar-contrasena?next=//evil.example',
      '/cambiar-contrasena?token=abc&next=//evil.example',
      '//evil.example',
      '/%2F%2Fevil.example',
    ]) {
      const response = await send(t.app, { method: 'GET', url, headers: hostile });
      assertLinksStayHome(response);
    }
  });
});
