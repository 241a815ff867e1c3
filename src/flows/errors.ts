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
  ) {
    super(message ?? messageFor(code));
    this.name = 'FlowError';
  }
}

export function messageFor(code: ErrorCode): string {
  const entry = errors[code];
  return typeof entry === 'string' ? entry : code;
}
