// Throttles whose counters live in the database, so every instance sees the
// same numbers. Two kinds:
// - fixed windows per key ("10 per hour"): one row per key and window, bumped
//   with one upsert that returns the new count;
// - the progressive wait of an account after failed logins: from the 5th
//   failure, 1 minute, doubling up to 15; a success clears it.
// See docs/decisions/009-throttling.md.
import { sql } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Clock } from './clock.ts';

export interface WindowLimit {
  limit: number;
  windowMs: number;
}

export interface Verdict {
  allowed: boolean;
  /** The count in the current window, this hit included (for hit) or not (for peek). */
  count: number;
  /** Seconds until the window ends (what Retry-After says when refused). */
  retryAfterSeconds: number;
}

function windowOf(now: Date, windowMs: number): { start: Date; end: Date } {
  const start = Math.floor(now.getTime() / windowMs) * windowMs;
  return { start: new Date(start), end: new Date(start + windowMs) };
}

function secondsUntil(now: Date, end: Date): number {
  return Math.max(1, Math.ceil((end.getTime() - now.getTime()) / 1000));
}

/** Counts one event for `key` and says whether it is within the limit. */
export async function hitLimit(
  db: Database,
  clock: Clock,
  key: string,
  rule: WindowLimit,
): Promise<Verdict> {
  const now = clock.now();
  const { start, end } = windowOf(now, rule.windowMs);
  const row = await db
    .insertInto('rate_counters')
    .values({ key, window_start: start, window_end: end, count: 1 })
    .onConflict((oc) =>
      oc.columns(['key', 'window_start']).doUpdateSet({ count: sql`rate_counters.count + 1` }),
    )
    .returning('count')
    .executeTakeFirstOrThrow();
  return {
    allowed: row.count <= rule.limit,
    count: row.count,
    retryAfterSeconds: secondsUntil(now, end),
  };
}

/** Whether one more event for `key` would still be within the limit, without counting it. */
export async function peekLimit(
  db: Database,
  clock: Clock,
  key: string,
  rule: WindowLimit,
): Promise<Verdict> {
  const now = clock.now();
  const { start, end } = windowOf(now, rule.windowMs);
  const row = await db
    .selectFrom('rate_counters')
    .select('count')
    .where('key', '=', key)
    .where('window_start', '=', start)
    .executeTakeFirst();
  const count = row?.count ?? 0;
  return { allowed: count < rule.limit, count, retryAfterSeconds: secondsUntil(now, end) };
}

export interface LockoutPolicy {
  /** Failures allowed before the first wait. */
  freeFailures: number;
  firstWaitMs: number;
  maxWaitMs: number;
  /** Failures older than this are forgotten. */
  memoryMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = {
  freeFailures: 4,
  firstWaitMs: 60_000,
  maxWaitMs: 15 * 60_000,
  memoryMs: 24 * 60 * 60_000,
};

/** Seconds the account must still wait, or 0. */
export async function accountWait(
  db: Database,
  clock: Clock,
  documentHash: string,
): Promise<number> {
  const row = await db
    .selectFrom('account_lockouts')
    .select('locked_until')
    .where('document_hash', '=', documentHash)
    .executeTakeFirst();
  const now = clock.now();
  if (!row?.locked_until || row.locked_until <= now) return 0;
  return secondsUntil(now, row.locked_until);
}

/** Records a failed login; returns the wait it starts (0 while failures are still free). */
export async function recordLoginFailure(
  db: Database,
  clock: Clock,
  documentHash: string,
  policy: LockoutPolicy = DEFAULT_LOCKOUT,
): Promise<number> {
  const now = clock.now();
  const forgetBefore = new Date(now.getTime() - policy.memoryMs);
  const row = await db
    .insertInto('account_lockouts')
    .values({ document_hash: documentHash, failures: 1, last_failure_at: now })
    .onConflict((oc) =>
      oc.column('document_hash').doUpdateSet({
        failures: sql`case when account_lockouts.last_failure_at < ${forgetBefore} then 1 else account_lockouts.failures + 1 end`,
        last_failure_at: now,
      }),
    )
    .returning('failures')
    .executeTakeFirstOrThrow();
  const over = row.failures - policy.freeFailures;
  if (over <= 0) return 0;
  const waitMs = Math.min(policy.maxWaitMs, policy.firstWaitMs * 2 ** (over - 1));
  await db
    .updateTable('account_lockouts')
    .set({ locked_until: new Date(now.getTime() + waitMs) })
    .where('document_hash', '=', documentHash)
    .execute();
  return Math.ceil(waitMs / 1000);
}

export async function clearLoginFailures(db: Database, documentHash: string): Promise<void> {
  await db.deleteFrom('account_lockouts').where('document_hash', '=', documentHash).execute();
}

/** Housekeeping: forgets windows that ended and failures long past. */
export async function deleteStaleThrottles(
  db: Database,
  clock: Clock,
  policy: LockoutPolicy = DEFAULT_LOCKOUT,
): Promise<void> {
  const now = clock.now();
  await db.deleteFrom('rate_counters').where('window_end', '<', now).execute();
  await db
    .deleteFrom('account_lockouts')
    .where('last_failure_at', '<', new Date(now.getTime() - policy.memoryMs))
    .execute();
}

/** IPv4 as is; IPv6 by its /64 (one subscriber usually owns a whole /64). */
export function addressKey(ip: string | null): string {
  if (!ip) return 'unknown';
  if (ip.startsWith('::ffff:') && ip.includes('.')) return ip.slice(7);
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
