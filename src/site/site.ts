// What the browser loads besides the pages, built once at start from public/,
// the ALTCHA package and the brand (ADR 022):
// - every file under a content-hashed name (app.3f9c0a1b2d.css), so it can be
//   cached for a year and a new version is a new address;
// - compressed once, here, with brotli and gzip, never per request;
// - the brand's colour written into the stylesheet (the CSP forbids inline
//   styles), its logo and icons (src/site/icons.ts), the web app manifest,
//   the offline page and the service worker made from them.
// The CAPTCHA's files are one script and one stylesheet, linked only by the
// pages that show a CAPTCHA. Passkeys' script (the @simplewebauthn/browser
// bundle and public/passkeys.js, one file) is linked only by the pages that
// use a passkey: the login page and «Llaves de acceso».
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brotliCompressSync, gzipSync, constants as zlib } from 'node:zlib';
import { text } from '../messages/es.ts';
import { PUBLIC_DIR } from '../paths.ts';
import { offlinePage } from '../views/pages/offline.ts';
import { type Brand, PAGE_BACKGROUND } from './brand.ts';
import { brandImages } from './icons.ts';

const require = createRequire(import.meta.url);

/** Where the service worker is served: the root, so its scope is the whole portal. */
export const SERVICE_WORKER_PATH = '/sw.js';
export const ASSETS_PREFIX = '/assets/';
/** Hex digits of the content hash in a file's name. */
export const HASH_LENGTH = 10;

export interface Asset {
  /** The name under /assets/, with its content hash: "app.3f9c0a1b2d.css". */
  readonly name: string;
  /** The same without the hash: "app.css". */
  readonly plainName: string;
  readonly type: string;
  readonly body: Buffer;
  /** Compressed forms, for text files whose compression is worth it. */
  readonly br: Buffer | null;
  readonly gzip: Buffer | null;
  readonly etag: string;
}

/** The addresses a page links to. */
export interface SiteLinks {
  readonly css: string;
  readonly script: string;
  readonly captchaScript: string;
  readonly captchaCss: string;
  /** The passkeys' script: the WebAuthn helper library, then public/passkeys.js. */
  readonly passkeysScript: string;
  readonly favicon: { readonly href: string; readonly type: string };
  readonly logo: { readonly href: string; readonly width: number; readonly height: number };
  readonly manifest: string;
  readonly appleTouchIcon: string;
  /** The offline page the service worker keeps. */
  readonly offline: string;
}

/** What the page layout needs of the site (src/views/layout.ts). */
export interface PageSite {
  readonly brand: Brand;
  readonly links: SiteLinks;
}

export interface Site extends PageSite {
  /** By hashed or plain name; `current` is false for another version's hash. */
  find(name: string): { asset: Asset; current: boolean } | undefined;
  /** The service worker, served at SERVICE_WORKER_PATH. */
  readonly serviceWorker: Asset;
  readonly assets: readonly Asset[];
}

const COMPRESSIBLE = /^(text\/|application\/(javascript|json|manifest\+json)|image\/svg\+xml)/;

