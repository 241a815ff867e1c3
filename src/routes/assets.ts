// The browser's files (src/site/site.ts): /assets/<name>.<hash>.<ext>, and
// the service worker at /sw.js. Neither pages nor API: a context of their
// own, without the pages' CSRF hooks, whose errors and missing files answer
// the portal's error and not-found pages.
//
// Each file goes out as it was compressed at start (brotli, else gzip, else
// as is), never compressed per request. Under its current hashed name it is
// kept for a year; under another version's hash or its plain name (a page
// from an instance being upgraded), today's file is sent but not to be kept.
import { Negotiator } from '@fastify/accept-negotiator';
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { sendErrorPage, useHtmlErrors } from '../plugins/errors.ts';
import { type Asset, SERVICE_WORKER_PATH, type Site } from '../site/site.ts';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Revalidated at every use: the ETag answers 304 when nothing changed. */
export const REVALIDATE = 'no-cache';

const encodings = new Negotiator({
  supportedValues: ['br', 'gzip', 'identity'],
  cache: new Map(),
});

function sendAsset(
  request: FastifyRequest,
  reply: FastifyReply,
  asset: Asset,
  cacheControl: string,
): FastifyReply {
  reply
    .header('cache-control', cacheControl)
    .header('etag', asset.etag)
    .header('x-content-type-options', 'nosniff');
  if (asset.br || asset.gzip) reply.header('vary', 'accept-encoding');
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  const accepted =
    asset.br || asset.gzip ? encodings.negotiate(request.headers['accept-encoding'] ?? '') : null;
  let body = asset.body;
  if (accepted === 'br' && asset.br) {
    body = asset.br;
    reply.header('content-encoding', 'br');
  } else if ((accepted === 'gzip' || accepted === 'br') && asset.gzip) {
    body = asset.gzip;
    reply.header('content-encoding', 'gzip');
  }
  return reply.type(asset.type).send(body);
}

/**
 * The headers that speak to documents (helmet's CSP, framing, opener,
 * referrer, permissions): kept on HTML and SVG, which a browser may open as
 * a document, dropped from scripts, stylesheets, PNGs and the manifest,
 * where they do nothing but cost bytes on every cold load.
 */
const DOCUMENT_HEADERS = [
  'content-security-policy',
  'cross-origin-opener-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
  'permissions-policy',
];

function assetsPlugin(site: Site): FastifyPluginAsync {
  return async (assets) => {
    useHtmlErrors(assets);
    assets.addHook('onSend', async (_request, reply, payload) => {
      const type = String(reply.getHeader('content-type') ?? '');
      if (reply.statusCode < 400 && !/^(text\/html|image\/svg\+xml)/.test(type))
        for (const name of DOCUMENT_HEADERS) reply.removeHeader(name);
      return payload;
    });
    assets.get<{ Params: { name: string } }>(
      '/:name',
      { schema: { hide: true } },
      async (request, reply) => {
        const found = site.find(request.params.name);
        if (!found) return reply.callNotFound();
        return sendAsset(request, reply, found.asset, found.current ? IMMUTABLE : REVALIDATE);
      },
    );
  };
}

/** The assets' context, at /assets/, and the service worker at the root. */
export async function registerAssets(app: FastifyInstance, site: Site): Promise<void> {
  await app.register(assetsPlugin(site), { prefix: '/assets/' });
  await app.register(async (worker) => {
    worker.setErrorHandler(sendErrorPage);
    // At the root so that its scope is the whole portal; always revalidated,
    // so a new version reaches members at their next visit.
    worker.get(SERVICE_WORKER_PATH, { schema: { hide: true } }, async (request, reply) =>
      sendAsset(request, reply, site.serviceWorker, REVALIDATE),
    );
  });
}
