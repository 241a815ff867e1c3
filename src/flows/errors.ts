// The one error type flows throw: a code from the catalogue and optional
// per-field messages. It carries no HTTP status: the edge maps the code to
// one (src/plugins/error-statuses.ts) and the error handler renders it.
import { type ErrorCode, errors, text } from '../messages/es.ts';

/** Field name to the Spanish message shown next to it. */
export type FieldErrors = Record<string, string>;

export class FlowError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly fields: FieldErrors = {},
    message?: string,
    /** When throttled or busy: seconds until a new try is accepted (the Retry-After header). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message ?? messageFor(code));
    this.name = 'FlowError';
  }
}

/** Input a flow refused before it did any work: each field to its message. */
export function invalidFields(fields: FieldErrors): FlowError {
  return new FlowError('VALIDATION_FAILED', fields);
}

/** The CAPTCHA errors every flow shares. */
export const captchaErrors = {
  missing: () => new FlowError('CAPTCHA_REQUIRED', { captcha: errors.CAPTCHA_REQUIRED }),
  failed: () => new FlowError('CAPTCHA_FAILED', { captcha: errors.CAPTCHA_FAILED }),
} as const;

/** A throttled request: its code, Retry-After, and how long to wait in words. */
export function throttledError(code: 'LOGIN_THROTTLED' | 'REQUESTS_THROTTLED', seconds: number) {
  const message = `${messageFor(code)} ${waitInWords(seconds)}`;
  return new FlowError(code, {}, message, seconds);
}

/** "Espere 1 minuto…" / "Espere 15 minutos…", rounded up to whole minutes. */
export function waitInWords(seconds: number): string {
  const minutes = Math.max(1, Math.ceil(seconds / 60));
  return text.waitMinutes(minutes);
}

export function messageFor(code: ErrorCode): string {
  const entry = errors[code];
  return typeof entry === 'string' ? entry : code;
}
