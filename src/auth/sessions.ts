// Server-side sessions (after Lucia v3 / The Copenhagen Book): the member
// holds a random token; the database holds its SHA-256. A session ends when
// idle too long or at its absolute limit; use slides the idle deadline.
// Each session also has a public id: random, not secret, not derived from
// the token, so the member can see their sessions and end one (ADR 017).
import { randomBytes } from 'node:crypto';
import type { Database, Member, Session } from '../db/schema.ts';
import { addMinutes, type Clock } from './clock.ts';
import { generateToken, hashToken } from './secrets.ts';

export interface SessionPolicy {
  idleMinutes: number;
  maxHours: number;
}

export interface SessionContext {
  kind: 'web' | 'api';
  ip: string | null;
  userAgent: string | null;
}

/** What a member may see of one of their sessions: never the token or its hash. */
export interface SessionSummary {
  /** The session's public id (sessions.public_id). */
  id: string;
  kind: 'web' | 'api';
  createdAt: Date;
  lastUsedAt: Date;
  ip: string | null;
  userAgent: string | null;
}

/** Refresh last_used_at at most this often, to spare writes on busy sessions. */
const TOUCH_INTERVAL_MS = 60_000;

/** The shape of a public id: 16 random bytes as base64url. */
const PUBLIC_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** A new public id: 128 random bits, drawn apart from the token. */
function generatePublicId(): string {
  return randomBytes(16).toString('base64url');
}

export async function createSession(
  db: Database,
  clock: Clock,
  policy: SessionPolicy,
  memberId: number,
  context: SessionContext,
): Promise<{ token: string; session: Session }> {
  const { token, row } = newSession(clock, policy, memberId, context);
  const session = await db
    .insertInto('sessions')
    .values(row)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token, session };
}

/**
 * A new session's token and the row to store for it (only the token's
 * hash), for a caller that inserts it along with other writes.
 */
export function newSession(
  clock: Clock,
  policy: SessionPolicy,
  memberId: number,
  context: SessionContext,
): { token: string; row: Session } {
  const token = generateToken();
  const now = clock.now();
  const expiresAt = addMinutes(now, policy.maxHours * 60);
  return {
    token,
    row: {
      id_hash: hashToken(token),
      public_id: generatePublicId(),
      member_id: memberId,
      kind: context.kind,
      created_at: now,
      last_used_at: now,
      idle_expires_at: earliest(addMinutes(now, policy.idleMinutes), expiresAt),
      expires_at: expiresAt,
      ip: context.ip,
      user_agent: context.userAgent?.slice(0, 300) ?? null,
    },
  };
}

/** The live session and its member for a token, or null; slides the idle deadline. */
export async function validateSession(
  db: Database,
  clock: Clock,
  policy: SessionPolicy,
  token: string,
): Promise<{ session: Session; member: Member } | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const idHash = hashToken(token);
  const row = await db
    .selectFrom('sessions')
    .innerJoin('members', 'members.id', 'sessions.member_id')
    .selectAll('members')
    .select([
      'sessions.id_hash as session_id_hash',
      'sessions.public_id as session_public_id',
      'sessions.member_id as session_member_id',
      'sessions.kind as session_kind',
      'sessions.created_at as session_created_at',
      'sessions.last_used_at as session_last_used_at',
      'sessions.idle_expires_at as session_idle_expires_at',
      'sessions.expires_at as session_expires_at',
      'sessions.ip as session_ip',
      'sessions.user_agent as session_user_agent',
    ])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) return null;
  const { session_id_hash, session_public_id, session_member_id, session_kind, ...rest } = row;
  const { session_created_at, session_last_used_at, session_idle_expires_at, ...rest2 } = rest;
  const { session_expires_at, ...rest3 } = rest2;
  const { session_ip, session_user_agent, ...member } = rest3;
  let session: Session = {
    id_hash: session_id_hash,
    public_id: session_public_id,
    member_id: session_member_id,
    kind: session_kind,
    created_at: session_created_at,
    last_used_at: session_last_used_at,
    idle_expires_at: session_idle_expires_at,
    expires_at: session_expires_at,
    ip: session_ip,
    user_agent: session_user_agent,
  };
  const now = clock.now();
  if (now >= session.idle_expires_at || now >= session.expires_at || member.status !== 'active') {
    await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    return null;
  }
  if (now.getTime() - session.last_used_at.getTime() >= TOUCH_INTERVAL_MS) {
    const idleExpiresAt = earliest(addMinutes(now, policy.idleMinutes), session.expires_at);
    await db
      .updateTable('sessions')
      .set({ last_used_at: now, idle_expires_at: idleExpiresAt })
      .where('id_hash', '=', idHash)
      .execute();
    session = { ...session, last_used_at: now, idle_expires_at: idleExpiresAt };
  }
  return { session, member };
}

export async function deleteSession(db: Database, token: string): Promise<boolean> {
  const result = await db
    .deleteFrom('sessions')
    .where('id_hash', '=', hashToken(token))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function deleteMemberSessions(
  db: Database,
  memberId: number,
  exceptIdHash?: string,
): Promise<number> {
  let query = db.deleteFrom('sessions').where('member_id', '=', memberId);
  if (exceptIdHash) query = query.where('id_hash', '!=', exceptIdHash);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** A member's live sessions, most recently used first; what a member may see of them. */
export async function listSessions(
  db: Database,
  clock: Clock,
  memberId: number,
): Promise<SessionSummary[]> {
  const now = clock.now();
  const rows = await db
    .selectFrom('sessions')
    .select(['public_id', 'kind', 'created_at', 'last_used_at', 'ip', 'user_agent'])
    .where('member_id', '=', memberId)
    .where('idle_expires_at', '>', now)
    .where('expires_at', '>', now)
    .orderBy('last_used_at', 'desc')
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((row) => ({
    id: row.public_id,
    kind: row.kind,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    ip: row.ip,
    userAgent: row.user_agent,
  }));
}

/**
 * Ends one of the member's sessions by its public id. Another member's id,
 * an unknown or a malformed one ends nothing. True when a session ended.
 */
export async function deleteSessionById(
  db: Database,
  memberId: number,
  publicId: string,
): Promise<boolean> {
  if (!PUBLIC_ID_PATTERN.test(publicId)) return false;
  const result = await db
    .deleteFrom('sessions')
    .where('public_id', '=', publicId)
    .where('member_id', '=', memberId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Ends every session of the member but the one being used (its id_hash); returns how many. */
export async function deleteOtherSessions(
  db: Database,
  memberId: number,
  keepIdHash: string,
): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where('member_id', '=', memberId)
    .where('id_hash', '!=', keepIdHash)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Removes sessions past their deadlines; run now and then by the server. */
export async function deleteExpiredSessions(db: Database, clock: Clock): Promise<number> {
  const now = clock.now();
  const result = await db
    .deleteFrom('sessions')
    .where((eb) => eb.or([eb('idle_expires_at', '<=', now), eb('expires_at', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function earliest(a: Date, b: Date): Date {
  return a < b ? a : b;
}
