// Cross-site request forgery. Every form post of the pages must come from
// our own origin and carry the token rendered into the form; the API is not
// concerned (bearer tokens, JSON bodies only, no ambient credentials).
// Installed in the pages' encapsulated context only (src/routes/pages.ts):
// every request its hooks see is a page or a page's form post, including an
// address no area has (the pages answer those), never the API or an asset.
//
// @fastify/csrf-protection keeps a random secret in an HttpOnly cookie and
// derives a salted token from it for each page (a double submit where the
// form carries a hash, never the secret). The Origin check (or Referer when
// a browser sends no Origin) refuses a cross-site post before the token is
// even looked at. Pages never handle the token: it is written into every
// `<form method="post">` of an HTML response here, so no form can forget it.
import fastifyCsrfProtection from '@fastify/csrf-protection';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps.ts';
import { FlowError } from '../flows/errors.ts';
import { escapeHtml } from '../views/html.ts';

/** The form field that carries the token. */
const CSRF_FIELD = '_csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const POST_FORM = /<form\b[^>]*\bmethod="post"[^>]*>/gi;

declare module 'fastify' {
  interface FastifyRequest {
    /** The token for this page's forms; set on page requests. */
    csrfToken: string | null;
  }
}

function csrfCookieName(deps: AppDeps): string {
  return deps.config.secureCookies ? '__Host-csrf' : 'csrf';
}

/** The protection, for the context `pages` and the routes in it. */
export async function registerCsrf(pages: FastifyInstance, deps: AppDeps): Promise<void> {
  await pages.register(fastifyCsrfProtection, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: csrfCookieName(deps),
    cookieOpts: {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: deps.config.secureCookies,
    },
    logLevel: 'info',
  });
  pages.decorateRequest('csrfToken', null);
  const publicOrigin = new URL(deps.config.publicUrl).origin;

  pages.addHook('preHandler', (request, reply, done) => {
    if (SAFE_METHODS.has(request.method)) {
      request.csrfToken = reply.generateCsrf();
      return done();
    }
    if (!sameOrigin(request, publicOrigin)) return done(new FlowError('CROSS_SITE_FORM'));
    // The plugin answers a missing or wrong token with its FST_CSRF_* errors
    // (mapped to FORM_EXPIRED); a page that re-renders the form gets a token.
    pages.csrfProtection(request, reply, () => {
      request.csrfToken = reply.generateCsrf();
      done();
    });
  });

  pages.addHook('onSend', async (request, reply, payload) => {
    const token = request.csrfToken;
    if (!token || typeof payload !== 'string' || !isHtml(reply)) return payload;
    const field = `<input type="hidden" name="${CSRF_FIELD}" value="${escapeHtml(token)}">`;
    return payload.replace(POST_FORM, (form) => `${form}\n${field}`);
  });
}

function isHtml(reply: FastifyReply): boolean {
  return String(reply.getHeader('content-type') ?? '').startsWith('text/html');
}

/**
 * The browser's own account of where a post comes from. Fetch metadata
 * first: `Sec-Fetch-Site` other than same-origin (or none, typed by the
 * member) is refused. Then Origin, else Referer: it must be PUBLIC_URL's
 * origin or the origin the request was sent to (a member who opened the
 * portal by another name of this server). An absent or "null" Origin with
 * no Referer is left to the token: browsers send "null" from pages with
 * `Referrer-Policy: no-referrer` (the change-password page), and some
 * privacy settings strip both headers.
 */
export function sameOrigin(request: FastifyRequest, publicOrigin: string): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const claimed = claimedOrigin(request);
  if (claimed === undefined) return true;
  return claimed === publicOrigin || claimed === requestOrigin(request);
}

function claimedOrigin(request: FastifyRequest): string | null | undefined {
  const origin = request.headers.origin;
  if (typeof origin === 'string' && origin !== 'null') return origin.toLowerCase();
  const referer = request.headers.referer;
  if (typeof referer !== 'string') return undefined;
  try {
    return new URL(referer).origin;
  } catch {
    return null;
  }
}

/** The origin the request was sent to, default port left out as browsers do. */
function requestOrigin(request: FastifyRequest): string | null {
  try {
    return new URL(`${request.protocol}://${request.host}`).origin;
  } catch {
    return null;
  }
}