function compress(type: string, body: Buffer): { br: Buffer | null; gzip: Buffer | null } {
  if (!COMPRESSIBLE.test(type) || body.length < 256) return { br: null, gzip: null };
  const br = brotliCompressSync(body, {
    params: {
      [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
      [zlib.BROTLI_PARAM_MODE]: type.startsWith('image/')
        ? zlib.BROTLI_MODE_GENERIC
        : zlib.BROTLI_MODE_TEXT,
      [zlib.BROTLI_PARAM_SIZE_HINT]: body.length,
    },
  });
  const gzip = gzipSync(body, { level: 9 });
  return { br: br.length < body.length ? br : null, gzip: gzip.length < body.length ? gzip : null };
}

function contentHash(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex').slice(0, HASH_LENGTH);
}

/** An asset under a name hashed from its content: plainName "app.css" → "app.<hash>.css". */
export function makeAsset(plainName: string, type: string, body: Buffer | string): Asset {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const hash = contentHash(bytes);
  const dot = plainName.lastIndexOf('.');
  return {
    name: `${plainName.slice(0, dot)}.${hash}${plainName.slice(dot)}`,
    plainName,
    type,
    body: bytes,
    ...compress(type, bytes),
    etag: `"${hash}"`,
  };
}

const UTF8 = '; charset=utf-8';
const JS = `text/javascript${UTF8}`;
const CSS = `text/css${UTF8}`;

function publicFile(name: string): string {
  return readFileSync(join(PUBLIC_DIR, name), 'utf8');
}

function altchaFile(path: string): string {
  // The package exports only its entry points; dist/ is one level up from them.
  return readFileSync(join(dirname(require.resolve('altcha')), '..', path), 'utf8');
}

function simpleWebAuthnBundle(): string {
  // The package exports only its entry points (script/index.js for require);
  // its browser bundle is in dist/, one level up. Its UMD wrapper, run as a
  // module, defines globalThis.SimpleWebAuthnBrowser, which passkeys.js reads.
  const entry = require.resolve('@simplewebauthn/browser');
  return readFileSync(join(dirname(entry), '..', 'dist', 'bundle', 'index.umd.min.js'), 'utf8');
}

/** Writes each value in place of its quoted placeholder ('NAME'); a placeholder not found is an error. */
function fillIn(source: string, values: Record<string, string>): string {
  let out = source;
  for (const [name, value] of Object.entries(values)) {
    const placeholder = `'${name}'`;
    if (!out.includes(placeholder)) throw new Error(`no ${placeholder} to fill in`);
    out = out.replaceAll(placeholder, JSON.stringify(value).replaceAll('"', "'"));
  }
  return out;
}

const href = (asset: Asset) => `${ASSETS_PREFIX}${asset.name}`;

/** The stylesheet: the brand's colours, then public/app.css. */
function stylesheet(brand: Brand): string {
  return `:root{--brand:${brand.primaryColor};--brand-dark:${brand.primaryDark}}\n${publicFile('app.css')}`;
}

/** The web app manifest (members install the portal with the browser's own prompt). */
function manifest(brand: Brand, icons: { any192: Asset; any512: Asset; maskable: Asset }): string {
  return JSON.stringify({
    id: '/',
    name: `${brand.name} · ${text.portalName}`,
    short_name: brand.shortName,
    start_url: '/',
    scope: '/',
    display: 'standalone',
    lang: 'es-UY',
    dir: 'ltr',
    theme_color: brand.primaryColor,
    background_color: PAGE_BACKGROUND,
    icons: [
      { src: href(icons.any192), sizes: '192x192', type: 'image/png', purpose: 'any' },
      { src: href(icons.any512), sizes: '512x512', type: 'image/png', purpose: 'any' },
      { src: href(icons.maskable), sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  });
}

/** The service worker: its version and what it keeps, then public/sw.js. */
function serviceWorker(offline: Asset, precache: Asset[]): Asset {
  const paths = precache.map(href);
  const version = contentHash(paths.join('\n'));
  const body = `const VERSION = ${JSON.stringify(version)};
const OFFLINE_URL = ${JSON.stringify(href(offline))};
const PRECACHE = ${JSON.stringify(paths)};
${publicFile('sw.js')}`;
  return makeAsset('sw.js', JS, body);
}

async function buildSite(brand: Brand): Promise<Site> {
  const images = await brandImages(brand);
  const pbkdf2 = makeAsset('altcha-pbkdf2.js', JS, altchaFile('workers/pbkdf2.js'));
  const captchaScript = makeAsset(
    'captcha.js',
    JS,
    `${altchaFile('external/altcha.min.js')}\n${fillIn(publicFile('altcha-setup.js'), {
      PBKDF2_WORKER_URL: href(pbkdf2),
    })}`,
  );
  const captchaCss = makeAsset('captcha.css', CSS, altchaFile('external/altcha.css'));
  const passkeysScript = makeAsset(
    'passkeys.js',
    JS,
    `${simpleWebAuthnBundle()}\n${publicFile('passkeys.js')}`,
  );
  const css = makeAsset('app.css', CSS, stylesheet(brand));
  const script = makeAsset('app.js', JS, publicFile('app.js'));
  const faviconExt = images.favicon.type === 'image/svg+xml' ? 'svg' : 'png';
  const favicon = makeAsset(`favicon.${faviconExt}`, images.favicon.type, images.favicon.bytes);
  const logoExt = images.headerLogo.type === 'image/svg+xml' ? 'svg' : 'png';
  // The default mark is both: one file, one request.
  const logo = images.headerLogo.bytes.equals(images.favicon.bytes)
    ? favicon
    : makeAsset(`logo.${logoExt}`, images.headerLogo.type, images.headerLogo.bytes);
  const any192 = makeAsset('icon-192.png', 'image/png', images.icon192);
  const any512 = makeAsset('icon-512.png', 'image/png', images.icon512);
  const maskable = makeAsset('icon-maskable-512.png', 'image/png', images.maskable512);
  const appleTouch = makeAsset('apple-touch-icon.png', 'image/png', images.appleTouch180);
  const webManifest = makeAsset(
    'manifest.webmanifest',
    `application/manifest+json${UTF8}`,
    manifest(brand, { any192, any512, maskable }),
  );

  // The offline page is a file like the others: it carries no member data.
  const links: Omit<SiteLinks, 'offline'> = {
    css: href(css),
    script: href(script),
    captchaScript: href(captchaScript),
    captchaCss: href(captchaCss),
    passkeysScript: href(passkeysScript),
    favicon: { href: href(favicon), type: images.favicon.type },
    logo: {
      href: href(logo),
      width: images.headerLogo.width,
      height: images.headerLogo.height,
    },
    manifest: href(webManifest),
    appleTouchIcon: href(appleTouch),
  };
  const offline = makeAsset(
    'sin-conexion.html',
    `text/html${UTF8}`,
    offlinePage({ brand, links: { ...links, offline: '' } }),
  );
  const assets = [
    css,
    script,
    captchaScript,
    captchaCss,
    pbkdf2,
    passkeysScript,
    ...new Set([favicon, logo]),
    any192,
    any512,
    maskable,
    appleTouch,
    webManifest,
    offline,
  ];
  const byName = new Map<string, Asset>();
  const byPlainName = new Map<string, Asset>();
  for (const asset of assets) {
    byName.set(asset.name, asset);
    byPlainName.set(asset.plainName, asset);
  }
  return {
    brand,
    links: { ...links, offline: href(offline) },
    assets,
    serviceWorker: serviceWorker(offline, [...new Set([offline, css, script, favicon, logo])]),
    find(name) {
      const exact = byName.get(name);
      if (exact) return { asset: exact, current: true };
      // Another version's name (a page from an instance not yet upgraded, or
      // already upgraded): today's file, not to be kept as that version.
      const plain = name.replace(new RegExp(`\\.[0-9a-f]{${HASH_LENGTH}}(\\.[a-z0-9]+)$`), '$1');
      const asset = byPlainName.get(plain);
      return asset ? { asset, current: false } : undefined;
    },
  };
}

const built = new Map<string, Promise<Site>>();

/**
 * The site for a brand, built once per process (every app a test builds
 * shares it). A failure (a logo the image library cannot read) rejects.
 */
export function loadSite(brand: Brand): Promise<Site> {
  const key = JSON.stringify({
    ...brand,
    logo: brand.logo ? contentHash(brand.logo.bytes) : null,
  });
  let site = built.get(key);
  if (!site) {
    site = buildSite(brand);
    built.set(key, site);
    site.catch(() => built.delete(key));
  }
  return site;
}
