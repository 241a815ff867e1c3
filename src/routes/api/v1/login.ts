// JSON twins of the login pages, for the mobile app.
import type { FastifyInstance } from 'fastify';
import { deleteSession } from '../../../auth/sessions.ts';
import { addressKey, hitLimit, peekLimit } from '../../../auth/throttle.ts';
import { ALTCHA_CHALLENGE_MINUTES, AltchaCaptcha } from '../../../captcha/altcha.ts';
import { type AppDeps, flowDepsFor } from '../../../deps.ts';
import { viewMember } from '../../../flows/context.ts';
import { FlowError, throttledError } from '../../../flows/errors.ts';
import { logIn, logOut } from '../../../flows/login/service.ts';
import { GLOBAL_FAILURES_KEY, HARDENED_CAPTCHA_FACTOR } from '../../../flows/login/state.ts';
import { bearerToken } from '../../../plugins/session.ts';
import { requestContext } from '../../context.ts';
import { bearerSecurity, deviceTokenProperty, errorRef, memberRef } from './schemas.ts';

interface LoginBody {
  document: string;
  password: string;
  captcha?: string;
  deviceToken?: string;
}

export function registerLoginApi(app: FastifyInstance, deps: AppDeps): void {
  const flowDeps = flowDepsFor(deps);

  app.get(
    '/api/v1/captcha',
    {
      schema: {
        tags: ['captcha'],
        summary: `A fresh ALTCHA challenge, valid ${ALTCHA_CHALLENGE_MINUTES} minutes (CAPTCHA_PROVIDER=altcha only)`,
        response: {
          200: {
            type: 'object',
            additionalProperties: true,
            properties: {
              parameters: { type: 'object', additionalProperties: true },
              signature: { type: 'string' },
            },
          },
          404: errorRef,
          429: errorRef,
        },
      },
    },
    async (request, reply) => {
      if (!(deps.captcha instanceof AltchaCaptcha)) throw new FlowError('CAPTCHA_UNAVAILABLE', 404);
      // Each challenge costs the server one key derivation: a budget per address.
      const verdict = await hitLimit(
        deps.db,
        deps.clock,
        `captcha-challenges:${addressKey(request.ip)}`,
        deps.config.limits.captchaChallengesPerAddress,
      );
      if (!verdict.allowed) throw throttledError('REQUESTS_THROTTLED', verdict.retryAfterSeconds);
      // Past the global failed-login limit, every new challenge takes more work.
      const rule = deps.config.limits.loginFailuresGlobal;
      const global = await peekLimit(deps.db, deps.clock, GLOBAL_FAILURES_KEY, rule);
      const factor = global.count > rule.limit ? HARDENED_CAPTCHA_FACTOR : 1;
      return reply
        .header('cache-control', 'no-store')
        .send(await deps.captcha.createChallenge(factor));
    },
  );

  app.post<{ Body: LoginBody }>(
    '/api/v1/login',
    {
      schema: {
        tags: ['session'],
        summary: 'Log in with document and password; answers a bearer token',
        description:
          'A bearer token sent along (Authorization header) is ended once the login succeeds.',
        body: {
          type: 'object',
          properties: {
            document: {
              type: 'string',
              maxLength: 64,
              description: 'N° de documento, sin dígito verificador',
            },
            password: { type: 'string', maxLength: 1024 },
            captcha: {
              type: 'string',
              maxLength: 8192,
              description: 'The CAPTCHA response (ALTCHA: base64 payload)',
            },
            deviceToken: deviceTokenProperty,
          },
          required: ['document', 'password'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              token: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
              member: memberRef,
              deviceToken: {
                type: 'string',
                description:
                  'Keep it and send it with later logins and password requests of this member: tries from elsewhere cannot make this app wait (renewed at every login).',
              },
            },
            required: ['token', 'expiresAt', 'member', 'deviceToken'],
          },
          400: errorRef,
          401: errorRef,
          429: errorRef,
        },
      },
    },
    async (request) => {
      const result = await logIn(
        flowDeps,
        {
          document: request.body.document,
          password: request.body.password,
          captcha: request.body.captcha,
        },
        requestContext(request, 'api'),
      );
      // Logging in over a token the app still holds ends that token, as the pages do.
      const previous = bearerToken(request);
      if (previous) await deleteSession(deps.db, previous);
      return {
        token: result.token,
        expiresAt: result.expiresAt.toISOString(),
        member: result.member,
        deviceToken: result.deviceToken,
      };
    },
  );

  app.post(
    '/api/v1/logout',
    {
      preHandler: app.requireApiSession,
      schema: {
        tags: ['session'],
        summary: 'End the session of the bearer token',
        security: bearerSecurity,
        response: { 204: { type: 'null', description: 'Logged out' }, 401: errorRef },
      },
    },
    async (request, reply) => {
      const auth = request.auth;
      if (auth) await logOut(flowDeps, auth.token, auth.member.id, requestContext(request, 'api'));
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/me',
    {
      preHandler: app.requireApiSession,
      schema: {
        tags: ['member'],
        summary: 'The member behind the bearer token',
        security: bearerSecurity,
        response: { 200: memberRef, 401: errorRef },
      },
    },
    async (request) => viewMember((request.auth as NonNullable<typeof request.auth>).member),
  );
}
