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
// recordOutcome), so a sender whose lease ran out, and whose row another
// instance claimed again, records nothing over the new claim.
import type { Updateable } from 'kysely';
import type { Clock } from '../auth/clock.ts';
import { openText } from '../auth/secrets.ts';
import type { Database, OutboxMessage, OutboxTable } from '../db/schema.ts';
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
  batchSize?: number;
  pollIntervalMs?: number;
}

export class Dispatcher {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;
  #again = false;
  #stopped = true;

  constructor(private readonly options: DispatcherOptions) {}

  /** Delivers every message due now; returns how many were attempted. */
  async runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const batch = await this.#claim();
      if (batch.length === 0) return total;
      total += batch.length;
      await Promise.all(batch.map((row) => this.#deliver(row)));
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
          .limit(this.options.batchSize ?? 20)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .execute();
  }

  async #deliver(row: OutboxMessage): Promise<void> {
    const { clock, secret, channels, log } = this.options;
    const where = {
      id: row.id,
      template: row.template,
      channel: row.channel,
      attempt: row.attempts,
    };
    const standing = await this.#checkBeforeSending(row);
    if (standing === 'claim lost') {
      log.warn(where, 'outbox lease ran out before delivery; left to the new claim');
      return;
    }
    if (standing !== 'deliverable') {
      if (await this.#finish(row, 'abandoned', standing)) {
        log.info(where, 'outbox message abandoned: its link or code is no longer valid');
      }
      return;
    }
    let message: OutgoingMessage;
    try {
      message = JSON.parse(openText(secret, OUTBOX_SEAL, row.payload ?? '')) as OutgoingMessage;
    } catch {
      if (await this.#finish(row, 'abandoned', 'payload cannot be opened (APP_SECRET changed?)')) {
        log.error(where, 'outbox message abandoned: payload cannot be opened');
      }
      return;
    }
    try {
      await channels[message.channel].deliver(message);
    } catch (error) {
      const reason = describeFailure(error);
      const permanent = error instanceof PermanentDeliveryError;
      if (permanent || row.attempts >= MAX_ATTEMPTS) {
        if (await this.#finish(row, 'abandoned', reason)) {
          log.error({ ...where, reason }, 'outbox message abandoned');
        }
      } else {
        const delay = RETRY_DELAYS_MS[row.attempts - 1] ?? (RETRY_DELAYS_MS.at(-1) as number);
        const recorded = await this.#recordOutcome(row, {
          status: 'queued',
          locked_until: null,
          last_error: reason,
          next_attempt_at: new Date(clock.now().getTime() + delay),
        });
        if (recorded) {
          log.warn({ ...where, reason, retryInMs: delay }, 'outbox delivery failed; will retry');
        }
      }
      return;
    }
    if (await this.#finish(row, 'sent', null)) log.info(where, 'outbox message delivered');
  }

  /**
   * Just before handing a message to its channel: is the claim still ours
   * (same claim, lease not run out), and is the link or code it carries still
   * unused and unexpired at the clock's now? One query for both.
   */
  async #checkBeforeSending(
    row: OutboxMessage,
  ): Promise<'deliverable' | 'claim lost' | typeof SECRET_RETIRED | typeof SECRET_EXPIRED> {
    const now = this.options.clock.now();
    const current = await this.options.db
      .selectFrom('outbox')
      .leftJoin('one_time_secrets', 'one_time_secrets.id', 'outbox.secret_id')
      .select(['outbox.secret_id', 'one_time_secrets.used_at', 'one_time_secrets.expires_at'])
      .where('outbox.id', '=', row.id)
      .where('outbox.attempts', '=', row.attempts)
      .where('outbox.status', '=', 'processing')
      .where('outbox.locked_until', '>', now)
      .executeTakeFirst();
    if (!current) return 'claim lost';
    if (current.secret_id === null) return 'deliverable';
    // A secret row that is gone (deleted meanwhile) counts as retired.
    if (current.used_at !== null || current.expires_at === null) return SECRET_RETIRED;
    if (current.expires_at.getTime() <= now.getTime()) return SECRET_EXPIRED;
    return 'deliverable';
  }

  /** Ends a claim as sent or abandoned, wiping the payload; false when the claim was lost. */
  async #finish(
    row: OutboxMessage,
    status: 'sent' | 'abandoned',
    reason: string | null,
  ): Promise<boolean> {
    return this.#recordOutcome(row, {
      status,
      payload: null,
      locked_until: null,
      last_error: reason,
      ...(status === 'sent' ? { sent_at: this.options.clock.now() } : {}),
    });
  }

  /**
   * Writes the outcome of one claim, and only over that claim. The claim is
   * named by the row's id, its `attempts` as claimed and status 'processing':
   * every claim adds one to `attempts` in the statement that takes the lease,
   * so a later claim of the same row never has the same value, and no other
   * write changes it. That makes `attempts` a fencing token already kept in
   * step by the claim itself, so no claim-token column is needed. A slow
   * sender whose lease ran out, and whose row was claimed again, matches
   * nothing and records nothing. (Its outcome is still recorded when nobody
   * took the row over: it did deliver, and re-queuing would send twice.)
   */
  async #recordOutcome(row: OutboxMessage, values: Updateable<OutboxTable>): Promise<boolean> {
    const result = await this.options.db
      .updateTable('outbox')
      .set(values)
      .where('id', '=', row.id)
      .where('attempts', '=', row.attempts)
      .where('status', '=', 'processing')
      .executeTakeFirst();
    if (result.numUpdatedRows > 0n) return true;
    this.options.log.warn(
      { id: row.id, template: row.template, channel: row.channel, attempt: row.attempts },
      'outbox claim lost before its outcome was recorded; nothing written',
    );
    return false;
  }
}

/** An error's message without contact data or secrets (SMTP replies can echo addresses). */
function describeFailure(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .replace(/[^\s<>@]+@[^\s<>@]+/g, '[address]')
    .replace(/\+?\d{8,}/g, '[number]')
    .slice(0, 300);
}
