// JSON twins of the login pages, for the mobile app. Paths are relative to
// the API's prefix (src/routes/api.ts): '/login' answers at /api/v1/login.
import type { FastifyInstance } from 'fastify';
import { deleteSession } from '../../../auth/sessions.ts';
import { addressKey, hitLimit, peekLimit } from '../../../auth/throttle.ts';
import { ALTCHA_CHALLENGE_MINUTES, AltchaCaptcha } from '../../../captcha/altcha.ts';
import type { AppParts } from '../../../deps.ts';
import { viewMember } from '../../../flows/context.ts';
import { FlowError } from '../../../flows/errors.ts';
import { logIn, logOut } from '../../../flows/login/service.ts';
import { GLOBAL_FAILURES_KEY, HARDENED_CAPTCHA_FACTOR } from '../../../flows/login/state.ts';
import { bearerToken, memberOf } from '../../../plugins/session.ts';
import { requestContext } from '../../context.ts';
import { bearerSecurity, deviceTokenProperty, errorRef, memberRef } from './schemas.ts';

interface LoginBody {
  document: string;
  password: string;
  captcha?: string;
  deviceToken?: string;
}

export function registerLoginApi(app: FastifyInstance, deps: AppParts): void {
  const flowDeps = deps.flow;

  app.get(
    '/captcha',
    {
      schema: {
        tags: ['captcha'],
        summary: `An ALTCHA challenge, valid ${ALTCHA_CHALLENGE_MINUTES} minutes (CAPTCHA_PROVIDER=altcha only)`,
        description:
          'A fresh challenge while the client address is within CAPTCHA_CHALLENGES_PER_ADDRESS; past it, one of a few kept for the address, which clients at that address may share: a solution is accepted once, so a client whose answer is refused as used fetches another.',
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
        },
      },
    },
    async (request, reply) => {
      const captcha = deps.captcha;
      if (!(captcha instanceof AltchaCaptcha)) throw new FlowError('CAPTCHA_UNAVAILABLE');
      // Each new challenge costs the server one key derivation: a budget per
      // address. Past it the address is not refused (its members share it, and
      // fetching challenges is free): it is served from a few challenges kept
      // for it, which cost nothing more (challenge-pool.ts, ADR 005).
      const address = addressKey(request.ip);
      const verdict = await hitLimit(
        deps.db,
        deps.clock,
        `captcha-challenges:${address}`,
        deps.config.limits.captchaChallengesPerAddress,
      );
      // Past the global failed-login limit, every new challenge takes more work.
      const rule = deps.config.limits.loginFailuresGlobal;
      const global = await peekLimit(deps.db, deps.clock, GLOBAL_FAILURES_KEY, rule);
      const factor = global.count > rule.limit ? HARDENED_CAPTCHA_FACTOR : 1;
      const challenge = verdict.allowed
        ? await captcha.createChallenge(factor)
        : await captcha.pooledChallenge(address, factor);
      return reply.header('cache-control', 'no-store').send(challenge);
    },
  );

  app.post<{ Body: LoginBody }>(
    '/login',
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
    '/logout',
    {
      preHandler: app.requireApiMember,
      schema: {
        tags: ['session'],
        summary: 'End the session of the bearer token',
        security: bearerSecurity,
        response: { 204: { type: 'null', description: 'Logged out' }, 401: errorRef },
      },
    },
    async (request, reply) => {
      const auth = memberOf(request);
      await logOut(flowDeps, auth.token, auth.member.id, requestContext(request, 'api'));
      return reply.code(204).send();
    },
  );

  app.get(
    '/me',
    {
      preHandler: app.requireApiMember,
      schema: {
        tags: ['member'],
        summary: 'The member behind the bearer token',
        security: bearerSecurity,
        response: { 200: memberRef, 401: errorRef },
      },
    },
    async (request) => viewMember(memberOf(request).member),
  );
}
