// The HTTP status of every error code. Flows raise codes only (FlowError has
// no status); this edge table decides how each code answers, for the pages
// and for the API alike. `satisfies Record<ErrorCode, number>` makes a code
// added to the catalogue (src/messages/es.ts) without a status here, or a
// status for a code that is gone, a type error.
import type { FlowError } from '../flows/errors.ts';
import type { ErrorCode } from '../messages/es.ts';

export const ERROR_STATUSES = {
  // The request as sent cannot be taken.
  VALIDATION_FAILED: 400,
  MALFORMED_BODY: 400,
  BODY_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  // Forms from elsewhere, or whose CSRF token is gone.
  CROSS_SITE_FORM: 403,
  FORM_EXPIRED: 403,
  // Who is asking.
  INVALID_CREDENTIALS: 401,
  UNAUTHENTICATED: 401,
  // Wait and try again (with Retry-After).
  LOGIN_THROTTLED: 429,
  REQUESTS_THROTTLED: 429,
  SERVICE_BUSY: 503,
  // CAPTCHA: missing or failed; the ALTCHA challenge on a server without it.
  CAPTCHA_REQUIRED: 400,
  CAPTCHA_FAILED: 400,
  CAPTCHA_UNAVAILABLE: 404,
  // Refused by a flow: the member corrects the input and tries again.
  DOCUMENT_HAS_CHECK_DIGIT: 400,
  CODE_INVALID: 400,
  ACTIVATION_CODE_INVALID: 400,
  TOKEN_INVALID: 400,
  PASSWORD_REJECTED: 400,
  // The member home (src/flows/settings): another member's session is not found.
  SESSION_NOT_FOUND: 404,
  CURRENT_PASSWORD_WRONG: 400,
  CONTACT_LINK_INVALID: 400,
  MESSAGES_LIMIT: 429,
  SMS_UNAVAILABLE: 503,
  CURRENT_PASSWORD_REQUIRED: 400,
  CONTACT_KIND_REQUIRED: 400,
  EMAIL_REQUIRED: 400,
  EMAIL_INVALID: 400,
  MOBILE_REQUIRED: 400,
  MOBILE_INVALID: 400,
  CONTACT_UNCHANGED: 400,
  // Passkeys (src/flows/passkeys).
  PASSKEYS_UNAVAILABLE: 404,
  PASSKEY_FAILED: 400,
  PASSKEY_EXPIRED: 400,
  PASSKEY_UNKNOWN: 400,
  PASSKEY_ALREADY_REGISTERED: 409,
  PASSKEY_LIMIT: 409,
  PASSKEY_NOT_FOUND: 404,
  // Our fault; details only in the log.
  INTERNAL: 500,
  // The per-field codes (shown next to a field inside a VALIDATION_FAILED or
  // PASSWORD_REJECTED): should one be raised alone, it is a 400 as well.
  DOCUMENT_REQUIRED: 400,
  DOCUMENT_INVALID: 400,
  PASSWORD_REQUIRED: 400,
  FIELD_REQUIRED: 400,
  FIELD_INVALID: 400,
  DOCUMENT_OR_MEMBER_REQUIRED: 400,
  DOCUMENT_OR_MEMBER_INVALID: 400,
  CHANNEL_REQUIRED: 400,
  CODE_REQUIRED: 400,
  CODE_FORMAT: 400,
  NEW_PASSWORD_REQUIRED: 400,
  PASSWORD_CONFIRMATION_REQUIRED: 400,
  PASSWORD_MISMATCH: 400,
  PASSWORD_LENGTH_MANUAL: 400,
  PASSWORD_LENGTH_ASVS: 400,
  PASSWORD_CHARACTERS: 400,
  PASSWORD_NEEDS_DIGIT: 400,
  PASSWORD_PRINTABLE: 400,
  PASSWORD_IS_PERSONAL: 400,
  PASSWORD_COMMON: 400,
  PASSWORD_IS_SERVICE_WORD: 400,
  ACTIVATION_CODE_REQUIRED: 400,
  ACTIVATION_CODE_FORMAT: 400,
  STAFF_PASSWORD_LENGTH: 400,
  PASSKEY_NAME_REQUIRED: 400,
  PASSKEY_NAME_INVALID: 400,
} as const satisfies Record<ErrorCode, number>;

/** The HTTP status a flow's error answers with, decided by its code. */
export function statusOf(error: Pick<FlowError, 'code'>): number {
  return ERROR_STATUSES[error.code];
}
