// Staff accounts of the branch desk (ADR 023): created by an admin or by the
// operator's `npm run staff:create`, enrolled through a one-time link (24 h)
// where they choose a password and prove a TOTP key, then let in only with
// both: the password and a code of the key (or one of 10 single-use
// recovery codes). Every failure says as little as the member login does.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../auth/clock.ts';
import { createPasswordPolicy } from '../auth/password-policy.ts';
import type { PasswordHasher } from '../auth/passwords.ts';
import { hashToken } from '../auth/secrets.ts';
import { addressKey, hitLimit, peekLimit, type WindowLimit } from '../auth/throttle.ts';
import type { Database, StaffUser } from '../db/schema.ts';
import { errors } from '../messages/es.ts';
import {
  newRecoveryCodes,
  newTotpKey,
  normalizeRecoveryCode,
  openTotpKey,
  recoveryCodeHash,
  sealTotpKey,
  verifyTotp,
} from './second-factor.ts';

export const STAFF_ROLES = ['desk', 'supervisor', 'admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];
/** How long an enrolment link lasts. */
export const ENROLMENT_HOURS = 24;
/** Failed staff logins per email and per address (ADR 023). */
export const STAFF_LOGIN_FAILURES: WindowLimit = { limit: 10, windowMs: 15 * 60_000 };
export const STAFF_LOGIN_FAILURES_PER_ADDRESS: WindowLimit = { limit: 30, windowMs: 15 * 60_000 };
/** Wrong second-factor codes per staff user, counted apart (a right password was given). */
export const STAFF_CODE_FAILURES: WindowLimit = { limit: 5, windowMs: 15 * 60_000 };
/** Staff passwords: the asvs rule with a longer minimum. */
export const STAFF_PASSWORD_MIN_LENGTH = 12;

export type StaffErrorCode =
  | 'STAFF_EMAIL_INVALID'
  | 'STAFF_NAME_INVALID'
  | 'STAFF_ROLE_INVALID'
  | 'STAFF_EMAIL_TAKEN'
  | 'ENROLMENT_INVALID'
  | 'STAFF_PASSWORD_REJECTED'
  | 'TOTP_INVALID'
  | 'STAFF_LOGIN_FAILED'
  | 'STAFF_LOGIN_THROTTLED';

/** A refusal of the staff module; `detail` (English) is for operators and logs only. */
export class StaffError extends Error {
  constructor(
    readonly code: StaffErrorCode,
    readonly detail: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(detail);
    this.name = 'StaffError';
  }
}

const EMAIL = /^[^\s@<>"]{1,64}@[^\s@<>"]+\.[^\s@<>"]{2,}$/;
// Printable, one line.
const NAME = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,80}$/u;

export interface NewStaff {
  email: string;
  name: string;
  role: string;
  /** 'cli:staff:create', or 'staff:<id>' of the admin. */
  createdBy: string;
}

export interface Enrolment {
  /** The secret of the link: shown once, stored only as its hash. */
  token: string;
  expiresAt: Date;
}

/** Checks and normalises a new staff user's fields; throws StaffError. */
export function checkNewStaff(input: Omit<NewStaff, 'createdBy'>): {
  email: string;
  name: string;
  role: StaffRole;
} {
  const email = input.email.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email))
    throw new StaffError('STAFF_EMAIL_INVALID', `not an email address: "${input.email}"`);
  const name = input.name.trim().replace(/\s+/g, ' ');
  if (!NAME.test(name))
    throw new StaffError('STAFF_NAME_INVALID', 'the name must be 1 to 80 printable characters');
  if (!(STAFF_ROLES as readonly string[]).includes(input.role))
    throw new StaffError(
      'STAFF_ROLE_INVALID',
      `the role must be one of ${STAFF_ROLES.join(', ')} (got "${input.role}")`,
    );
  return { email, name, role: input.role as StaffRole };
}

