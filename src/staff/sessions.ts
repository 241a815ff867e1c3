// Sessions of the branch desk (ADR 023), apart from the members' in every
// way: their own table (staff_sessions), their own cookie on /mesa only, and
// shorter limits, because an employee's session opens every member's data
// and the desk's computers are shared: 15 minutes idle, 10 hours at most
// (one working day), however busy the session is.
// As for members (src/auth/sessions.ts): the browser holds a random token
// (32 bytes, base64url), the database only its SHA-256; each session also
// has a public id, random and not derived from the token, for listing and
// ending sessions without handling tokens.
import { randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import { addMinutes, type Clock } from '../auth/clock.ts';
import { generateToken, hashToken } from '../auth/secrets.ts';
import type { Database, StaffSessionsTable, StaffUser } from '../db/schema.ts';

/** Minutes without a request after which a staff session ends. */
export const STAFF_SESSION_IDLE_MINUTES = 15;
/** Hours after the login at which a staff session ends, used or not. */
export const STAFF_SESSION_MAX_HOURS = 10;

export type StaffSession = Selectable<StaffSessionsTable>;

export interface StaffSessionContext {
  ip: string | null;
  userAgent: string | null;
}

/**
 * Refresh last_used_at (and the idle deadline) at most this often, to spare
 * a write on every page. A session may so end up to this much earlier than
 * 15 minutes after its very last request, never later.
 */
const TOUCH_INTERVAL_MS = 30_000;

/** What a token looks like: 32 bytes as base64url. Anything else is not looked up. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A new staff session for a staff user who just proved both factors. */
export async function createStaffSession(
  db: Database,
  clock: Clock,
  staffId: number,
  context: StaffSessionContext,
): Promise<{ token: string; session: StaffSession }> {
  const token = generateToken();
  const now = clock.now();
  const expiresAt = addMinutes(now, STAFF_SESSION_MAX_HOURS * 60);
  const session = await db
    .insertInto('staff_sessions')
    .values({
      id_hash: hashToken(token),
      public_id: randomBytes(16).toString('base64url'),
      staff_id: staffId,
      created_at: now,
      last_used_at: now,
      idle_expires_at: earliest(addMinutes(now, STAFF_SESSION_IDLE_MINUTES), expiresAt),
      expires_at: expiresAt,
      ip: context.ip,
      user_agent: context.userAgent?.slice(0, 300) ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token, session };
}

/**
 * The live session of a token and its staff user, or null: unknown, past
 * either deadline, or of a staff user who is no longer active (such a
 * session is deleted on the spot). Use slides the idle deadline, never past
 * the absolute one.
 */
export async function validateStaffSession(
  db: Database,
  clock: Clock,
  token: string,
): Promise<{ session: StaffSession; staff: StaffUser } | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  const idHash = hashToken(token);
  const session = await db
    .selectFrom('staff_sessions')
    .selectAll()
    .where('id_hash', '=', idHash)
    .executeTakeFirst();
  if (!session) return null;
  const staff = await db
    .selectFrom('staff_users')
    .selectAll()
    .where('id', '=', session.staff_id)
    .executeTakeFirst();
  const now = clock.now();
  if (staff?.status !== 'active' || now >= session.idle_expires_at || now >= session.expires_at) {
    await db.deleteFrom('staff_sessions').where('id_hash', '=', idHash).execute();
    return null;
  }
  if (now.getTime() - session.last_used_at.getTime() < TOUCH_INTERVAL_MS) return { session, staff };
  const idleExpiresAt = earliest(addMinutes(now, STAFF_SESSION_IDLE_MINUTES), session.expires_at);
  await db
    .updateTable('staff_sessions')
    .set({ last_used_at: now, idle_expires_at: idleExpiresAt })
    .where('id_hash', '=', idHash)
    .execute();
  return { session: { ...session, last_used_at: now, idle_expires_at: idleExpiresAt }, staff };
}

/** Ends the session of a token (logout); true when there was one. */
export async function deleteStaffSession(db: Database, token: string): Promise<boolean> {
  if (!TOKEN_PATTERN.test(token)) return false;
  const result = await db
    .deleteFrom('staff_sessions')
    .where('id_hash', '=', hashToken(token))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Ends every session of a staff user (disabled, second factor reset); returns how many. */
export async function deleteStaffSessions(db: Database, staffId: number): Promise<number> {
  const result = await db
    .deleteFrom('staff_sessions')
    .where('staff_id', '=', staffId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Removes staff sessions past their deadlines (housekeeping). */
export async function deleteExpiredStaffSessions(db: Database, clock: Clock): Promise<number> {
  const now = clock.now();
  const result = await db
    .deleteFrom('staff_sessions')
    .where((eb) => eb.or([eb('idle_expires_at', '<=', now), eb('expires_at', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function earliest(a: Date, b: Date): Date {
  return a < b ? a : b;
}
