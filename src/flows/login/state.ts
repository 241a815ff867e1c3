import { DEFAULT_LOCKOUT, type LockoutPolicy } from '../../auth/throttle.ts';
import type { Config } from '../../config.ts';
// The login flow. It keeps no record of its own between requests: the
// CAPTCHA solution and the session are its only durable traces.
//
//   credentials ──(fields ok, CAPTCHA ok, document+password match)──► authenticated
//        │                                                              (new session)
//        ├──(empty or malformed field)────────► credentials + field errors (400)
//        ├──(CAPTCHA missing / used / wrong)──► credentials + CAPTCHA error (400)
//        ├──(8 digits ending in their check digit, no such member)
//        │                                    ► credentials + hint "sin dígito verificador" (400)
//        └──(anything else)───────────────────► credentials + one generic error (401)
//
// Every failing branch after the CAPTCHA spends one argon2 verification,
// so response times do not tell a known document from an unknown one.
export type LoginState = 'credentials' | 'authenticated';

/** Inputs longer than this are refused before any hashing work. */
export const MAX_PASSWORD_LENGTH = 128;
export const MAX_DOCUMENT_LENGTH = 32;

/**
 * The counter of failed logins on every instance together. Past
 * LOGIN_FAILURES_GLOBAL an operator is alerted and new ALTCHA challenges are
 * harder (HARDENED_CAPTCHA_FACTOR times the work) until the window ends.
 */
export const GLOBAL_FAILURES_KEY = 'login-failures:global';
export const HARDENED_CAPTCHA_FACTOR = 3;

/**
 * A try that finds every slot of its account taken by checks in flight waits
 * for one: it looks again every SLOT_POLL_MS (plus up to as much at random),
 * at most SLOT_POLLS times (about 3 s), then answers 429 with Retry-After 1.
 */
export const SLOT_POLL_MS = 15;
export const SLOT_POLLS = 130;

/**
 * The progressive wait of an account's password checks (login, and the
 * current password asked by the member home), or of a known device's own
 * budget (ADR 016), from the configured limits.
 */
export function lockoutPolicyFor(
  limits: Config['limits'],
  kind: 'account' | 'device',
): LockoutPolicy {
  return {
    ...DEFAULT_LOCKOUT,
    freeFailures: kind === 'device' ? limits.deviceFreeFailures : limits.loginFreeFailures,
    firstWaitMs: limits.loginWaitFirstMs,
    maxWaitMs: limits.loginWaitMaxMs,
  };
}
