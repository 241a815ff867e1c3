// Pages of recovery and registration: request, SMS code, change password.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppParts } from '../../deps.ts';
import { FlowError } from '../../flows/errors.ts';
import { ACTIVATION_CODE_PATH, redeemActivationCode } from '../../flows/recovery/activation.ts';
import {
  CHANGE_PASSWORD_PATH,
  peekPasswordToken,
  requestPasswordChange,
  setPasswordWithToken,
  verifySmsCode,
} from '../../flows/recovery/service.ts';
import { type RecoveryFlow, SET_PASSWORD_TOKEN_MINUTES } from '../../flows/recovery/state.ts';
import { statusOf } from '../../plugins/error-statuses.ts';
import { applyErrorHeaders } from '../../plugins/errors.ts';
import { sessionCookieName, sessionCookieOptions } from '../../plugins/session.ts';
import { activationCodePage } from '../../views/pages/activation.ts';
import { changePasswordPage } from '../../views/pages/change-password.ts';
import { RECOVERY_PATHS, recoveryPage } from '../../views/pages/recovery.ts';
import { formField, requestContext, resendForm } from '../context.ts';

const HTML = 'text/html; charset=utf-8';

export function registerRecoveryPages(app: FastifyInstance, deps: AppParts): void {
  const flowDeps = deps.flow;
  const tokenCookie = deps.config.secureCookies ? '__Host-pwtoken' : 'pwtoken';
  const tokenCookieOptions = {
    ...sessionCookieOptions(deps),
    maxAge: SET_PASSWORD_TOKEN_MINUTES * 60,
  };

  for (const flow of ['recovery', 'registration'] as RecoveryFlow[]) {
    const base = RECOVERY_PATHS[flow];

    app.get(base, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type(HTML)
        .send(recoveryPage(deps.site, { flow, captcha: deps.captcha, step: 'request' })),
    );

    app.post(base, { schema: { hide: true } }, async (request, reply) => {
      const document = formField(request.body, 'document');
      const channel = formField(request.body, 'channel');
      try {
        const result = await requestPasswordChange(
          flowDeps,
          {
            document,
            channel,
            captcha: formField(request.body, deps.captcha.widget.fieldName),
            flow,
          },
          requestContext(request, 'web'),
        );
        return reply.type(HTML).send(
          recoveryPage(deps.site, {
            flow,
            captcha: deps.captcha,
            step: result.channel === 'email' ? 'email-sent' : 'code',
            document: result.identifier,
            channel: result.channel,
          }),
        );
      } catch (error) {
        return resendForm(reply, error, (e) =>
          recoveryPage(deps.site, {
            flow,
            captcha: deps.captcha,
            step: 'request',
            document: (document ?? '').slice(0, 32),
            channel: channel === 'email' || channel === 'sms' ? channel : undefined,
            message: e.message,
            fields: e.fields,
          }),
        );
      }
    });

    // The code step on its own, for a code a branch sent (src/routes/web/desk-members.ts).
    app.get(`${base}/codigo`, { schema: { hide: true } }, async (_request, reply) =>
      reply.type(HTML).send(recoveryPage(deps.site, { flow, captcha: deps.captcha, step: 'code' })),
    );

    app.post(`${base}/codigo`, { schema: { hide: true } }, async (request, reply) => {
      const document = formField(request.body, 'document');
      try {
        const { token } = await verifySmsCode(
          flowDeps,
          { document, code: formField(request.body, 'code') },
          requestContext(request, 'web'),
        );
        reply.setCookie(tokenCookie, token, tokenCookieOptions);
        return reply.redirect(CHANGE_PASSWORD_PATH, 303);
      } catch (error) {
        return resendForm(reply, error, (e) =>
          recoveryPage(deps.site, {
            flow,
            captcha: deps.captcha,
            step: 'code',
            document: (document ?? '').slice(0, 32),
            message: e.message,
            fields: e.fields,
          }),
        );
      }
    });
  }

  // "Tengo un código de activación": a right printed code leads to "Cambiar contraseña".
  app.get(ACTIVATION_CODE_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.type(HTML).send(activationCodePage(deps.site, { captcha: deps.captcha })),
  );

  app.post(ACTIVATION_CODE_PATH, { schema: { hide: true } }, async (request, reply) => {
    const document = formField(request.body, 'document');
    try {
      const { token } = await redeemActivationCode(
        flowDeps,
        {
          document,
          code: formField(request.body, 'code'),
          captcha: formField(request.body, deps.captcha.widget.fieldName),
        },
        requestContext(request, 'web'),
      );
      reply.setCookie(tokenCookie, token, tokenCookieOptions);
      return reply.redirect(CHANGE_PASSWORD_PATH, 303);
    } catch (error) {
      // The code typed is never shown again; the document is.
      return resendForm(reply, error, (e) =>
        activationCodePage(deps.site, {
          captcha: deps.captcha,
          document: (document ?? '').slice(0, 32),
          message: e.message,
          fields: e.fields,
        }),
      );
    }
  });

  const renderChange = (
    reply: FastifyReply,
    status: number,
    view: Parameters<typeof changePasswordPage>[1],
  ) =>
    reply
      .code(status)
      .type(HTML)
      .header('referrer-policy', 'no-referrer')
      .send(changePasswordPage(deps.site, view));
  const policyText = flowDeps.passwordPolicy.ruleText;

  app.get(
    CHANGE_PASSWORD_PATH,
    { schema: { hide: true } },
    async (request: FastifyRequest, reply) => {
      const query = request.query as Record<string, unknown>;
      if (typeof query.token === 'string') {
        // The link's token moves into a short-lived cookie and out of the
        // address bar (history, screenshots, Referer). Opening never uses it.
        reply.header('referrer-policy', 'no-referrer');
        reply.setCookie(tokenCookie, query.token.slice(0, 64), tokenCookieOptions);
        return reply.redirect(CHANGE_PASSWORD_PATH, 303);
      }
      const valid = await peekPasswordToken(flowDeps, request.cookies[tokenCookie]);
      return renderChange(reply, valid ? 200 : 400, {
        captcha: deps.captcha,
        ruleText: policyText,
        state: valid ? 'form' : 'invalid',
        ...(valid ? { holder: valid.holder } : {}),
      });
    },
  );

  app.post(CHANGE_PASSWORD_PATH, { schema: { hide: true } }, async (request, reply) => {
    try {
      await setPasswordWithToken(
        flowDeps,
        {
          token: request.cookies[tokenCookie],
          password: formField(request.body, 'password'),
          passwordConfirmation: formField(request.body, 'passwordConfirmation'),
          captcha: formField(request.body, deps.captcha.widget.fieldName),
        },
        requestContext(request, 'web'),
      );
      reply.clearCookie(tokenCookie, sessionCookieOptions(deps));
      reply.clearCookie(sessionCookieName(deps), sessionCookieOptions(deps));
      return renderChange(reply, 200, {
        captcha: deps.captcha,
        ruleText: policyText,
        state: 'done',
      });
    } catch (error) {
      if (!(error instanceof FlowError)) throw error;
      applyErrorHeaders(reply, error);
      if (error.code === 'TOKEN_INVALID') {
        reply.clearCookie(tokenCookie, sessionCookieOptions(deps));
        return renderChange(reply, statusOf(error), {
          captcha: deps.captcha,
          ruleText: policyText,
          state: 'invalid',
        });
      }
      const valid = await peekPasswordToken(flowDeps, request.cookies[tokenCookie]);
      return renderChange(reply, statusOf(error), {
        captcha: deps.captcha,
        ruleText: policyText,
        state: 'form',
        ...(valid ? { holder: valid.holder } : {}),
        message: error.message,
        fields: error.fields,
      });
    }
  });
}
