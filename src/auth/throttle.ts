// Throttles whose counters live in the database, so every instance sees the
// same numbers. Two kinds:
// - fixed windows per key ("10 per hour"): one row per key and window, bumped
//   with one upsert that returns the new count;
// - the progressive wait of an account after failed logins: from the 5th
//   failure, 1 minute, doubling up to 15; a success clears it.
// A login try takes a slot before the password is checked (one statement),
// and its outcome is recorded after: parallel tries on any instance cannot
// all pass a check made before the first of them is counted, and right
// passwords in flight are never mistaken for failures.
// See docs/decisions/009-throttling.md.
import { type QueryCreator, type RawBuilder, sql } from 'kysely';
import type { Database, Schema } from '../db/schema.ts';
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
  /** The window the count belongs to (what releaseLimit needs). */
  windowStart: Date;
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
  const hit = hitLimitQuery(db, clock, key, rule);
  const row = await hit.query.executeTakeFirstOrThrow();
  return hit.verdict(row.count);
}

/**
 * The statement hitLimit runs, unexecuted (the login composes it with other
 * statements into one round trip), and how to read its count.
 */
export function hitLimitQuery(
  db: QueryCreator<Schema>,
  clock: Clock,
  key: string,
  rule: WindowLimit,
) {
  const now = clock.now();
  const { start, end } = windowOf(now, rule.windowMs);
  const query = db
    .insertInto('rate_counters')
    .values({ key, window_start: start, window_end: end, count: 1 })
    .onConflict((oc) =>
      oc.columns(['key', 'window_start']).doUpdateSet({ count: sql`rate_counters.count + 1` }),
    )
    .returning('count');
  const verdict = (count: number): Verdict => ({
    allowed: count <= rule.limit,
    count,
    retryAfterSeconds: secondsUntil(now, end),
    windowStart: start,
  });
  return { query, verdict };
}

/** Gives back one event that hitLimit counted for `key` in the window starting at `windowStart`. */
export async function releaseLimit(db: Database, key: string, windowStart: Date): Promise<void> {
  await releaseLimitQuery(db, key, windowStart).execute();
}

/** The statement releaseLimit runs, unexecuted. */
export function releaseLimitQuery(db: Database, key: string, windowStart: Date) {
  return db
    .updateTable('rate_counters')
    .set({ count: sql`rate_counters.count - 1` })
    .where('key', '=', key)
    .where('window_start', '=', windowStart)
    .where('count', '>', 0);
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
  return {
    allowed: count < rule.limit,
    count,
    retryAfterSeconds: secondsUntil(now, end),
    windowStart: start,
  };
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

/**
 * accountWait for `key` and, when given, peekLimit for an address, in one
 * query: what a login looks at before spending a CAPTCHA. Seconds to wait
 * for each, 0 when free.
 */
export async function peekLoginWaits(
  db: Database,
  clock: Clock,
  key: string,
  address: { key: string; rule: WindowLimit } | null,
  companion: Companion = NO_COMPANION,
): Promise<{ ownSeconds: number; addressSeconds: number; companion: unknown }> {
  const now = clock.now();
  const window = address ? windowOf(now, address.rule.windowMs) : null;
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('account_lockouts')
        .select('locked_until')
        .where('document_hash', '=', key)
        .as('locked_until'),
      eb
        .selectFrom('rate_counters')
        .select('count')
        .where('key', '=', address?.key ?? '')
        .where('window_start', '=', window?.start ?? now)
        .as('address_count'),
      companion.as('companion'),
    ])
    .executeTakeFirstOrThrow();
  const lockedUntil = row.locked_until ? new Date(row.locked_until) : null;
  const ownSeconds = lockedUntil && lockedUntil > now ? secondsUntil(now, lockedUntil) : 0;
  const addressFull = address && window && Number(row.address_count ?? 0) >= address.rule.limit;
  return {
    ownSeconds,
    addressSeconds: addressFull ? secondsUntil(now, window.end) : 0,
    companion: row.companion,
  };
}

/**
 * Something else a caller reads in the same round trip as a throttle's
 * statement: one more column of its row (e.g. the member a login is for).
 */
export type Companion = RawBuilder<unknown>;
const NO_COMPANION: Companion = sql<unknown>`null`;

export type AttemptClaim =
  | { allowed: true }
  | { allowed: false; busy: true }
  | { allowed: false; busy: false; retryAfterSeconds: number };

