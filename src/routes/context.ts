import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../flows/context.ts';
import { FlowError } from '../flows/errors.ts';
import { applyErrorHeaders } from '../plugins/errors.ts';

export function requestContext(request: FastifyRequest, channel: 'web' | 'api'): RequestContext {
  const agent = request.headers['user-agent'];
  return { channel, ip: request.ip ?? null, userAgent: typeof agent === 'string' ? agent : null };
}

/** A string form field, or undefined (forms can repeat a field or send nothing). */
export function formField(body: unknown, name: string): string | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The form again, with a flow's error: its status, its headers (Retry-After)
 * and its messages. Anything that is not a FlowError goes on to the error handler.
 */
export function resendForm(
  reply: FastifyReply,
  error: unknown,
  render: (error: FlowError) => string,
): FastifyReply {
  if (!(error instanceof FlowError)) throw error;
  applyErrorHeaders(reply, error);
  return reply.code(error.status).type('text/html; charset=utf-8').send(render(error));
}
