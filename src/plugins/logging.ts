// Logger settings: request lines without query strings (emailed links carry
// tokens there), and secrets redacted wherever they might appear; and the
// request id every line of a request carries (Fastify's `reqId`) and every
// answer names (X-Request-Id).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import {
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
  LogController,
} from 'fastify';

export const REQUEST_ID_HEADER = 'x-request-id';

/** An incoming request id worth keeping: 1 to 128 of these characters, nothing else. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * How each request gets its id (`request.id`, hence the `reqId` of every
 * line its logger writes): the X-Request-Id a trusted proxy sent, so one id
 * follows the request from nginx's log to ours; else a new UUID. A client
 * that talks to us directly, or through a proxy TRUSTED_PROXIES does not
 * name, cannot choose the id our logs file its lines under. Trusted is the
 * direct peer (the socket), by the same list and rule Fastify's
 * `trustProxy` applies to the client address (app.ts).
 */
export function requestIdOptions(
  trustedProxies: readonly string[],
): Pick<FastifyServerOptions, 'genReqId' | 'requestIdHeader'> {
  const fromTrustedProxy = trustedPeer(trustedProxies);
  return {
    // Fastify would take the header from anyone: genReqId decides instead.
    // The id goes into every line of the request's logger as `reqId`.
    requestIdHeader: false,
    genReqId(raw: IncomingMessage) {
      const given = raw.headers[REQUEST_ID_HEADER];
      if (
        typeof given === 'string' &&
        SANE_REQUEST_ID.test(given) &&
        fromTrustedProxy(raw.socket?.remoteAddress)
      )
        return given;
      return randomUUID();
    },
  };
}

/** An onSend hook: the answer names its request (the id in our logs). */
export async function sendRequestId(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header(REQUEST_ID_HEADER, request.id);
}

/**
 * Whether a socket address is one of TRUSTED_PROXIES (addresses or CIDR
 * ranges, as config.ts accepts them). An IPv4-mapped IPv6 address counts as
 * the IPv4 address it carries, as it does for Fastify's trustProxy.
 */
export function trustedPeer(trustedProxies: readonly string[]): (address?: string) => boolean {
  if (trustedProxies.length === 0) return () => false;
  const list = new BlockList();
  for (const entry of trustedProxies) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return (address) => {
    const version = address ? isIP(address) : 0;
    if (!address || version === 0) return false;
    return list.check(address, version === 6 ? 'ipv6' : 'ipv4');
  };
}

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
