// The dispatcher: claims due messages, hands them to their channel, and
// records the outcome. Several instances share the work: a claim takes rows
// with FOR UPDATE SKIP LOCKED and leases them; a lease that runs out (the
// instance died mid-delivery) makes the row due again.
//
//   queued ──claim──► processing ──ok──► sent
//     ▲                   │
//     └──retry later◄─────┤ (failure, attempts left)
//                         └──► abandoned (failure, no attempts left, or permanent,
//                                         or its link or code retired or expired meanwhile)
//
// A claim is fenced: every write after it matches the row as claimed (see
// recordOutcomes), so a sender whose lease ran out, and whose row another
// instance claimed again, records nothing over the new claim. Claims, checks
// and outcomes go by the batch, each row keeping its own (ADR 021).
import { sql } from 'kysely';
import type { Clock } from '../auth/clock.ts';
import { openText } from '../auth/secrets.ts';
import type { Database, OutboxMessage } from '../db/schema.ts';
import type { DeliveryMetrics, DeliveryResult } from '../ops/metrics.ts';
import { type Channel, type OutgoingMessage, PermanentDeliveryError } from './message.ts';
import { OUTBOX_SEAL } from './outbox.ts';

/** Waits before try 2, 3, …: 30 s, 1, 2, 5, 10 and 20 min (7 tries over ~38 min). */
export const RETRY_DELAYS_MS = [30_000, 60_000, 120_000, 300_000, 600_000, 1_200_000];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
/** How long a claim holds a row before another instance may take it over. */
export const LEASE_MS = 120_000;

/** Why a message that carries a link or code is abandoned instead of sent. */
const SECRET_RETIRED = 'secret retired before delivery';
const SECRET_EXPIRED = 'secret expired before delivery';

export interface DispatcherLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface DispatcherOptions {
  db: Database;
  clock: Clock;
  secret: string;
  channels: { email: Channel; sms: Channel };
  log: DispatcherLog;
  /** Messages one claim takes (DEFAULT_BATCH_SIZE). */
  batchSize?: number;
  /** Claims delivered at once (DEFAULT_LANES): one claims while another sends. */
  lanes?: number;
  /** The longest an outcome waits for the rest of its batch before it is written (OUTCOME_FLUSH_MS). */
  outcomeFlushMs?: number;
  pollIntervalMs?: number;
  /** Waits before try 2, 3, …; the default is RETRY_DELAYS_MS (OUTBOX_RETRY_DELAYS). */
  retryDelaysMs?: readonly number[];
  /** Where recorded outcomes are counted (/metrics); nothing is counted without it. */
  metrics?: DeliveryMetrics;
}

/** Messages one claim takes. */
export const DEFAULT_BATCH_SIZE = 50;
/** Batches in delivery at once. */
export const DEFAULT_LANES = 2;
/**
 * How long an outcome waits for others before it is written: not at all. A
 * message sent but not yet recorded when its instance dies is sent again by
 * whoever takes its claim over, so each outcome is written as soon as the
 * write before it ends, together with every outcome that came in meanwhile
 * (under load, one statement still records many).
 */
export const OUTCOME_FLUSH_MS = 0;

/** Waits between tries to record outcomes while the database is away: 0.25 s, doubling up to 2 s… */
const RECORD_RETRY_FIRST_MS = 250;
const RECORD_RETRY_MAX_MS = 2000;
/** …for as long as a lease lasts at most. */
const RECORD_TRIES = Math.ceil(LEASE_MS / RECORD_RETRY_MAX_MS) + 4;

export class Dispatcher {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #again = false;
  #stopped = true;
  /** stop() was called: batches in hand are finished, no new claim is taken. */
  #stopping = false;

  constructor(private readonly options: DispatcherOptions) {}

