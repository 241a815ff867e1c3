// Reads the member's session from the cookie (pages) or the bearer token
// (API). Each area installs its guards in its own context; a route that needs
// a logged-in member says so once, with the guard as its preHandler, and
// reads request.auth.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { validateSession } from '../auth/sessions.ts';
import type { Member, Session } from '../db/schema.ts';
import type { AppDeps } from '../deps.ts';
import { FlowError } from '../flows/errors.ts';

export interface Authenticated {
  token: string;
  session: Session;
  member: Member;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: Authenticated | null;
  }
}

export function sessionCookieName(deps: AppDeps): string {
  return deps.config.secureCookies ? '__Host-sid' : 'sid';
}

export function sessionCookieOptions(deps: AppDeps, expires?: Date) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: deps.config.secureCookies,
    ...(expires ? { expires } : {}),
  };
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}

/** Reads the web session from its cookie into request.auth; null when absent or over. */
async function loadWebSession(
  deps: AppDeps,
  request: FastifyRequest,
): Promise<Authenticated | null> {
  const token = request.cookies[sessionCookieName(deps)];
  if (!token) return null;
  const found = await validateSession(deps.db, deps.clock, deps.config.session, token);
  request.auth = found && found.session.kind === 'web' ? { token, ...found } : null;
  return request.auth;
}

/**
 * The pages' guards, for their context (src/routes/pages.ts); a route
 * declares the one it needs as its preHandler and reads request.auth.
 */
export function registerPageGuards(pages: FastifyInstance, deps: AppDeps): void {
  pages.decorateRequest('auth', null);

  pages.decorate('loadMember', async (request: FastifyRequest) => {
    await loadWebSession(deps, request);
  });

  pages.decorate('requireMember', async (request: FastifyRequest, reply: FastifyReply) => {
    if (await loadWebSession(deps, request)) return;
    // A cookie that no longer opens a session: gone, and the login says why.
    const hadCookie = Boolean(request.cookies[sessionCookieName(deps)]);
    if (hadCookie) reply.clearCookie(sessionCookieName(deps), sessionCookieOptions(deps));
    return reply.redirect(hadCookie ? '/?vencida' : '/', 303);
  });
}

/** The API's guard, for its context (src/routes/api.ts). */
export function registerApiGuard(api: FastifyInstance, deps: AppDeps): void {
  api.decorateRequest('auth', null);

  api.decorate('requireApiMember', async (request: FastifyRequest) => {
    const token = bearerToken(request);
    const found = token
      ? await validateSession(deps.db, deps.clock, deps.config.session, token)
      : null;
    if (!token || !found || found.session.kind !== 'api') throw new FlowError('UNAUTHENTICATED');
    request.auth = { token, ...found };
  });
}

/** The member a guard let through; only routes that declare a guard may ask. */
export function memberOf(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new Error(`${request.routeOptions.url} declares no member guard`);
  return request.auth;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Pages: the member's session, if any, into request.auth; never refuses. */
    loadMember(request: FastifyRequest, reply: FastifyReply): Promise<void>;
    /**
     * Pages: a logged-in member in request.auth, or back to the login: `/`,
     * or `/?vencida` with the cookie cleared when it no longer opens a session.
     */
    requireMember(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
    /** API: the member of a live API session's bearer token, or 401 UNAUTHENTICATED. */
    requireApiMember(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  }
}
