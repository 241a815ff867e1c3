// The pages' passkey calls (issue 14): JSON posts a page's script makes with
// the browser's WebAuthn API (public/passkeys.js), inside the pages' context
// so they carry the page's CSRF token (header x-csrf-token) and the session
// cookie. Without JavaScript or WebAuthn they are never called: the pages
// work as before.
//
//   POST /ingresar/llave/opciones      options for a login (no session)
//   POST /ingresar/llave               the answer → the session cookie, as a password login
//   POST /mi-cuenta/llaves/opciones    options for a new passkey ({ currentPassword } when needed)
//   POST /mi-cuenta/llaves/nueva       the answer → the passkey stored
//
// Answers: 200 with JSON, or { error: { code, message, fields } } with the
// error's status: the script shows `message` next to the button.
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DEVICE_TOKEN_DAYS } from '../../auth/devices.ts';
import { deleteSession } from '../../auth/sessions.ts';
import type { AppParts } from '../../deps.ts';
import { FlowError } from '../../flows/errors.ts';
import {
  logInWithPasskey,
  loginOptions,
  registerPasskey,
  registrationOptions,
} from '../../flows/passkeys/service.ts';
import { statusOf } from '../../plugins/error-statuses.ts';
import { applyErrorHeaders } from '../../plugins/errors.ts';
import type { Authenticated } from '../../plugins/session.ts';
import { sessionCookieName, sessionCookieOptions } from '../../plugins/session.ts';
import { deviceCookieName, requestContext } from '../context.ts';

export const PASSKEY_WEB_PATHS = {
  loginOptions: '/ingresar/llave/opciones',
  login: '/ingresar/llave',
  createOptions: '/mi-cuenta/llaves/opciones',
  create: '/mi-cuenta/llaves/nueva',
} as const;

/** Where a passkey login leads, and where a new passkey is listed. */
const AFTER_LOGIN = '/inicio';

export function registerPasskeyCalls(app: FastifyInstance, deps: AppParts): void {
  const flow = deps.flow;
  const hidden = { schema: { hide: true } };
  const authOf = (request: FastifyRequest) => request.auth as Authenticated;

  /** A FlowError as the script reads it; anything else is the error handler's (a 500). */
  const answerError = (reply: FastifyReply, error: unknown) => {
    if (!(error instanceof FlowError)) throw error;
    applyErrorHeaders(reply, error);
    return reply.code(statusOf(error)).send({
      error: { code: error.code, message: error.message, fields: error.fields },
    });
  };
  const bodyOf = <T>(request: FastifyRequest): T =>
    (request.body && typeof request.body === 'object' ? request.body : {}) as T;

  app.post(PASSKEY_WEB_PATHS.loginOptions, hidden, async (request, reply) => {
    try {
      return await loginOptions(flow, requestContext(request, 'web'));
    } catch (error) {
      return answerError(reply, error);
    }
  });

  app.post(PASSKEY_WEB_PATHS.login, hidden, async (request, reply) => {
    try {
      const result = await logInWithPasskey(
        flow,
        bodyOf<AuthenticationResponseJSON>(request),
        requestContext(request, 'web'),
      );
      // As the password login: a live session is replaced, the browser becomes known.
      const previous = request.cookies[sessionCookieName(deps)];
      if (previous) await deleteSession(deps.db, previous);
      reply.setCookie(sessionCookieName(deps), result.token, sessionCookieOptions(deps));
      reply.setCookie(deviceCookieName(deps.config.secureCookies), result.deviceToken, {
        ...sessionCookieOptions(deps),
        maxAge: DEVICE_TOKEN_DAYS * 86_400,
      });
      return { redirect: AFTER_LOGIN };
    } catch (error) {
      return answerError(reply, error);
    }
  });

  const guarded = { schema: { hide: true }, preHandler: app.requireMember };

  app.post(PASSKEY_WEB_PATHS.createOptions, guarded, async (request, reply) => {
    try {
      const body = bodyOf<{ currentPassword?: unknown }>(request);
      return await registrationOptions(
        flow,
        authOf(request),
        {
          currentPassword:
            typeof body.currentPassword === 'string' ? body.currentPassword : undefined,
        },
        requestContext(request, 'web'),
      );
    } catch (error) {
      return answerError(reply, error);
    }
  });

  app.post(PASSKEY_WEB_PATHS.create, guarded, async (request, reply) => {
    try {
      const view = await registerPasskey(
        flow,
        authOf(request),
        bodyOf<RegistrationResponseJSON>(request),
        requestContext(request, 'web'),
      );
      return { passkey: { id: view.id, name: view.name } };
    } catch (error) {
      return answerError(reply, error);
    }
  });
}