  /**
   * Delivers every message due now; returns how many were attempted. Lanes
   * claim and deliver batches side by side, so the channels are kept busy
   * while a lane waits for the database.
   */
  async runOnce(): Promise<number> {
    const lanes = Array.from({ length: this.options.lanes ?? DEFAULT_LANES }, () => this.#lane());
    // Every lane ends before the run does, even when one of them failed.
    const ends = await Promise.allSettled(lanes);
    const failed = ends.find((end) => end.status === 'rejected');
    if (failed) throw failed.reason;
    return ends.reduce((sum, end) => sum + (end.status === 'fulfilled' ? end.value : 0), 0);
  }

  /** Claims and delivers batches until a claim finds nothing due, or the dispatcher stops. */
  async #lane(): Promise<number> {
    let total = 0;
    for (;;) {
      // A stopping instance takes no more work from the shared outbox: what
      // is due is left to the other instances (or the next start) instead of
      // holding the stop past its grace period.
      if (this.#stopping) return total;
      const batch = await this.#claim();
      if (batch.length === 0) return total;
      total += batch.length;
      await this.#deliverBatch(batch);
    }
  }

  /** Polls in the background and whenever wake() is called. */
  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Ask for a run soon (after a flow committed a message). */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running) this.#again = true;
    else this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running?.catch(() => 0);
    await Promise.all(Object.values(this.options.channels).map((channel) => channel.close?.()));
  }

  #schedule(delayMs: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    if (this.#stopped || this.#running) return;
    this.#running = this.runOnce();
    try {
      await this.#running;
    } catch (error) {
      this.options.log.error({ err: error }, 'outbox dispatch failed');
    } finally {
      this.#running = undefined;
    }
    if (this.#stopped) return;
    const again = this.#again;
    this.#again = false;
    this.#schedule(again ? 0 : (this.options.pollIntervalMs ?? 1000));
  }

  async #claim(): Promise<OutboxMessage[]> {
    const { db, clock } = this.options;
    const now = clock.now();
    const leaseEnd = new Date(now.getTime() + LEASE_MS);
    return db
      .updateTable('outbox')
      .set((eb) => ({
        status: 'processing',
        locked_until: leaseEnd,
        attempts: eb('attempts', '+', 1),
      }))
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('outbox')
          .select('id')
          .where((w) =>
            w.or([
              w.and([w('status', '=', 'queued'), w('next_attempt_at', '<=', now)]),
              w.and([w('status', '=', 'processing'), w('locked_until', '<=', now)]),
            ]),
          )
          .orderBy('id')
          .limit(this.options.batchSize ?? DEFAULT_BATCH_SIZE)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .execute();
  }

  /**
   * Delivers one claimed batch: one statement checks every claim and the
   * secret each message carries, the deliverable ones go to their channels
   * at once, and the outcomes are written together (ADR 021) as they come
   * (OUTCOME_FLUSH_MS): a sent message is recorded at once, not when the
   * slowest of its batch is done, so a crash leaves as few sent-but-not-
   * recorded messages as possible for another instance to send again.
   */
  async #deliverBatch(rows: OutboxMessage[]): Promise<void> {
    const standings = await this.#checkBeforeSending(rows);
    const outcomes = this.#outcomeWriter();
    await Promise.all(
      rows.map(async (row) => {
        const outcome = await this.#deliver(row, standings.get(row.id) ?? 'claim lost');
        if (outcome) outcomes.add(outcome);
      }),
    );
    await outcomes.flush();
  }

  /**
   * Collects a batch's outcomes and writes them in as few statements as
   * promptness allows: everything pending on flush(), and whatever waited
   * outcomeFlushMs before that. Writes run one after the other, each taking
   * every outcome pending when it starts; the first failure is thrown by
   * flush().
   */
  #outcomeWriter() {
    const waitMs = this.options.outcomeFlushMs ?? OUTCOME_FLUSH_MS;
    let pending: Outcome[] = [];
    let timer: NodeJS.Timeout | undefined;
    let writing: Promise<void> = Promise.resolve();
    let failure: unknown = null;
    const writeNow = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
      writing = writing.then(async () => {
        // Taken when the write starts: everything that came in while the
        // previous write ran goes in this one.
        const outcomes = pending;
        pending = [];
        if (outcomes.length === 0) return;
        await this.#recordWhenPossible(outcomes).catch((error: unknown) => {
          failure ??= error;
        });
      });
      return writing;
    };
    return {
      add(outcome: Outcome) {
        pending.push(outcome);
        timer ??= setTimeout(writeNow, waitMs);
      },
      async flush() {
        await writeNow();
        if (failure) throw failure;
      },
    };
  }

  /**
   * Records outcomes, trying again while the database does not answer (a
   * restart of PostgreSQL ends every connection): a message sent but left
   * unrecorded would be sent again once its lease ran out. Gives up, with
   * the last error, when the dispatcher stops or the claims' lease has run
   * out (another instance may have the rows by then).
   */
  async #recordWhenPossible(outcomes: Outcome[]): Promise<void> {
    const leaseEnd = Math.min(...outcomes.map((o) => o.row.locked_until?.getTime() ?? 0));
    let waitMs = RECORD_RETRY_FIRST_MS;
    for (let tries = 1; ; tries += 1) {
      try {
        return await this.#recordOutcomes(outcomes);
      } catch (error) {
        const leaseOver = this.options.clock.now().getTime() + waitMs >= leaseEnd;
        if (this.#stopping || leaseOver || tries >= RECORD_TRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(waitMs * 2, RECORD_RETRY_MAX_MS);
      }
    }
  }

  /** Hands one message to its channel when it may go; what to record of it (null: nothing). */
  async #deliver(row: OutboxMessage, standing: Standing): Promise<Outcome | null> {
    const { clock, secret, channels, log } = this.options;
    if (standing === 'claim lost') {
      log.warn(whereOf(row), 'outbox lease ran out before delivery; left to the new claim');
      return null;
    }
    if (standing !== 'deliverable') {
      return abandoned(
        row,
        standing,
        'info',
        'outbox message abandoned: its link or code is no longer valid',
      );
    }
    let message: OutgoingMessage;
    try {
      message = JSON.parse(openText(secret, OUTBOX_SEAL, row.payload ?? '')) as OutgoingMessage;
    } catch {
      return abandoned(
        row,
        'payload cannot be opened (APP_SECRET changed?)',
        'error',
        'outbox message abandoned: payload cannot be opened',
      );
    }
    try {
      await channels[message.channel].deliver(message);
    } catch (error) {
      const reason = describeFailure(error);
      const permanent = error instanceof PermanentDeliveryError;
      const delays = this.options.retryDelaysMs ?? RETRY_DELAYS_MS;
      if (permanent || row.attempts >= delays.length + 1) {
        // Kept sealed (until the retention deletes the row): once the channel
        // works again, `npm run outbox -- retry --abandoned` sends it, unless
        // the link or code it carries has expired or been used by then.
        return abandoned(row, reason, 'error', 'outbox message abandoned', { reason }, false);
      }
      const delay = delays[row.attempts - 1] ?? (delays.at(-1) as number);
      return {
        row,
        status: 'queued',
        wipe: false,
        reason,
        nextAttemptAt: new Date(clock.now().getTime() + delay),
        log: {
          level: 'warn',
          obj: { ...whereOf(row), reason, retryInMs: delay },
          msg: 'outbox delivery failed; will retry',
        },
      };
    }
    return {
      row,
      status: 'sent',
      wipe: true,
      reason: null,
      sentAt: clock.now(),
      log: { level: 'info', obj: whereOf(row), msg: 'outbox message delivered' },
    };
  }

  /**
   * Just before handing the batch to its channels: is each claim still ours
   * (same claim, lease not run out), and is the link or code each message
   * carries still unused and unexpired at the clock's now? One query for all.
   */
  async #checkBeforeSending(rows: OutboxMessage[]): Promise<Map<string, Standing>> {
    const now = this.options.clock.now();
    const current = await this.options.db
      .selectFrom('outbox')
      .leftJoin('one_time_secrets', 'one_time_secrets.id', 'outbox.secret_id')
      .select([
        'outbox.id',
        'outbox.attempts',
        'outbox.secret_id',
        'one_time_secrets.used_at',
        'one_time_secrets.expires_at',
      ])
      .where((eb) => eb('outbox.id', '=', eb.fn.any(eb.val(rows.map((row) => row.id)))))
      .where('outbox.status', '=', 'processing')
      .where('outbox.locked_until', '>', now)
      .execute();
    const claimed = new Map(rows.map((row) => [String(row.id), row.attempts]));
    const standings = new Map<string, Standing>();
    for (const found of current) {
      // Another claim of the row (a later attempts) is not ours: left absent, 'claim lost'.
      if (claimed.get(String(found.id)) !== found.attempts) continue;
      standings.set(String(found.id), standingOf(found, now));
    }
    return new Map(rows.map((row) => [row.id, standings.get(String(row.id)) ?? 'claim lost']));
  }

  /**
   * Writes the outcomes of one batch of claims, each only over its own
   * claim, in one statement. A claim is named by the row's id, its
   * `attempts` as claimed and status 'processing': every claim adds one to
   * `attempts` in the statement that takes the lease, so a later claim of
   * the same row never has the same value, and no other write changes it.
   * That makes `attempts` a fencing token already kept in step by the claim
   * itself, so no claim-token column is needed. A slow sender whose lease
   * ran out, and whose row was claimed again, matches nothing and records
   * nothing. (Its outcome is still recorded when nobody took the row over:
   * it did deliver, and re-queuing would send twice.)
   */
  async #recordOutcomes(outcomes: Outcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    const { db, log } = this.options;
    const column = <T>(pick: (outcome: Outcome) => T) => outcomes.map(pick);
    const recorded = await db
      .updateTable('outbox')
      .from(
        sql<OutcomeRow>`unnest(
          ${column((o) => o.row.id)}::bigint[],
          ${column((o) => o.row.attempts)}::int[],
          ${column((o) => o.status)}::text[],
          ${column((o) => o.wipe)}::bool[],
          ${column((o) => o.reason)}::text[],
          ${column((o) => o.sentAt ?? null)}::timestamptz[],
          ${column((o) => o.nextAttemptAt ?? null)}::timestamptz[]
        )`.as<'outcome'>(
          sql`outcome(id, attempts, status, wipe, reason, sent_at, next_attempt_at)`,
        ),
      )
      .set((eb) => ({
        status: eb.ref('outcome.status'),
        payload: sql`case when outcome.wipe then null else outbox.payload end`,
        locked_until: null,
        last_error: eb.ref('outcome.reason'),
        sent_at: sql`coalesce(outcome.sent_at, outbox.sent_at)`,
        next_attempt_at: sql`coalesce(outcome.next_attempt_at, outbox.next_attempt_at)`,
      }))
      .whereRef('outbox.id', '=', 'outcome.id')
      .whereRef('outbox.attempts', '=', 'outcome.attempts')
      .where('outbox.status', '=', 'processing')
      .returning('outbox.id')
      .execute();
    const written = new Set(recorded.map((row) => String(row.id)));
    for (const outcome of outcomes) {
      if (written.has(String(outcome.row.id))) {
        const { level, obj, msg } = outcome.log;
        log[level](obj, msg);
        // Counted as recorded, like its log line: a claim lost counts nothing here.
        this.options.metrics?.countDelivery(outcome.row.channel, RESULT_OF[outcome.status]);
      } else {
        log.warn(
          whereOf(outcome.row),
          'outbox claim lost before its outcome was recorded; nothing written',
        );
      }
    }
  }
}

