// Recovery ("¿Olvidaste tu contraseña?") and first registration ("¿No estás
// registrado?") share one flow; only its label differs. Each step checks
// where it stands (expiry, use, tries) before acting, in one transaction.
//
//   request(document, channel) ─┬─ email ─► link sent (30 min, single use)
//                               │              │ GET opens the page, never consumes
//                               │              ▼
//                               └─ sms ───► code sent (10 min, 5 tries)
//                                              │ right code
//                                              ▼
//                                          set-password token (30 min, single use)
//                                              │
//                          link or token ──────┴─► set password ─► done
//                                                  (every session ends, other
//                                                   secrets die, notice emailed)
//
// A newer request kills the member's older links, codes and tokens. Unknown,
// inactive or contactless members, and members over a message limit, get the
// same answer and nothing is sent (only an audit row tells).
export type RecoveryFlow = 'recovery' | 'registration';
export type DeliveryChannel = 'email' | 'sms';

export const EMAIL_LINK_MINUTES = 30;
export const SMS_CODE_MINUTES = 10;
export const SET_PASSWORD_TOKEN_MINUTES = 30;
export const SMS_CODE_MAX_TRIES = 5;

/** The counter of SMS sent on every instance together, in hourly windows (SMS_HOURLY_BUDGET). */
export const SMS_BUDGET_KEY = 'sms-budget';
export const SMS_BUDGET_WINDOW_MS = 3_600_000;

export interface MessageLimits {
  /** Emails and SMS together, per member per hour. */
  perMemberPerHour: number;
  /** SMS per destination number. */
  smsPerNumberPerHour: number;
  smsPerNumberPerDay: number;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = {
  perMemberPerHour: 5,
  smsPerNumberPerHour: 3,
  smsPerNumberPerDay: 10,
};
