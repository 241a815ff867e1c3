// Logger settings: request lines without query strings (emailed links carry
// tokens there), and secrets redacted wherever they might appear.
import { isIP } from 'node:net';
import {
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';

export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.token',
  '*.code',
  '*.captcha',
];

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: {
      req(request) {
        return {
          method: request.method,
          url: request.url.split('?')[0],
          ip: maskAddress(request.ip),
          id: request.id,
        };
      },
    },
  };
}

/**
 * One access line per request, when it is answered (request, status, time),
 * instead of Fastify's two (one when it arrives, one when it is answered):
 * half the lines and the writes, the same facts.
 */
export class AccessLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (this.isLogDisabled(request)) return;
    if (error)
      reply.log.error(
        { req: request, res: reply, err: error, responseTime: reply.elapsedTime },
        'request errored',
      );
    else
      reply.log.info(
        { req: request, res: reply, responseTime: reply.elapsedTime },
        'request completed',
      );
  }
}

/**
 * 203.0.113.7 → 203.0.113.x; IPv6 keeps its first four groups (the network),
 * written out in full so a compressed address (2001:db8::1234) cannot slip
 * through whole; anything that is not an address is not logged at all.
 */
export function maskAddress(ip: string | undefined): string | undefined {
  if (!ip) return ip;
  const address = ip.split('%')[0] ?? '';
  const version = isIP(address);
  if (version === 4) return address.replace(/\.\d+$/, '.x');
  if (version !== 6) return 'x';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return `::ffff:${maskAddress(mapped[1])}`;
  return `${ipv6Groups(address).slice(0, 4).join(':')}::x`;
}

/** The eight groups of a valid IPv6 address, with "::" expanded (an IPv4 tail counts as two). */
function ipv6Groups(address: string): string[] {
  const parts = (side: string | undefined) =>
    side ? side.split(':').flatMap((group) => (group.includes('.') ? ['v4', 'v4'] : [group])) : [];
  const [head, tail] = address.split('::');
  const left = parts(head);
  if (tail === undefined) return left;
  const right = parts(tail);
  return [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
}