/** A staff user and their first enrolment link, in one transaction. */
export async function createStaff(
  db: Database,
  clock: Clock,
  input: NewStaff,
): Promise<{ staff: StaffUser; enrolment: Enrolment }> {
  const fields = checkNewStaff(input);
  return db.transaction().execute(async (trx) => {
    const staff = await trx
      .insertInto('staff_users')
      .values({ ...fields, created_by: input.createdBy })
      .onConflict((oc) => oc.column('email').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!staff)
      throw new StaffError('STAFF_EMAIL_TAKEN', `a staff user with ${fields.email} exists already`);
    const enrolment = await startEnrolment(trx, clock, staff.id);
    return { staff, enrolment };
  });
}

/**
 * A new enrolment link for a staff user (the first, or after an admin reset
 * their second factor): links not used yet are withdrawn.
 */
export async function startEnrolment(
  db: Database,
  clock: Clock,
  staffId: number,
): Promise<Enrolment> {
  const now = clock.now();
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ENROLMENT_HOURS * 3_600_000);
  await db
    .deleteFrom('staff_enrolments')
    .where('staff_id', '=', staffId)
    .where('used_at', 'is', null)
    .execute();
  await db
    .insertInto('staff_enrolments')
    .values({
      token_hash: hashToken(token),
      staff_id: staffId,
      totp_key: null,
      created_at: now,
      expires_at: expiresAt,
      used_at: null,
    })
    .execute();
  return { token, expiresAt };
}

/**
 * An enrolment link being opened: its staff user and the TOTP key it
 * offers (drawn at the first opening and kept, sealed, so a reload shows
 * the same QR code). Throws ENROLMENT_INVALID for a link that is unknown,
 * used, expired or of a disabled account.
 */
export async function openEnrolment(
  db: Database,
  clock: Clock,
  secret: string,
  token: string | undefined,
): Promise<{ staff: StaffUser; key: Uint8Array }> {
  const invalid = new StaffError(
    'ENROLMENT_INVALID',
    'the enrolment link is unknown, used or expired',
  );
  if (!token || token.length > 100) throw invalid;
  const now = clock.now();
  const row = await db
    .selectFrom('staff_enrolments')
    .innerJoin('staff_users', 'staff_users.id', 'staff_enrolments.staff_id')
    .selectAll('staff_users')
    .select(['staff_enrolments.totp_key as offered_key', 'staff_enrolments.token_hash'])
    .where('staff_enrolments.token_hash', '=', hashToken(token))
    .where('staff_enrolments.used_at', 'is', null)
    .where('staff_enrolments.expires_at', '>', now)
    .where('staff_users.status', '=', 'active')
    .executeTakeFirst();
  if (!row) throw invalid;
  const { offered_key, token_hash, ...staff } = row;
  if (offered_key) return { staff, key: openTotpKey(secret, offered_key) };
  const key = newTotpKey();
  // Two tabs opening the link at once keep whichever key was stored first.
  const stored = await db
    .updateTable('staff_enrolments')
    .set({ totp_key: sealTotpKey(secret, key) })
    .where('token_hash', '=', token_hash)
    .where('totp_key', 'is', null)
    .executeTakeFirst();
  if (Number(stored.numUpdatedRows) === 1) return { staff, key };
  return openEnrolment(db, clock, secret, token);
}

export interface CompleteEnrolment {
  token: string | undefined;
  password: string;
  confirmation: string;
  /** A code of the offered key, proving the authenticator app has it. */
  code: string;
  serviceWords?: readonly string[];
}

/** Messages per field when the staff password is not acceptable; empty otherwise. */
export function checkStaffPassword(
  password: string,
  confirmation: string,
  staff: Pick<StaffUser, 'email' | 'name'>,
  serviceWords?: readonly string[],
): Record<string, string> {
  const policy = createPasswordPolicy('asvs', serviceWords);
  const problems = policy.check({
    password,
    confirmation,
    context: [staff.email.split('@')[0] ?? '', ...staff.name.split(' ')].filter(
      (word) => word.length >= 4,
    ),
  });
  if (!problems.password && [...password].length < STAFF_PASSWORD_MIN_LENGTH)
    problems.password = errors.STAFF_PASSWORD_LENGTH;
  return problems;
}

