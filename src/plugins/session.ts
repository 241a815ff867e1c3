// Reads the member's session from the cookie (pages) or the bearer token
// (API) and offers guards for routes that need one.
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

export function registerSession(app: FastifyInstance, deps: AppDeps): void {
  const policy = deps.config.session;
  app.decorateRequest('auth', null);

  /** Loads the web session from its cookie; null when absent or over. */
  app.decorate('loadWebSession', async (request: FastifyRequest) => {
    const token = request.cookies[sessionCookieName(deps)];
    if (!token) return null;
    const found = await validateSession(deps.db, deps.clock, policy, token);
    request.auth = found && found.session.kind === 'web' ? { token, ...found } : null;
    return request.auth;
  });

  /** preHandler for API routes that need a bearer token. */
  app.decorate('requireApiSession', async (request: FastifyRequest, _reply: FastifyReply) => {
    const token = bearerToken(request);
    const found = token ? await validateSession(deps.db, deps.clock, policy, token) : null;
    if (!token || !found || found.session.kind !== 'api') throw new FlowError('UNAUTHENTICATED');
    request.auth = { token, ...found };
  });
}

declare module 'fastify' {
  interface FastifyInstance {
    loadWebSession(request: FastifyRequest): Promise<Authenticated | null>;
    requireApiSession(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  }
}
