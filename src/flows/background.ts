// Work a request hands off so that its answer neither waits for it nor tells,
// by how long it took, what the work was: the member-specific part of a
// password request (lookup, limits, secret, message), which differs between
// a member and an unknown document. Tasks run in this process just after the
// answer is on its way; the app's close waits for them, so a graceful stop
// finishes what was accepted. A database restart in between delays the
// work (it is done again once the database answers: src/db/reconnect.ts); a
// crash of the process leaves a password request in its intake row, which
// another instance takes over (src/flows/recovery/intake.ts, ADR 011).
//
// The queue is bounded (BACKGROUND_QUEUE_LIMIT): a flood of requests cannot
// pile up work, and memory, faster than the database drains it. When it is
// full, `run` refuses with SERVICE_BUSY (503, Retry-After) and runs nothing;
// a flow asks `hasRoom()` first so that it refuses before spending anything.
//
// Work of one kind can go in batches (`batchedTasks`): many requests' work
// in one transaction, each item still a task of the queue (ADR 021).

import { RECONNECT_DELAYS_MS, whileDatabaseAway } from '../db/reconnect.ts';
import { FlowError } from './errors.ts';
import type { AlertLog } from './log.ts';

/** BACKGROUND_QUEUE_LIMIT's default: tasks waiting or running at once, per process. */
export const DEFAULT_BACKGROUND_QUEUE_LIMIT = 1000;

/** How long a refused member is asked to wait before trying again. */
export const SERVICE_BUSY_RETRY_SECONDS = 5;

export interface Background {
  /**
   * Runs `task` after the current request's answer; failures are logged.
   * Throws SERVICE_BUSY (and runs nothing) when `limit` tasks are pending.
   */
  run(name: string, task: () => Promise<void>): void;
  /** Whether `run` would accept one more task now. */
  hasRoom(): boolean;
  /** Tasks handed off and not finished yet (the metrics' gauge). */
  depth(): number;
  /** The most tasks pending at once. */
  readonly limit: number;
  /** Resolves when every task handed off so far (and any they started) is done. */
  idle(): Promise<void>;
  /**
   * Whether someone waits in idle() (a graceful stop, a test): work that
   * paces itself stops pacing and finishes what was accepted.
   */
  isDraining(): boolean;
}

/** The refusal of a full queue: SERVICE_BUSY (503 at the edge) with Retry-After. */
export function serviceBusyError(): FlowError {
  return new FlowError('SERVICE_BUSY', {}, undefined, SERVICE_BUSY_RETRY_SECONDS);
}

export function createBackground(
  log: AlertLog,
  limit: number = DEFAULT_BACKGROUND_QUEUE_LIMIT,
): Background {
  const pending = new Set<Promise<void>>();
  const hasRoom = () => pending.size < limit;
  let idleWaiters = 0;
  return {
    limit,
    hasRoom,
    isDraining: () => idleWaiters > 0,
    depth: () => pending.size,
    run(name, task) {
      if (!hasRoom()) throw serviceBusyError();
      // Counted from now: a task waiting for its turn holds its place too,
      // and gives it back before anyone awaiting it goes on.
      const done: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
        .then(task)
        .catch((error: unknown) => log.error({ task: name, err: error }, 'background task failed'))
        .finally(() => pending.delete(done));
      pending.add(done);
    },
    async idle() {
      idleWaiters += 1;
      try {
        while (pending.size > 0) await Promise.all([...pending]);
      } finally {
        idleWaiters -= 1;
      }
    },
  };
}

/** The most items one batch takes (BatchedTasks). */
export const DEFAULT_BATCH_LIMIT = 100;

/**
 * Work of the same kind handed off by many requests, done in batches: items
 * handed off while a batch runs wait and go together into the next one, so
 * under load the database sees one round of statements for many requests
 * instead of one per request (ADR 021). Each item is a task of the
 * Background (it holds its place in the bounded queue, `idle()` and a
 * graceful stop wait for it), finished when its batch is.
 */
export interface BatchedTasks<T> {
  /** Hands one item off (throws SERVICE_BUSY like Background.run when the queue is full). */
  add(item: T): void;
}

export interface BatchOptions {
  /** The most items in one batch (DEFAULT_BATCH_LIMIT). */
  limit?: number;
  /**
   * Awaited before each batch: lets the work that follows (e.g. the
   * courier) catch up, so items wait here, in order, rather than pile up
   * further down. Never throws.
   */
  pace?: () => Promise<void>;
  /** Waits between tries of a batch while the database is away (RECONNECT_DELAYS_MS). */
  reconnectDelaysMs?: readonly number[];
}

/**
 * `handle` gets the items in the order they were handed off. It must be
 * all or nothing (one transaction): a batch that fails is done again one
 * item at a time, so a bad item costs only itself, and its failure is
 * logged under `name` like any task's.
 */
export function batchedTasks<T>(
  background: Background,
  name: string,
  handle: (items: T[]) => Promise<void>,
  options: BatchOptions = {},
): BatchedTasks<T> {
  const limit = options.limit ?? DEFAULT_BATCH_LIMIT;
  // A batch is all or nothing: one that lost its database is done again
  // when the database answers, not counted as the items' failure.
  const run = (items: T[]) =>
    whileDatabaseAway(() => handle(items), options.reconnectDelaysMs ?? RECONNECT_DELAYS_MS);
  let waiting: { item: T; done: () => void; failed: (error: unknown) => void }[] = [];
  let running = false;

  /** Runs batches one after the other until nobody waits. */
  async function drain(): Promise<void> {
    running = true;
    try {
      while (waiting.length > 0) {
        await options.pace?.().catch(() => {});
        const batch = waiting.slice(0, limit);
        waiting = waiting.slice(limit);
        try {
          await run(batch.map((entry) => entry.item));
          for (const entry of batch) entry.done();
        } catch (error) {
          if (batch.length === 1) {
            batch[0]?.failed(error);
            continue;
          }
          // Nothing of the batch was kept: each item alone, its own failure its own.
          for (const entry of batch) {
            await run([entry.item]).then(entry.done, entry.failed);
          }
        }
      }
    } finally {
      running = false;
    }
  }

  return {
    add(item) {
      background.run(
        name,
        () =>
          new Promise<void>((done, failed) => {
            waiting.push({ item, done, failed });
            // Items handed off in the same turn join: the batch starts on the next.
            if (!running) {
              running = true;
              setImmediate(() => void drain());
            }
          }),
      );
    },
  };
}
