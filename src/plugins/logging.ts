// Logger settings: request lines without query strings (emailed links carry
// tokens there), and secrets redacted wherever they might appear.
import type { FastifyServerOptions } from 'fastify';

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

/** 203.0.113.7 → 203.0.113.x; IPv6 keeps its first four groups. */
export function maskAddress(ip: string | undefined): string | undefined {
  if (!ip) return ip;
  if (ip.includes('.') && !ip.includes(':')) return ip.replace(/\.\d+$/, '.x');
  if (ip.startsWith('::ffff:')) return `::ffff:${maskAddress(ip.slice(7))}`;
  return `${ip.split(':').slice(0, 4).join(':')}::x`;
}
