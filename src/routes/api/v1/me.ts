// JSON twins of the member home, for the mobile app, under the API's prefix:
// sessions, activity, password and contact data of the bearer's member.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppParts } from '../../../deps.ts';
import {
  changePassword,
  closeOtherSessions,
  closeSession,
  confirmContactByCode,
  memberSessions,
  recentActivity,
  requestContactChange,
} from '../../../flows/settings/service.ts';
import { accountPages, manual } from '../../../messages/es.ts';
import type { Authenticated } from '../../../plugins/session.ts';
import { requestContext } from '../../context.ts';
import { bearerSecurity, errorRef, messageSchema } from './schemas.ts';

const sessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'Public id of the session (not its token)' },
    current: { type: 'boolean', description: 'The session of this bearer token' },
    device: { type: 'string', example: 'Android' },
    browser: { type: 'string', example: 'Chrome' },
    lastUsedAt: { type: 'string', format: 'date-time' },
    address: { type: ['string', 'null'], description: 'Masked client address' },
  },
  required: ['id', 'current', 'device', 'browser', 'lastUsedAt', 'address'],
} as const;

const activitySchema = {
  type: 'object',
  properties: {
    at: { type: 'string', format: 'date-time' },
    type: { type: 'string', example: 'login' },
    channel: { type: ['string', 'null'] },
    device: { type: ['string', 'null'], example: 'Chrome en Android' },
    outcome: { type: 'string', example: 'ok' },
    text: { type: 'string', description: 'The event in plain Spanish' },
  },
  required: ['at', 'type', 'channel', 'device', 'outcome', 'text'],
} as const;

const guardedSchema = (schema: Record<string, unknown>) => ({
  tags: ['member'],
  security: bearerSecurity,
  ...schema,
});

export function registerMeApi(app: FastifyInstance, deps: AppParts): void {
  const flow = deps.flow;
  const authOf = (request: FastifyRequest) => request.auth as Authenticated;

  app.get(
    '/me/sessions',
    {
      preHandler: app.requireApiMember,
      schema: guardedSchema({
        summary: 'The open sessions of the member, this one marked',
        response: { 200: { type: 'array', items: sessionSchema }, 401: errorRef },
      }),
    },
    async (request) => {
      const auth = authOf(request);
      const sessions = await memberSessions(flow, auth.member.id, auth.session.public_id);
      return sessions.map(({ lastUsed: _display, ...session }) => session);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/me/sessions/:id',
    {
      preHandler: app.requireApiMember,
      schema: guardedSchema({
        summary: 'Close one of the member’s sessions by its id',
        params: {
          type: 'object',
          properties: { id: { type: 'string', maxLength: 64 } },
          required: ['id'],
        },
        response: { 204: { type: 'null' }, 401: errorRef, 404: errorRef },
      }),
    },
    async (request, reply) => {
      const auth = authOf(request);
      await closeSession(flow, auth.member.id, request.params.id, requestContext(request, 'api'));
      return reply.code(204).send();
    },
  );

  app.delete(
    '/me/sessions',
    {
      preHandler: app.requireApiMember,
      schema: guardedSchema({
        summary: 'Close every session of the member but this one',
        response: { 204: { type: 'null' }, 401: errorRef },
      }),
    },
    async (request, reply) => {
      const auth = authOf(request);
      await closeOtherSessions(
        flow,
        auth.member.id,
        auth.session.id_hash,
        requestContext(request, 'api'),
      );
      return reply.code(204).send();
    },
  );

  app.get(
    '/me/activity',
    {
      preHandler: app.requireApiMember,
      schema: guardedSchema({
        summary: 'The member’s last 30 security events, newest first',
        response: { 200: { type: 'array', items: activitySchema }, 401: errorRef },
      }),
    },
    async (request) => {
      const items = await recentActivity(flow, authOf(request).member.id);
      return items.map(({ when: _display, ...item }) => item);
    },
  );

  app.post<{ Body: { currentPassword: string; password: string; passwordConfirmation: string } }>(
    '/me/password',
    {
      preHandler: app.requireApiMember,
      schema: guardedSchema({
        summary: 'Change the password; every other session ends and this one gets a new token',
        body: {
          type: 'object',
          properties: {
            currentPassword: { type: 'string', maxLength: 1024 },
            password: { type: 'string', maxLength: 1024 },
            passwordConfirmation: { type: 'string', maxLength: 1024 },
          },
          required: ['currentPassword', 'password', 'passwordConfirmation'],
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              message: { type: 'string' },
              token: { type: 'string', description: 'The new bearer token of this session' },
              expiresAt: { type: 'string', format: 'date-time' },
            },
            required: ['message', 'token', 'expiresAt'],
          },
          400: errorRef,
          401: errorRef,
          429: errorRef,
        },
      }),
    },
    async (request) => {
      const renewed = await changePassword(
        flow,
        authOf(request),
        request.body,
        requestContext(request, 'api'),
      );
      return {
        message: manual.passwordChanged,
        token: renewed.token,
        expiresAt: renewed.expiresAt.toISOString(),
      };
    },
  );

  app.post<{ Body: { kind: string; value: string; currentPassword: string } }>(
    '/me/contact',
    {
      preHandler: app.requireApiMember,
      schema: guardedSchema({
        summary:
          'Ask to change the email or mobile: a link (email) or a code (mobile) goes to the new one',
        body: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: ['email', 'mobile'] },
            value: { type: 'string', maxLength: 254 },
            currentPassword: { type: 'string', maxLength: 1024 },
          },
          required: ['kind', 'value', 'currentPassword'],
          additionalProperties: false,
        },
        response: {
          202: {
            type: 'object',
            properties: { kind: { type: 'string' }, sentTo: { type: 'string' } },
            required: ['kind', 'sentTo'],
          },
          400: errorRef,
          401: errorRef,
          429: errorRef,
          503: errorRef,
        },
      }),
    },
    async (request, reply) => {
      const sent = await requestContactChange(
        flow,
        authOf(request),
        request.body,
        requestContext(request, 'api'),
      );
      return reply.code(202).send(sent);
    },
  );

  app.post<{ Body: { kind: string; code: string } }>(
    '/me/contact/verify',
    {
      preHandler: app.requireApiMember,
      schema: guardedSchema({
        summary: 'Prove a new mobile with the code sent to it (a new email is proven by its link)',
        body: {
          type: 'object',
          properties: {
            kind: { type: 'string', enum: ['mobile'] },
            code: { type: 'string', maxLength: 32 },
          },
          required: ['kind', 'code'],
          additionalProperties: false,
        },
        response: { 200: messageSchema, 400: errorRef, 401: errorRef },
      }),
    },
    async (request) => {
      await confirmContactByCode(
        flow,
        authOf(request),
        { kind: 'mobile', code: request.body.code },
        requestContext(request, 'api'),
      );
      return { message: accountPages.contactChanged };
    },
  );
}