/** How long a password check may hold its slot before it is presumed lost (a crashed process). */
export const PENDING_SLOT_MS = 10_000;

/**
 * Takes a slot for one password check on `key` (an account, or a known
 * device's own budget) before the password is checked. Checks in flight are
 * slots, not failures: a failure is counted when it is known
 * (settleLoginAttempt). Of the free failures not yet spent, that many checks
 * may be in flight at once; once they are spent, one at a time. So a burst
 * of wrong passwords, on any instance, gets no more checks than the free
 * failures allow (plus the one that starts the wait, as before), while a
 * burst of right ones is never refused: a try that finds every slot taken is
 * `busy` and waits for a slot (claimLoginSlot) rather than being counted.
 * Refused (nothing counted) while the key waits.
 */
export async function claimLoginAttempt(
  db: Database,
  clock: Clock,
  key: string,
  policy: LockoutPolicy = DEFAULT_LOCKOUT,
): Promise<AttemptClaim> {
  const row = await claimSlotQuery(db, clock, key, policy).executeTakeFirst();
  return row ? { allowed: true } : refusedClaim(db, clock, key);
}

/** Why a slot was not had: the key waits, or every slot is taken by checks in flight. */
async function refusedClaim(db: Database, clock: Clock, key: string): Promise<AttemptClaim> {
  const wait = await accountWait(db, clock, key);
  return wait > 0
    ? { allowed: false, busy: false, retryAfterSeconds: wait }
    : { allowed: false, busy: true };
}

/** The statement claimLoginAttempt runs, unexecuted: a row comes back when a slot was had. */
function claimSlotQuery(db: Database, clock: Clock, key: string, policy: LockoutPolicy) {
  const now = clock.now();
  const forgetBefore = new Date(now.getTime() - policy.memoryMs);
  const pendingUntil = new Date(now.getTime() + PENDING_SLOT_MS);
  const failures = sql<number>`(case when account_lockouts.last_failure_at < ${forgetBefore} then 0 else account_lockouts.failures end)`;
  const pending = sql<number>`(case when account_lockouts.pending_until is null or account_lockouts.pending_until <= ${now} then 0 else account_lockouts.pending end)`;
  return db
    .insertInto('account_lockouts')
    .values({
      document_hash: key,
      failures: 0,
      last_failure_at: now,
      locked_until: null,
      pending: 1,
      pending_until: pendingUntil,
    })
    .onConflict((oc) =>
      oc
        .column('document_hash')
        .doUpdateSet({
          failures,
          pending: sql<number>`${pending} + 1`,
          pending_until: pendingUntil,
        })
        .where((eb) =>
          eb.and([
            eb.or([
              eb('account_lockouts.locked_until', 'is', null),
              eb('account_lockouts.locked_until', '<=', now),
            ]),
            eb(
              pending,
              '<',
              sql<number>`greatest(1, ${policy.freeFailures + 1}::int - ${failures})`,
            ),
          ]),
        ),
    )
    .returning('failures');
}

export type AddressClaim =
  | { allowed: true; address: Verdict }
  | { allowed: false; limit: 'address'; retryAfterSeconds: number }
  | ({ allowed: false; limit: 'key' } & Extract<AttemptClaim, { allowed: false }>);

/**
 * A login try from elsewhere, counted against its address's failure budget
 * and given a slot on `key` (claimLoginAttempt), in one round trip: the two
 * statements run together. When either refuses, what the other took is
 * given back (a second statement, on the refusal only), so a refused try
 * spends nothing. The address's count of an allowed try is given back on
 * success (settleLoginAttempt's caller).
 */
export async function claimLoginAttemptFrom(
  db: Database,
  clock: Clock,
  key: string,
  policy: LockoutPolicy,
  address: { key: string; rule: WindowLimit },
  companion: Companion = NO_COMPANION,
): Promise<AddressClaim & { companion: unknown }> {
  const hit = hitLimitQuery(db, clock, address.key, address.rule);
  const row = await db
    .with('address_hit', () => hit.query)
    .with('slot', () => claimSlotQuery(db, clock, key, policy))
    .selectNoFrom((eb) => [
      eb.selectFrom('address_hit').select('count').as('address_count'),
      eb.selectFrom('slot').select('failures').as('slot_failures'),
      companion.as('companion'),
    ])
    .executeTakeFirstOrThrow();
  const verdict = hit.verdict(Number(row.address_count));
  const claimed = row.slot_failures !== null && row.slot_failures !== undefined;
  const { companion: read } = row;
  if (verdict.allowed && claimed) return { allowed: true, address: verdict, companion: read };
  await releaseLimit(db, address.key, verdict.windowStart);
  if (!verdict.allowed) {
    if (claimed) await giveBackSlotQuery(db, key).execute();
    return {
      allowed: false,
      limit: 'address',
      retryAfterSeconds: verdict.retryAfterSeconds,
      companion: read,
    };
  }
  const claim = (await refusedClaim(db, clock, key)) as Extract<AttemptClaim, { allowed: false }>;
  return { limit: 'key', ...claim, companion: read };
}

