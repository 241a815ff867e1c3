// The one error type flows throw: a code from the catalogue, an HTTP status,
// and optional per-field codes. The error handler renders it.
import { type ErrorCode, errors } from '../messages/es.ts';

/** Field name to the Spanish message shown next to it. */
export type FieldErrors = Record<string, string>;

export class FlowError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    readonly fields: FieldErrors = {},
    message?: string,
    /** For 429: seconds until a new try is accepted (the Retry-After header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message ?? messageFor(code));
    this.name = 'FlowError';
  }
}

/** The CAPTCHA errors every flow shares. */
export const captchaErrors = {
  missing: () => new FlowError('CAPTCHA_REQUIRED', 400, { captcha: errors.CAPTCHA_REQUIRED }),
  failed: () => new FlowError('CAPTCHA_FAILED', 400, { captcha: errors.CAPTCHA_FAILED }),
} as const;

/** A throttled request: 429, Retry-After, and how long to wait in words. */
export function throttledError(code: 'LOGIN_THROTTLED' | 'REQUESTS_THROTTLED', seconds: number) {
  const message = `${messageFor(code)} ${waitInWords(seconds)}`;
  return new FlowError(code, 429, {}, message, seconds);
}

/** "Espere 1 minuto…" / "Espere 15 minutos…", rounded up to whole minutes. */
export function waitInWords(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return `Espere ${minutes} ${minutes === 1 ? 'minuto' : 'minutos'} y vuelva a intentar.`;
}

export function messageFor(code: ErrorCode): string {
  const entry = errors[code];
  return typeof entry === 'string' ? entry : code;
}