/**
 * Uses an enrolment link: sets the password and the proven TOTP key, replaces
 * the recovery codes (returned once, to be shown once) and ends the staff
 * user's sessions. The link works once, even when two posts race.
 */
export async function completeEnrolment(
  db: Database,
  clock: Clock,
  secret: string,
  hasher: PasswordHasher,
  input: CompleteEnrolment,
): Promise<{ staff: StaffUser; recoveryCodes: string[] }> {
  const { staff, key } = await openEnrolment(db, clock, secret, input.token);
  const problems = checkStaffPassword(
    input.password,
    input.confirmation,
    staff,
    input.serviceWords,
  );
  if (Object.keys(problems).length > 0)
    throw new StaffError('STAFF_PASSWORD_REJECTED', Object.values(problems).join('; '));
  const now = clock.now();
  const step = verifyTotp(key, input.code, now, null);
  if (step === null) throw new StaffError('TOTP_INVALID', 'the code does not match the key');
  const passwordHash = await hasher.hash(input.password);
  const recoveryCodes = newRecoveryCodes();
  const updated = await db.transaction().execute(async (trx) => {
    const used = await trx
      .updateTable('staff_enrolments')
      .set({ used_at: now })
      .where('token_hash', '=', hashToken(input.token as string))
      .where('used_at', 'is', null)
      .executeTakeFirst();
    if (Number(used.numUpdatedRows) !== 1)
      throw new StaffError('ENROLMENT_INVALID', 'the enrolment link was used meanwhile');
    const row = await trx
      .updateTable('staff_users')
      .set({
        password_hash: passwordHash,
        totp_key: sealTotpKey(secret, key),
        totp_last_step: step,
        enrolled_at: now,
        updated_at: now,
      })
      .where('id', '=', staff.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.deleteFrom('staff_recovery_codes').where('staff_id', '=', staff.id).execute();
    await trx
      .insertInto('staff_recovery_codes')
      .values(
        recoveryCodes.map((code) => ({
          staff_id: staff.id,
          code_hash: recoveryCodeHash(secret, normalizeRecoveryCode(code) as string),
          created_at: now,
          used_at: null,
        })),
      )
      .execute();
    await trx.deleteFrom('staff_sessions').where('staff_id', '=', staff.id).execute();
    return row;
  });
  return { staff: updated, recoveryCodes };
}

export interface StaffLogin {
  email: string;
  password: string;
  /** A 6-digit TOTP code, or a recovery code. */
  code: string;
  ip: string | null;
}

/** A hash verified for unknown emails, so their answer takes as long (ADR 011's rule for staff). */
let dummyHash: Promise<string> | undefined;

/**
 * The staff login: email, password and a second-factor code. Every failure
 * is STAFF_LOGIN_FAILED (which part was wrong is never said) until the
 * email's or the address's budget is spent: STAFF_LOGIN_THROTTLED.
 * Returns the staff user and how the second factor was proven.
 */
export async function verifyStaffLogin(
  db: Database,
  clock: Clock,
  secret: string,
  hasher: PasswordHasher,
  input: StaffLogin,
): Promise<{ staff: StaffUser; factor: 'totp' | 'recovery_code' }> {
  const email = input.email.trim().toLowerCase().slice(0, 254);
  const emailKey = `staff-login:${hashToken(email)}`;
  const addrKey = `staff-login-addr:${addressKey(input.ip)}`;
  const failed = new StaffError('STAFF_LOGIN_FAILED', 'wrong email, password or code');
  const fail = async (): Promise<never> => {
    for (const [key, limit] of [
      [emailKey, STAFF_LOGIN_FAILURES],
      [addrKey, STAFF_LOGIN_FAILURES_PER_ADDRESS],
    ] as const) {
      const verdict = await hitLimit(db, clock, key, limit);
      if (!verdict.allowed) throw throttled(verdict.retryAfterSeconds);
    }
    throw failed;
  };
  // Spent budgets refuse before any password work.
  for (const [key, limit] of [
    [emailKey, STAFF_LOGIN_FAILURES],
    [addrKey, STAFF_LOGIN_FAILURES_PER_ADDRESS],
  ] as const) {
    const spent = await peekSpent(db, clock, key, limit);
    if (spent !== null) throw throttled(spent);
  }

  const staff = await db
    .selectFrom('staff_users')
    .selectAll()
    .where('email', '=', email)
    .executeTakeFirst();
  const usable = staff && staff.status === 'active' && staff.password_hash && staff.totp_key;
  if (!usable) {
    dummyHash ??= hasher.hash('staff-login-dummy-password');
    await hasher.verify(await dummyHash, input.password);
    return fail();
  }
  if (!(await hasher.verify(staff.password_hash as string, input.password))) return fail();

  // The password was right: wrong codes spend the staff user's own budget too.
  const codeKey = `staff-code:${staff.id}`;
  const codeSpent = await peekSpent(db, clock, codeKey, STAFF_CODE_FAILURES);
  if (codeSpent !== null) throw throttled(codeSpent);
  const factor = await proveSecondFactor(db, clock, secret, staff, input.code);
  if (!factor) {
    const verdict = await hitLimit(db, clock, codeKey, STAFF_CODE_FAILURES);
    if (!verdict.allowed) throw throttled(verdict.retryAfterSeconds);
    return fail();
  }
  await clearStaffLoginFailures(db, email);
  return { staff, factor };
}

function throttled(retryAfterSeconds: number): StaffError {
  return new StaffError('STAFF_LOGIN_THROTTLED', 'too many failed staff logins', retryAfterSeconds);
}

/** Seconds to wait when a budget is spent already; null when there is room. */
async function peekSpent(
  db: Database,
  clock: Clock,
  key: string,
  limit: WindowLimit,
): Promise<number | null> {
  const verdict = await peekLimit(db, clock, key, limit);
  return verdict.allowed ? null : verdict.retryAfterSeconds;
}

/**
 * A TOTP code of a step after the last one accepted (stored atomically, so
 * two requests with one code cannot both pass), or an unused recovery code
 * (marked used in the same statement).
 */
async function proveSecondFactor(
  db: Database,
  clock: Clock,
  secret: string,
  staff: StaffUser,
  code: string,
): Promise<'totp' | 'recovery_code' | null> {
  const now = clock.now();
  const typed = code.replace(/[\s-]/g, '');
  if (/^\d{6}$/.test(typed)) {
    const step = verifyTotp(
      openTotpKey(secret, staff.totp_key as string),
      typed,
      now,
      staff.totp_last_step,
    );
    if (step === null) return null;
    const taken = await db
      .updateTable('staff_users')
      .set({ totp_last_step: step })
      .where('id', '=', staff.id)
      .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
      .executeTakeFirst();
    return Number(taken.numUpdatedRows) === 1 ? 'totp' : null;
  }
  const normalized = normalizeRecoveryCode(code);
  if (!normalized) return null;
  const used = await db
    .updateTable('staff_recovery_codes')
    .set({ used_at: now })
    .where('staff_id', '=', staff.id)
    .where('code_hash', '=', recoveryCodeHash(secret, normalized))
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(used.numUpdatedRows) === 1 ? 'recovery_code' : null;
}

/** Forgets an email's failed logins after a success (its budget is for guessing). */
export async function clearStaffLoginFailures(db: Database, email: string): Promise<void> {
  await db
    .deleteFrom('rate_counters')
    .where('key', '=', `staff-login:${hashToken(email.trim().toLowerCase())}`)
    .execute();
}

/** Recovery codes not used yet. */
export async function unusedRecoveryCodes(db: Database, staffId: number): Promise<number> {
  const row = await db
    .selectFrom('staff_recovery_codes')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('staff_id', '=', staffId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
