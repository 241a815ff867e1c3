// The member home ("Mi cuenta"): what a logged-in member changes for
// themselves. Every step runs for the member of the session the route
// loaded (never an id from the request), checks where it stands, and moves
// in one transaction.
//
//   change password:
//     current + new ×2 ──(policy ok, current right)──► changed: every other
//        │                 session ends, this one gets a new id, secrets die,
//        │                 the notice email is queued
//        ├──(new password breaks the policy)──► form + field errors (400)
//        ├──(current wrong)──► form + field error (400); counts as a failed
//        │                     login on the account (the same wait as login)
//        └──(account waiting)──► 429 LOGIN_THROTTLED
//
//   contact change (email or mobile):
//     kind + value + current ──(current right, within the message limits)──►
//        pending: a 'contact' secret holding the new value, sealed; older
//        │        pending changes retired; the member's row untouched
//        ├─ email:  link TO THE NEW address (30 min, single use) ─┐
//        └─ mobile: code TO THE NEW number (10 min, 5 tries) ─────┤
//                                                                  ▼
//        proven ──► members.email / .mobile changed; the OLD contact told
//     A password change retires a pending one; an unproven one expires.
//
//   sessions:   live ──close one (own public id) / close all others──► ended
//   activity:   read only: the member's last ACTIVITY_LIMIT audit events.
export type ContactKind = 'email' | 'mobile';

export const CONTACT_LINK_MINUTES = 30;
export const CONTACT_CODE_MINUTES = 10;
export const CONTACT_CODE_MAX_TRIES = 5;

/** Where the emailed link leads (the page that confirms the new email). */
export const CONFIRM_CONTACT_PATH = '/mi-cuenta/contacto/confirmar';

/** How many audit events the recent activity shows. */
export const ACTIVITY_LIMIT = 30;

/** Times shown to members are Uruguay's. */
export const DISPLAY_TIME_ZONE = 'America/Montevideo';

/** The seal of a pending contact's new value (one_time_secrets.payload). */
export const CONTACT_SEAL = 'contact';

/** The keyed-hash purpose of contact codes (apart from recovery's 'sms-code'). */
export const CONTACT_CODE_HASH_PURPOSE = 'contact-code';

/** Outbox templates of this flow. */
export const CONTACT_TEMPLATES = {
  link: 'contact-link',
  code: 'contact-code',
  changed: 'contact-changed',
} as const;

/**
 * The messages a member asks for, both flows together: what the per-member
 * hourly limit counts here (recovery counts its own two).
 */
export const REQUESTED_TEMPLATES = [
  'password-request',
  'sms-code',
  CONTACT_TEMPLATES.link,
  CONTACT_TEMPLATES.code,
] as const;

/** Inputs longer than these are refused before any work. */
export const MAX_PASSWORD_LENGTH = 128;
export const MAX_CONTACT_LENGTH = 254;
