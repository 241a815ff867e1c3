import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../flows/context.ts';
import { FlowError } from '../flows/errors.ts';
import { statusOf } from '../plugins/error-statuses.ts';
import { applyErrorHeaders } from '../plugins/errors.ts';

/** The cookie that names a browser that logged in as a member before (ADR 016). */
export function deviceCookieName(secureCookies: boolean): string {
  return secureCookies ? '__Host-device' : 'device';
}

export function requestContext(request: FastifyRequest, channel: 'web' | 'api'): RequestContext {
  const agent = request.headers['user-agent'];
  // Pages carry the device token as a cookie; the app sends it in the body.
  const deviceToken =
    channel === 'web'
      ? // Either name: a cookie another site tossed in still needs our signature.
        (request.cookies[deviceCookieName(true)] ?? request.cookies[deviceCookieName(false)])
      : formField(request.body, 'deviceToken');
  return {
    channel,
    ip: request.ip ?? null,
    userAgent: typeof agent === 'string' ? agent : null,
    deviceToken: deviceToken ?? null,
  };
}

/** A string form field, or undefined (forms can repeat a field or send nothing). */
export function formField(body: unknown, name: string): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The form again, with a flow's error: its code's status, its headers (Retry-After)
 * and its messages. Anything that is not a FlowError goes on to the error handler.
 */
export function resendForm(
  reply: FastifyReply,
  error: unknown,
  render: (error: FlowError) => string,
): FastifyReply {
  if (!(error instanceof FlowError)) throw error;
  applyErrorHeaders(reply, error);
  return reply.code(statusOf(error)).type('text/html; charset=utf-8').send(render(error));
}