/** Gives back a slot that claimLoginAttempt took, with no outcome to record. */
function giveBackSlotQuery(db: Database, key: string) {
  return db
    .updateTable('account_lockouts')
    .set({ pending: sql<number>`greatest(account_lockouts.pending - 1, 0)` })
    .where('document_hash', '=', key);
}

/**
 * Records how a claimed check ended: a failure counts (the one past the free
 * failures starts the wait, doubling up to the most); a success forgets the
 * failures. Either way the slot is given back.
 */
export async function settleLoginAttempt(
  db: Database,
  clock: Clock,
  key: string,
  outcome: 'failed' | 'ok',
  policy: LockoutPolicy = DEFAULT_LOCKOUT,
): Promise<void> {
  await settleLoginAttemptQuery(db, clock, key, outcome, policy).execute();
}

/** The statement settleLoginAttempt runs, unexecuted (the login runs it with its other writes). */
export function settleLoginAttemptQuery(
  db: Database,
  clock: Clock,
  key: string,
  outcome: 'failed' | 'ok',
  policy: LockoutPolicy = DEFAULT_LOCKOUT,
) {
  const now = clock.now();
  const slotBack = sql<number>`greatest(account_lockouts.pending - 1, 0)`;
  if (outcome === 'ok')
    return db
      .updateTable('account_lockouts')
      .set({ failures: 0, locked_until: null, pending: slotBack })
      .where('document_hash', '=', key);
  const forgetBefore = new Date(now.getTime() - policy.memoryMs);
  const failures = sql<number>`(case when account_lockouts.last_failure_at < ${forgetBefore} then 1 else account_lockouts.failures + 1 end)`;
  const over = sql<number>`(${failures} - ${policy.freeFailures}::int)`;
  return db
    .updateTable('account_lockouts')
    .set({
      failures,
      last_failure_at: now,
      pending: slotBack,
      locked_until: sql<Date | null>`case when ${over} > 0 then ${now}::timestamptz + least(${policy.maxWaitMs}::float8, ${policy.firstWaitMs}::float8 * power(2::float8, (${over} - 1)::float8)) * interval '1 millisecond' else account_lockouts.locked_until end`,
    })
    .where('document_hash', '=', key);
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

/**
 * IPv4 as is; IPv6 by its /64 (one subscriber usually owns a whole /64). An
 * IPv4-mapped address (::ffff:a.b.c.d, in any case, or its hex form
 * ::ffff:abcd:ef01) counts as the IPv4 address it carries, never as ::/64
 * (which would put every such client in one bucket).
 */
export function addressKey(given: string | null): string {
  if (!given) return 'unknown';
  const ip = (given.split('%')[0] ?? '').toLowerCase();
  if (!ip.includes(':')) return ip;
  const groups = ipv6Groups(ip);
  if (groups.length !== 8 || groups.some((group) => !(group >= 0 && group <= 0xffff))) return ip;
  const [a, b, c, d, e, f, g = 0, h = 0] = groups;
  if (a === 0 && b === 0 && c === 0 && d === 0 && e === 0 && f === 0xffff)
    return [g >> 8, g & 255, h >> 8, h & 255].join('.');
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address ("::" expanded, a dotted IPv4 tail as two). */
function ipv6Groups(ip: string): number[] {
  const parse = (side: string) =>
    side
      ? side.split(':').flatMap((part) => {
          if (part.includes('.')) {
            const [w = 0, x = 0, y = 0, z = 0] = part.split('.').map(Number);
            return [(w << 8) | x, (y << 8) | z];
          }
          return [Number.parseInt(part, 16)];
        })
      : [];
  const [head = '', tail] = ip.split('::');
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...Array<number>(Math.max(0, 8 - left.length - right.length)).fill(0), ...right];
}
