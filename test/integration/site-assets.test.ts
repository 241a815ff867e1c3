// The browser's files (src/site/site.ts, src/routes/assets.ts): hashed
// names kept for a year, compressed once at start and sent as the browser
// accepts, the CAPTCHA's files only where there is a CAPTCHA, the web app
// manifest, the service worker and the offline page; pages and API answers
// compressed as they go and never stored.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { LightMyRequestResponse } from 'fastify';
import { pngSize } from '../../src/site/brand.ts';
import { buildTestApp, createMember, databaseLabel, type TestApp } from '../helper.ts';
import { FORM, send } from '../security/attack.ts';

const HASHED = /^\/assets\/[a-z0-9-]+\.[0-9a-f]{10}\.[a-z]+$/;

/** Every /assets/ address a page links (stylesheets, scripts, icons, manifest, logo). */
function linkedAssets(page: string): string[] {
  return [...page.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1] as string);
}

function get(t: TestApp, url: string, encoding?: string): Promise<LightMyRequestResponse> {
  return send(t.app, {
    method: 'GET',
    url,
    ...(encoding === undefined ? {} : { headers: { 'accept-encoding': encoding } }),
  });
}

function decoded(response: LightMyRequestResponse): Buffer {
  const raw = response.rawPayload;
  const encoding = response.headers['content-encoding'];
  if (encoding === 'br') return brotliDecompressSync(raw);
  if (encoding === 'gzip') return gunzipSync(raw);
  return raw;
}

