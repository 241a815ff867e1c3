// Pages: login ("/"), the form post, the member home and logout. A passkey
// login posts JSON from the login page's script (src/routes/web/passkeys.ts).
import type { FastifyInstance } from 'fastify';
import { DEVICE_TOKEN_DAYS } from '../../auth/devices.ts';
import { deleteSession } from '../../auth/sessions.ts';
import type { AppParts } from '../../deps.ts';
import { logIn, logOut } from '../../flows/login/service.ts';
import { text } from '../../messages/es.ts';
import { sessionCookieName, sessionCookieOptions } from '../../plugins/session.ts';
import { loginPage } from '../../views/pages/login.ts';
import { deviceCookieName, formField, requestContext, resendForm } from '../context.ts';

export function registerLoginPages(app: FastifyInstance, deps: AppParts): void {
  const flowDeps = deps.flow;
  const html = 'text/html; charset=utf-8';
  // The passkey button and autofill only where WebAuthn can work (src/auth/passkey-party.ts).
  const passkeys = deps.config.passkeys.rpId !== null;

  app.get('/', { schema: { hide: true }, preHandler: app.loadMember }, async (request, reply) => {
    if (request.auth) return reply.redirect('/inicio', 303);
    const query = request.query as Record<string, unknown>;
    const notice =
      query.salio !== undefined
        ? text.loggedOut
        : query.vencida !== undefined
          ? text.sessionExpired
          : undefined;
    return reply
      .type(html)
      .send(
        loginPage(deps.site, { captcha: deps.captcha, passkeys, ...(notice ? { notice } : {}) }),
      );
  });

  app.post('/ingresar', { schema: { hide: true } }, async (request, reply) => {
    const document = formField(request.body, 'document');
    try {
      const result = await logIn(
        flowDeps,
        {
          document,
          password: formField(request.body, 'password'),
          captcha: formField(request.body, deps.captcha.widget.fieldName),
        },
        requestContext(request, 'web'),
      );
      // Logging in over a live session replaces it rather than leaving it behind.
      const previous = request.cookies[sessionCookieName(deps)];
      if (previous) await deleteSession(deps.db, previous);
      reply.setCookie(sessionCookieName(deps), result.token, sessionCookieOptions(deps));
      // This browser is known to the member from now on (ADR 016).
      reply.setCookie(deviceCookieName(deps.config.secureCookies), result.deviceToken, {
        ...sessionCookieOptions(deps),
        maxAge: DEVICE_TOKEN_DAYS * 86_400,
      });
      return reply.redirect('/inicio', 303);
    } catch (error) {
      return resendForm(reply, error, (e) =>
        loginPage(deps.site, {
          captcha: deps.captcha,
          passkeys,
          document: (document ?? '').slice(0, 32),
          message: e.message,
          fields: e.fields,
        }),
      );
    }
  });

  // The member home ("/inicio") and its pages: src/routes/web/account.ts.

  // Logging out works with or without a live session: it ends the one there is.
  app.post(
    '/salir',
    { schema: { hide: true }, preHandler: app.loadMember },
    async (request, reply) => {
      const auth = request.auth;
      if (auth) await logOut(flowDeps, auth.token, auth.member.id, requestContext(request, 'web'));
      reply.clearCookie(sessionCookieName(deps), sessionCookieOptions(deps));
      return reply.redirect('/?salio', 303);
    },
  );
}
