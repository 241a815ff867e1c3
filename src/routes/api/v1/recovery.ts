// JSON twins of recovery and registration, for the mobile app. Paths are
// relative to the API's prefix (src/routes/api.ts).
import type { FastifyInstance } from 'fastify';
import type { AppParts } from '../../../deps.ts';
import { redeemActivationCode } from '../../../flows/recovery/activation.ts';
import {
  requestPasswordChange,
  setPasswordWithToken,
  verifySmsCode,
} from '../../../flows/recovery/service.ts';
import { manual, text } from '../../../messages/es.ts';
import { requestContext } from '../../context.ts';
import { deviceTokenProperty, errorRef, messageSchema } from './schemas.ts';

/** The one answer to every password request, known document or not. */
export const PASSWORD_REQUEST_ACCEPTED = text.passwordRequestAccepted;
export const PASSWORD_CHANGED = manual.passwordChanged;

export function registerRecoveryApi(app: FastifyInstance, deps: AppParts): void {
  const flowDeps = deps.flow;

  app.post<{
    Body: {
      document: string;
      channel: string;
      captcha?: string;
      flow?: string;
      deviceToken?: string;
    };
  }>(
    '/password-requests',
    {
      schema: {
        tags: ['password'],
        summary: 'Ask for an emailed link or an SMS code to set a new password',
        description:
          'Answers 202 with the same body for every document (known or not, with or without contact data, over a limit or not). `flow` "registration" is for members creating their first password; it only changes how the request is recorded.',
        body: {
          type: 'object',
          properties: {
            document: {
              type: 'string',
              maxLength: 64,
              description: 'Cédula (sin dígito verificador) or N° de socio',
            },
            channel: { type: 'string', enum: ['email', 'sms'] },
            captcha: { type: 'string', maxLength: 8192 },
            flow: { type: 'string', enum: ['recovery', 'registration'], default: 'recovery' },
            deviceToken: deviceTokenProperty,
          },
          required: ['document', 'channel'],
          additionalProperties: false,
        },
        response: { 202: messageSchema, 400: errorRef, 429: errorRef, 503: errorRef },
      },
    },
    async (request, reply) => {
      await requestPasswordChange(
        flowDeps,
        {
          document: request.body.document,
          channel: request.body.channel,
          captcha: request.body.captcha,
          flow: request.body.flow === 'registration' ? 'registration' : 'recovery',
        },
        requestContext(request, 'api'),
      );
      return reply.code(202).send({ message: PASSWORD_REQUEST_ACCEPTED });
    },
  );

  app.post<{ Body: { document: string; code: string } }>(
    '/password-requests/verify',
    {
      schema: {
        tags: ['password'],
        summary: 'Exchange the SMS code for a set-password token',
        body: {
          type: 'object',
          properties: {
            document: { type: 'string', maxLength: 64 },
            code: { type: 'string', maxLength: 32 },
            deviceToken: deviceTokenProperty,
          },
          required: ['document', 'code'],
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] },
          400: errorRef,
          429: errorRef,
        },
      },
    },
    async (request) => {
      const { token } = await verifySmsCode(flowDeps, request.body, requestContext(request, 'api'));
      return { token };
    },
  );

  app.post<{ Body: { document: string; code: string; captcha?: string } }>(
    '/activation-codes/redeem',
    {
      schema: {
        tags: ['password'],
        summary: 'Exchange an activation code printed at a branch for a set-password token',
        description:
          "The 10-character code a branch desk printed for the member (the activation code page of the web portal), with or without its dash, in any case. Wrong codes are refused alike (unknown document, used, expired or spent code) and spend the address's budget of wrong codes.",
        body: {
          type: 'object',
          properties: {
            document: { type: 'string', maxLength: 64 },
            code: { type: 'string', maxLength: 64 },
            captcha: { type: 'string', maxLength: 8192 },
          },
          required: ['document', 'code'],
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { token: { type: 'string' } }, required: ['token'] },
          400: errorRef,
          429: errorRef,
        },
      },
    },
    async (request) => {
      const { token } = await redeemActivationCode(
        flowDeps,
        { ...request.body, captcha: request.body.captcha },
        requestContext(request, 'api'),
      );
      return { token };
    },
  );

  app.post<{
    Body: { token: string; password: string; passwordConfirmation: string; captcha?: string };
  }>(
    '/password',
    {
      schema: {
        tags: ['password'],
        summary: 'Set a new password with the token of the emailed link or of verify',
        body: {
          type: 'object',
          properties: {
            token: { type: 'string', maxLength: 128 },
            password: { type: 'string', maxLength: 1024 },
            passwordConfirmation: { type: 'string', maxLength: 1024 },
            captcha: { type: 'string', maxLength: 8192 },
          },
          required: ['token', 'password', 'passwordConfirmation'],
          additionalProperties: false,
        },
        response: { 200: messageSchema, 400: errorRef, 429: errorRef },
      },
    },
    async (request) => {
      const body = request.body;
      await setPasswordWithToken(
        flowDeps,
        { ...body, captcha: body.captcha },
        requestContext(request, 'api'),
      );
      return { message: PASSWORD_CHANGED };
    },
  );
}