describe(`the browser's files (${databaseLabel})`, () => {
  let t: TestApp;

  before(async () => {
    t = await buildTestApp({ env: { CAPTCHA_PROVIDER: 'altcha' } });
  });
  after(async () => {
    await t.close();
  });

  it('links only hashed files from the login page, each kept for a year and sent brotli, gzip or plain as asked', async () => {
    const login = await get(t, '/', 'br, gzip');
    assert.equal(login.statusCode, 200);
    const links = linkedAssets(decoded(login).toString());
    assert.ok(links.length >= 5, links.join(' '));
    for (const url of links) {
      assert.match(url, HASHED);
      const plain = await get(t, url, 'identity');
      assert.equal(plain.statusCode, 200, url);
      assert.equal(plain.headers['cache-control'], 'public, max-age=31536000, immutable', url);
      assert.equal(plain.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(plain.headers['content-encoding'], undefined, url);
      // Text files worth compressing (a few hundred bytes and up; PNGs are compressed already).
      if (!url.endsWith('.png') && plain.rawPayload.length >= 512) {
        const br = await get(t, url, 'gzip, deflate, br');
        assert.equal(br.headers['content-encoding'], 'br', url);
        assert.ok(br.rawPayload.length < plain.rawPayload.length, `${url}: brotli is smaller`);
        assert.deepEqual(decoded(br), plain.rawPayload, `${url}: brotli decodes to the file`);
        assert.equal(br.headers.vary, 'accept-encoding', url);
        const gzip = await get(t, url, 'gzip');
        assert.equal(gzip.headers['content-encoding'], 'gzip', url);
        assert.deepEqual(decoded(gzip), plain.rawPayload, `${url}: gzip decodes to the file`);
        const refused = await get(t, url, 'br;q=0, gzip');
        assert.equal(refused.headers['content-encoding'], 'gzip', `${url}: br;q=0 is respected`);
      }
      const again = await send(t.app, {
        method: 'GET',
        url,
        headers: { 'if-none-match': String(plain.headers.etag) },
      });
      assert.equal(again.statusCode, 304, `${url}: revalidated by its ETag`);
    }
  });

  it('keeps the page headers (CSP, framing) off scripts and stylesheets and on SVG and HTML files', async () => {
    const links = linkedAssets(decoded(await get(t, '/', 'br')).toString());
    const css = links.find((url) => url.endsWith('.css')) as string;
    const svg = links.find((url) => url.endsWith('.svg')) as string;
    assert.equal((await get(t, css)).headers['content-security-policy'], undefined);
    assert.equal((await get(t, css)).headers['x-frame-options'], undefined);
    assert.match(String((await get(t, svg)).headers['content-security-policy']), /default-src/);
  });

  it("serves another version's name, or the plain name, with today's file but not to be kept", async () => {
    const links = linkedAssets(decoded(await get(t, '/', 'br')).toString());
    const css = links.find((url) => /\/app\.[0-9a-f]{10}\.css$/.test(url)) as string;
    const current = await get(t, css);
    for (const url of ['/assets/app.0123456789.css', '/assets/app.css']) {
      const other = await get(t, url);
      assert.equal(other.statusCode, 200, url);
      assert.equal(other.headers['cache-control'], 'no-cache', url);
      assert.equal(other.body, current.body, url);
    }
    for (const url of ['/assets/nothing.0123456789.css', '/assets/app.0123456789.js.map']) {
      const missing = await get(t, url);
      assert.equal(missing.statusCode, 404, url);
      assert.match(missing.body, /Página no encontrada/);
    }
  });

  it('loads the CAPTCHA files only on pages with a CAPTCHA', async () => {
    const withCaptcha = ['/', '/olvide-mi-contrasena', '/registro'];
    for (const url of withCaptcha) {
      const page = (await get(t, url)).body;
      assert.match(page, /\/assets\/captcha\.[0-9a-f]{10}\.js/, url);
      assert.match(page, /\/assets\/captcha\.[0-9a-f]{10}\.css/, url);
    }
    for (const url of ['/no-existe', '/cambiar-contrasena']) {
      const page = (await get(t, url)).body;
      assert.doesNotMatch(page, /captcha\./, url);
      assert.match(page, /\/assets\/app\.[0-9a-f]{10}\.js/, url);
    }
  });

  it('compresses pages and API answers as they go, and keeps them out of every cache', async () => {
    const page = await get(t, '/', 'gzip, br');
    assert.equal(page.headers['content-encoding'], 'br');
    assert.equal(page.headers['cache-control'], 'no-store');
    assert.match(decoded(page).toString(), /Bienvenido al Portal del Socio/);
    const gzipOnly = await get(t, '/', 'gzip');
    assert.equal(gzipOnly.headers['content-encoding'], 'gzip');
    assert.equal((await get(t, '/', 'identity')).headers['content-encoding'], undefined);
    const openapi = await get(t, '/api/openapi.json', 'br');
    assert.equal(openapi.statusCode, 200);
    assert.equal(openapi.headers['content-encoding'], 'br');
    assert.equal(openapi.headers['cache-control'], 'no-store');
    assert.ok(JSON.parse(decoded(openapi).toString()).paths);
  });

  it('never decompresses a request body: a gzip body is refused, not inflated', async () => {
    const member = await createMember(t.db);
    const response = await send(t.app, {
      method: 'POST',
      url: '/api/v1/login',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: JSON.stringify({ document: member.document, password: 'clave2026' }),
    });
    assert.ok(response.statusCode >= 400 && response.statusCode < 500, String(response.statusCode));
    const form = await send(t.app, {
      method: 'POST',
      url: '/ingresar',
      headers: { ...FORM, 'content-encoding': 'gzip' },
      payload: 'document=1&password=2',
    });
    assert.ok(form.statusCode >= 400 && form.statusCode < 500, String(form.statusCode));
  });

  it('has a web app manifest with the brand, start URL, standalone display, es-UY and 192, 512 and maskable PNG icons', async () => {
    const page = (await get(t, '/')).body;
    const href = page.match(/<link rel="manifest" href="([^"]+)">/)?.[1];
    assert.ok(href);
    const response = await get(t, href);
    assert.match(String(response.headers['content-type']), /^application\/manifest\+json/);
    const manifest = response.json();
    assert.equal(manifest.name, 'Autogestión · Portal del Socio');
    assert.equal(manifest.short_name, 'Autogestión');
    assert.equal(manifest.start_url, '/');
    assert.equal(manifest.display, 'standalone');
    assert.equal(manifest.lang, 'es-UY');
    assert.equal(manifest.theme_color, '#a0102e');
    assert.match(manifest.background_color, /^#[0-9a-f]{6}$/);
    const sizes: string[] = [];
    for (const icon of manifest.icons) {
      const file = await get(t, icon.src);
      assert.equal(file.statusCode, 200, icon.src);
      assert.equal(file.headers['content-type'], 'image/png');
      const size = pngSize(file.rawPayload);
      assert.equal(`${size?.width}x${size?.height}`, icon.sizes, icon.src);
      sizes.push(`${icon.sizes} ${icon.purpose}`);
    }
    assert.deepEqual(sizes, ['192x192 any', '512x512 any', '512x512 maskable']);
    assert.match(page, /<meta name="theme-color" content="#a0102e">/);
  });

  it('serves the service worker at the root, revalidated, keeping only the offline page and its files', async () => {
    const worker = await get(t, '/sw.js', 'br');
    assert.equal(worker.statusCode, 200);
    assert.match(String(worker.headers['content-type']), /^text\/javascript/);
    assert.equal(worker.headers['cache-control'], 'no-cache');
    assert.equal(worker.headers['content-encoding'], 'br');
    const source = decoded(worker).toString();
    const precache: string[] = JSON.parse(source.match(/const PRECACHE = (\[.*\]);/)?.[1] ?? '[]');
    const offline = JSON.parse(source.match(/const OFFLINE_URL = (".*");/)?.[1] ?? '""');
    assert.ok(precache.includes(offline), 'the offline page is kept');
    for (const url of precache) {
      assert.match(url, HASHED);
      assert.equal((await get(t, url)).statusCode, 200, url);
    }
    // No page, no API answer, no CAPTCHA in the cache.
    assert.ok(!precache.some((url) => /captcha|\/api\/|\/inicio/.test(url)), precache.join(' '));
    // Pages go to the network; only GETs are looked at.
    assert.match(source, /request\.mode === 'navigate'/);
    assert.match(source, /request\.method !== 'GET'/);

    const page = await get(t, offline);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<h1>Sin conexión<\/h1>/);
    assert.match(page.body, /href="tel:144">CALL CENTER 144</);
    assert.doesNotMatch(page.body, /<form|csrf|_csrf/);
    assert.match(String(page.headers['content-security-policy']), /default-src 'self'/);
  });
});

