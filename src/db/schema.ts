// Row types of the one schema shared by PGlite and PostgreSQL
// (see migrations/). Column names are snake_case as in SQL.
import type { ColumnType, Generated, Insertable, Kysely, Selectable } from 'kysely';

/** timestamptz: a Date both ways (pg and PGlite parse it). */
type Timestamp = Date;

export interface MembersTable {
  id: Generated<number>;
  document: string;
  member_number: string;
  first_name: string;
  last_name: string;
  email: string | null;
  mobile: string | null;
  status: 'active' | 'inactive';
  password_hash: string | null;
  password_changed_at: Timestamp | null;
  /** The demo member of the embedded defaults (public password): refused in production. */
  demo: Generated<boolean>;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}

export interface SessionsTable {
  /** SHA-256 of the secret token: the key; never shown to anyone. */
  id_hash: string;
  /** Random and non-secret (22 characters of base64url): names the session to its member (ADR 017). */
  public_id: string;
  member_id: number;
  kind: 'web' | 'api';
  created_at: Timestamp;
  last_used_at: Timestamp;
  idle_expires_at: Timestamp;
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

export interface AuditEventsTable {
  id: Generated<string>;
  at: Timestamp;
  type: string;
  outcome: string;
  member_id: number | null;
  document_hash: string | null;
  channel: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: ColumnType<unknown, string | null, string | null> | null;
  /** Who caused the event (ADR 017; src/audit/record.ts). */
  actor_kind: Generated<'member' | 'staff' | 'system' | 'anonymous'>;
  /** The member's id, the staff user's id, or the operator command ('cli:sessions'); null when none. */
  actor_id: string | null;
}

export interface CaptchaSolutionsTable {
  key: string;
  expires_at: Timestamp;
}

export interface OneTimeSecretsTable {
  id: Generated<string>;
  member_id: number;
  kind: 'email_link' | 'sms_code' | 'set_password' | 'printed_code';
  /** What the secret is for (src/auth/one-time-secrets.ts). */
  purpose: 'recovery' | 'registration' | 'contact' | 'activation';
  secret_hash: string;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
  attempts: Generated<number>;
  /** Asked for from a device that logged in as the member before (ADR 016). */
  known_device: Generated<boolean>;
  /** What the secret carries, sealed (e.g. the new contact being proven); null for most. */
  payload: string | null;
}

export interface OutboxTable {
  id: Generated<string>;
  channel: 'email' | 'sms';
  template: string;
  member_id: number | null;
  recipient: string;
  /** The message, sealed with a key derived from APP_SECRET; null once delivered or abandoned. */
  payload: string | null;
  status: Generated<'queued' | 'processing' | 'sent' | 'abandoned'>;
  attempts: Generated<number>;
  next_attempt_at: Timestamp;
  locked_until: Timestamp | null;
  last_error: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
  /**
   * The one-time secret (link or code) the message carries, if any: the
   * dispatcher delivers it only while that secret is unused and unexpired.
   */
  secret_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Asked for from a device that logged in as the member before (ADR 016). */
  known_device: Generated<boolean>;
}

export interface DevMailboxTable {
  id: Generated<string>;
  channel: string;
  recipient: string;
  subject: string | null;
  text_body: string;
  html_body: string | null;
  created_at: Timestamp;
}

export interface RateCountersTable {
  key: string;
  window_start: Timestamp;
  window_end: Timestamp;
  count: number;
}

export interface AccountLockoutsTable {
  document_hash: string;
  failures: number;
  last_failure_at: Timestamp;
  locked_until: Timestamp | null;
  /** Password checks in flight (slots, not failures); forgotten after pending_until. */
  pending: Generated<number>;
  pending_until: Timestamp | null;
}

/** A staff user of the branch desk (ADR 023). */
export interface StaffUsersTable {
  id: Generated<number>;
  /** Lower case. */
  email: string;
  name: string;
  role: 'desk' | 'supervisor' | 'admin';
  status: Generated<'active' | 'disabled'>;
  /** argon2id; null until the enrolment link is used. */
  password_hash: string | null;
  /** The TOTP key, sealed (src/staff/second-factor.ts); null until enrolled. */
  totp_key: string | null;
  /** The last time step a code was accepted at: a code is never accepted twice. */
  totp_last_step: ColumnType<number | null, number | null | undefined, number | null>;
  enrolled_at: Timestamp | null;
  /** 'cli:staff:create', or 'staff:<id>' of the admin who created the account. */
  created_by: string;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}

export interface StaffEnrolmentsTable {
  token_hash: string;
  staff_id: number;
  /** The TOTP key the enrolment page offered, sealed, until a code proves it. */
  totp_key: string | null;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

export interface StaffRecoveryCodesTable {
  staff_id: number;
  code_hash: string;
  created_at: Timestamp;
  used_at: Timestamp | null;
}

export interface StaffSessionsTable {
  id_hash: string;
  public_id: string;
  staff_id: number;
  created_at: Timestamp;
  last_used_at: Timestamp;
  idle_expires_at: Timestamp;
  expires_at: Timestamp;
  ip: string | null;
  user_agent: string | null;
}

/** How an employee checked a member's identity before acting (kept with each action). */
export interface StaffVisitsTable {
  id: Generated<number>;
  staff_id: number;
  member_id: number;
  document_kind: 'cedula' | 'pasaporte' | 'otro';
  note: string;
  created_at: Timestamp;
}

/** A member's passkey (WebAuthn credential), issue 14. */
export interface PasskeysTable {
  /** The credential id, base64url. */
  id: string;
  member_id: number;
  /** The COSE public key, base64url. */
  public_key: string;
  /** The signature counter (0 for authenticators that keep none); bigint comes back as text from pg. */
  counter: ColumnType<string | number, number | undefined, number>;
  /** JSON array of AuthenticatorTransport values. */
  transports: ColumnType<string, string | undefined, string>;
  device_type: 'singleDevice' | 'multiDevice';
  backed_up: boolean;
  aaguid: string;
  name: string;
  created_at: Timestamp;
  last_used_at: Timestamp | null;
}

/** A challenge handed out for creating (register) or using (login) a passkey; single use. */
export interface WebauthnChallengesTable {
  challenge_hash: string;
  purpose: 'register' | 'login';
  member_id: number | null;
  created_at: Timestamp;
  expires_at: Timestamp;
}

/**
 * A password request answered 202 whose work is not done yet (ADR 011):
 * deleted by that work, taken over by any instance after retry_after.
 */
export interface RequestIntakeTable {
  id: Generated<string>;
  flow: 'recovery' | 'registration';
  channel: 'email' | 'sms';
  /** The canonical document or member number, sealed (src/flows/recovery/intake.ts). */
  identifier: string;
  /** The request's context (address, user agent, web or api, device token), sealed. */
  context: string;
  created_at: Timestamp;
  retry_after: Timestamp;
}

export interface Schema {
  members: MembersTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  captcha_solutions: CaptchaSolutionsTable;
  one_time_secrets: OneTimeSecretsTable;
  outbox: OutboxTable;
  dev_mailbox: DevMailboxTable;
  rate_counters: RateCountersTable;
  account_lockouts: AccountLockoutsTable;
  staff_users: StaffUsersTable;
  passkeys: PasskeysTable;
  webauthn_challenges: WebauthnChallengesTable;
  staff_enrolments: StaffEnrolmentsTable;
  staff_recovery_codes: StaffRecoveryCodesTable;
  staff_sessions: StaffSessionsTable;
  staff_visits: StaffVisitsTable;
  request_intake: RequestIntakeTable;
}

export type Database = Kysely<Schema>;
export type Member = Selectable<MembersTable>;
export type NewMember = Insertable<MembersTable>;
export type Session = Selectable<SessionsTable>;
export type OneTimeSecret = Selectable<OneTimeSecretsTable>;
export type OutboxMessage = Selectable<OutboxTable>;
export type StaffUser = Selectable<StaffUsersTable>;
