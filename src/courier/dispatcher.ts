// The dispatcher: claims due messages, hands them to their channel, and
// records the outcome. Several instances share the work: a claim takes rows
// with FOR UPDATE SKIP LOCKED and leases them; a lease that runs out (the
// instance died mid-delivery) makes the row due again.
//
//   queued ──claim──► processing ──ok──► sent
//     ▲                   │
//     └──retry later◄─────┤ (failure, attempts left)
//                         └──► abandoned (failure, no attempts left, or permanent)
import type { Clock } from '../auth/clock.ts';
import { openText } from '../auth/secrets.ts';
import type { Database, OutboxMessage } from '../db/schema.ts';
import { type Channel, type OutgoingMessage, PermanentDeliveryError } from './message.ts';
import { OUTBOX_SEAL } from './outbox.ts';

/** Waits before try 2, 3, …: 30 s, 1, 2, 5, 10 and 20 min (7 tries over ~38 min). */
export const RETRY_DELAYS_MS = [30_000, 60_000, 120_000, 300_000, 600_000, 1_200_000];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
const LEASE_MS = 120_000;

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
    const { db, clock, secret, channels, log } = this.options;
    const where = {
      id: row.id,
      template: row.template,
      channel: row.channel,
      attempt: row.attempts,
    };
    let message: OutgoingMessage;
    try {
      message = JSON.parse(openText(secret, OUTBOX_SEAL, row.payload ?? '')) as OutgoingMessage;
    } catch {
      await this.#finish(row, 'abandoned', 'payload cannot be opened (APP_SECRET changed?)');
      log.error(where, 'outbox message abandoned: payload cannot be opened');
      return;
    }
    try {
      await channels[message.channel].deliver(message);
    } catch (error) {
      const reason = describeFailure(error);
      const permanent = error instanceof PermanentDeliveryError;
      if (permanent || row.attempts >= MAX_ATTEMPTS) {
        await this.#finish(row, 'abandoned', reason);
        log.error({ ...where, reason }, 'outbox message abandoned');
      } else {
        const delay = RETRY_DELAYS_MS[row.attempts - 1] ?? (RETRY_DELAYS_MS.at(-1) as number);
        await db
          .updateTable('outbox')
          .set({
            status: 'queued',
            locked_until: null,
            last_error: reason,
            next_attempt_at: new Date(clock.now().getTime() + delay),
          })
          .where('id', '=', row.id)
          .execute();
        log.warn({ ...where, reason, retryInMs: delay }, 'outbox delivery failed; will retry');
      }
      return;
    }
    await this.#finish(row, 'sent', null);
    log.info(where, 'outbox message delivered');
  }

  async #finish(row: OutboxMessage, status: 'sent' | 'abandoned', reason: string | null) {
    await this.options.db
      .updateTable('outbox')
      .set({
        status,
        payload: null,
        locked_until: null,
        last_error: reason,
        ...(status === 'sent' ? { sent_at: this.options.clock.now() } : {}),
      })
      .where('id', '=', row.id)
      .execute();
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