describe(`the brand on pages and files (${databaseLabel})`, () => {
  let t: TestApp;
  const brand = {
    BRAND_NAME: 'Mutualista del Ejemplo',
    BRAND_SHORT_NAME: 'Ejemplo',
    BRAND_PRIMARY_COLOR: '#0B5394',
    BRAND_CALL_CENTER: '0800 1234',
  };

  before(async () => {
    t = await buildTestApp({ env: { CAPTCHA_PROVIDER: 'altcha', ...brand } });
  });
  after(async () => {
    await t.close();
  });

  it('puts the name, colour and call centre on the page, in its stylesheet and manifest, and none of the default', async () => {
    const page = (await get(t, '/')).body;
    assert.match(page, /<title>Ingreso · Mutualista del Ejemplo<\/title>/);
    assert.match(page, /<span class="brand-name">Mutualista del Ejemplo<\/span>/);
    assert.match(
      page,
      /<a class="call-center" href="tel:08001234">.*CALL CENTER 0800\u00a01234<\/a>/,
    );
    assert.match(page, /<meta name="theme-color" content="#0b5394">/);
    const links = linkedAssets(page);
    const css = (await get(t, links.find((u) => /\/app\.[0-9a-f]{10}\.css$/.test(u)) as string))
      .body;
    assert.match(css, /--brand:#0b5394/);
    const manifest = (
      await get(t, page.match(/rel="manifest" href="([^"]+)"/)?.[1] as string)
    ).json();
    assert.equal(manifest.name, 'Mutualista del Ejemplo · Portal del Socio');
    assert.equal(manifest.short_name, 'Ejemplo');
    assert.equal(manifest.theme_color, '#0b5394');
    const texts = [page, css, JSON.stringify(manifest)];
    for (const url of ['/olvide-mi-contrasena', '/registro', '/no-existe']) {
      texts.push((await get(t, url)).body);
    }
    for (const text of texts) {
      assert.doesNotMatch(text, /Autogesti[oó]n|#a0102e|#7a0c23|\b144\b/i);
    }
  });
});
