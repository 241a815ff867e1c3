// Passkeys for the mobile app (issue 14), under the API's prefix: the
// platform's passkey API (Android Credential Manager, iOS
// AuthenticationServices) takes these options as they are and gives back the
// answer to post. The relying party is the portal's (PUBLIC_URL's host); an
// app shares it through the files of src/routes/well-known.ts.
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { deleteSession } from '../../../auth/sessions.ts';
import type { AppParts } from '../../../deps.ts';
import {
  listPasskeys,
  logInWithPasskey,
  loginOptions,
  type PasskeyView,
  registerPasskey,
  registrationOptions,
  removePasskey,
} from '../../../flows/passkeys/service.ts';
import type { Authenticated } from '../../../plugins/session.ts';
import { bearerToken } from '../../../plugins/session.ts';
import { requestContext } from '../../context.ts';
import { bearerSecurity, errorRef, memberRef } from './schemas.ts';

/** The options object the platform's passkey API takes (WebAuthn's JSON form). */
const optionsSchema = {
  type: 'object',
  description:
    'PublicKeyCredential{Creation,Request}OptionsJSON: pass it to the platform passkey API unchanged.',
  additionalProperties: true,
} as const;

/** The platform's answer, as WebAuthn's JSON form (RegistrationResponseJSON / AuthenticationResponseJSON). */
const credentialSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', maxLength: 1400 },
    rawId: { type: 'string', maxLength: 1400 },
    type: { type: 'string', enum: ['public-key'] },
    response: { type: 'object', additionalProperties: true },
    clientExtensionResults: { type: 'object', additionalProperties: true },
    authenticatorAttachment: { type: 'string', maxLength: 40 },
  },
  required: ['id', 'rawId', 'type', 'response'],
  additionalProperties: true,
} as const;

const passkeySchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The credential id (base64url)' },
    name: { type: 'string', example: 'Chrome en Android' },
    createdAt: { type: 'string', format: 'date-time' },
    lastUsedAt: { type: ['string', 'null'], format: 'date-time' },
    synced: { type: 'boolean', description: 'Synced between devices (a password manager)' },
  },
  required: ['id', 'name', 'createdAt', 'lastUsedAt', 'synced'],
} as const;

const viewJson = (p: PasskeyView) => ({
  id: p.id,
  name: p.name,
  createdAt: p.createdAt.toISOString(),
  lastUsedAt: p.lastUsedAt?.toISOString() ?? null,
  synced: p.synced,
});

export function registerPasskeysApi(app: FastifyInstance, deps: AppParts): void {
  const flow = deps.flow;
  const authOf = (request: FastifyRequest) => request.auth as Authenticated;

  app.post(
    '/passkeys/login/options',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Options to log in with a passkey (a single-use challenge, 5 minutes)',
        response: { 200: optionsSchema, 404: errorRef, 429: errorRef },
      },
    },
    async (request) => loginOptions(flow, requestContext(request, 'api')),
  );

  app.post<{ Body: AuthenticationResponseJSON }>(
    '/passkeys/login',
    {
      schema: {
        tags: ['passkeys'],
        summary: 'Log in with the platform passkey answer: the same token as a password login',
        description:
          'No document, password or CAPTCHA: the passkey proves possession and user verification. Failures spend the address budget of failed logins.',
        body: credentialSchema,
        response: {
          200: {
            type: 'object',
            properties: {
              token: { type: 'string' },
              expiresAt: { type: 'string', format: 'date-time' },
              member: memberRef,
              deviceToken: { type: 'string' },
            },
            required: ['token', 'expiresAt', 'member', 'deviceToken'],
          },
          400: errorRef,
          404: errorRef,
          429: errorRef,
        },
      },
    },
    async (request) => {
      const result = await logInWithPasskey(flow, request.body, requestContext(request, 'api'));
      // Logging in over a token the app still holds ends that token, as the password login does.
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

  const guarded = (schema: Record<string, unknown>) => ({
    preHandler: app.requireApiMember,
    schema: { tags: ['passkeys'], security: bearerSecurity, ...schema },
  });

  app.get(
    '/me/passkeys',
    guarded({
      summary: "The member's passkeys, newest first",
      response: { 200: { type: 'array', items: passkeySchema }, 401: errorRef },
    }),
    async (request) => (await listPasskeys(flow, authOf(request).member.id)).map(viewJson),
  );

  app.post<{ Body: { currentPassword?: string } }>(
    '/me/passkeys/options',
    guarded({
      summary: 'Options to create a passkey for the member',
      description:
        'When the session is older than 5 minutes, `currentPassword` is required (checked and throttled like a login).',
      body: {
        type: 'object',
        properties: { currentPassword: { type: 'string', maxLength: 1024 } },
        additionalProperties: false,
      },
      response: {
        200: optionsSchema,
        400: errorRef,
        401: errorRef,
        404: errorRef,
        409: errorRef,
        429: errorRef,
      },
    }),
    async (request) =>
      registrationOptions(
        flow,
        authOf(request),
        { currentPassword: request.body?.currentPassword },
        requestContext(request, 'api'),
      ),
  );

  app.post<{ Body: RegistrationResponseJSON }>(
    '/me/passkeys',
    guarded({
      summary: 'Store the passkey the platform created with those options',
      body: credentialSchema,
      response: { 201: passkeySchema, 400: errorRef, 401: errorRef, 404: errorRef, 409: errorRef },
    }),
    async (request, reply) => {
      const view = await registerPasskey(
        flow,
        authOf(request),
        request.body,
        requestContext(request, 'api'),
      );
      return reply.code(201).send(viewJson(view));
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/me/passkeys/:id',
    guarded({
      summary: "Remove one of the member's passkeys",
      params: {
        type: 'object',
        properties: { id: { type: 'string', maxLength: 1400 } },
        required: ['id'],
      },
      response: { 204: { type: 'null', description: 'Removed' }, 401: errorRef, 404: errorRef },
    }),
    async (request, reply) => {
      await removePasskey(flow, authOf(request), request.params.id, requestContext(request, 'api'));
      return reply.code(204).send();
    },
  );
}
