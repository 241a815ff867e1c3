// Who is on this machine. Behind a reverse proxy every request arrives from
// the proxy's loopback address, so a loopback socket alone proves nothing: a
// client is local only when the connection is loopback and no proxy said it
// forwarded the request. Used by the operator-only pages (/metrics without a
// token, the dev mailbox); never by the throttles, which read request.ip.
import type { FastifyRequest } from 'fastify';

/** Headers a proxy adds when it forwards a client's request. */
const FORWARDING_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'x-client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'via',
] as const;

/** 127.0.0.0/8, ::1, and IPv4-mapped loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const ip = address.toLowerCase().replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
  return ip === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(ip);
}

/** A request with any forwarding header: it came through a proxy (or claims to). */
export function cameThroughProxy(headers: FastifyRequest['headers']): boolean {
  return FORWARDING_HEADERS.some((name) => headers[name] !== undefined);
}

/** A client on this machine that talks to us directly, not through a proxy. */
export function isDirectLocalClient(request: FastifyRequest): boolean {
  return isLoopbackAddress(request.socket.remoteAddress) && !cameThroughProxy(request.headers);
}

/**
 * An onRequest hook that warns the operator, once, when requests arrive
 * through a proxy that TRUSTED_PROXIES does not name: every client then
 * shares the proxy's address, and with it every per-address budget (one
 * noisy client throttles everyone).
 */
export function warnAboutUntrustedProxy(
  trustedProxies: readonly string[],
  log: { warn(obj: object, msg: string): void },
): (request: Pick<FastifyRequest, 'headers'>) => void {
  let warned = trustedProxies.length > 0;
  return (request) => {
    if (warned || !cameThroughProxy(request.headers)) return;
    warned = true;
    log.warn(
      { setting: 'TRUSTED_PROXIES' },
      'requests arrive through a proxy but TRUSTED_PROXIES is unset: every client shares the proxy address and its per-address limits; set TRUSTED_PROXIES to the proxy address',
    );
  };
}
