import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../flows/context.ts';

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