/** Where a claim stands just before its delivery. */
type Standing = 'deliverable' | 'claim lost' | typeof SECRET_RETIRED | typeof SECRET_EXPIRED;

/** A claim's standing from its row and its secret's (a secret row gone counts as retired). */
function standingOf(
  found: { secret_id: string | null; used_at: Date | null; expires_at: Date | null },
  now: Date,
): Standing {
  if (found.secret_id === null) return 'deliverable';
  if (found.used_at !== null || found.expires_at === null) return SECRET_RETIRED;
  if (found.expires_at.getTime() <= now.getTime()) return SECRET_EXPIRED;
  return 'deliverable';
}

/** What to record of one claim, and what to log once it is recorded. */
interface Outcome {
  row: OutboxMessage;
  status: 'sent' | 'abandoned' | 'queued';
  /** Wipe the sealed payload (sent or abandoned: it will never be sent again). */
  wipe: boolean;
  reason: string | null;
  sentAt?: Date;
  nextAttemptAt?: Date;
  log: { level: 'info' | 'warn' | 'error'; obj: object; msg: string };
}

/** The metrics' name of each status an outcome writes. */
const RESULT_OF: Record<Outcome['status'], DeliveryResult> = {
  sent: 'sent',
  queued: 'retry',
  abandoned: 'abandoned',
};

/** The outcomes' columns as recordOutcomes unnests them. */
interface OutcomeRow {
  id: string;
  attempts: number;
  status: Outcome['status'];
  wipe: boolean;
  reason: string | null;
  sent_at: Date | null;
  next_attempt_at: Date | null;
}

/** A claim ended as abandoned, wiping the payload, logged at `level` once recorded. */
function abandoned(
  row: OutboxMessage,
  reason: string,
  level: 'info' | 'error',
  msg: string,
  extra: object = {},
  wipe = true,
): Outcome {
  const obj = { ...whereOf(row), ...extra };
  return { row, status: 'abandoned', wipe, reason, log: { level, obj, msg } };
}

/** What a log line says of a message: never its recipient or content. */
function whereOf(row: OutboxMessage) {
  return { id: row.id, template: row.template, channel: row.channel, attempt: row.attempts };
}

/** An error's message without contact data or secrets (SMTP replies can echo addresses). */
function describeFailure(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .replace(/[^\s<>@]+@[^\s<>@]+/g, '[address]')
    .replace(/\+?\d{8,}/g, '[number]')
    .slice(0, 300);
}
