// Work a request hands off so that its answer neither waits for it nor tells,
// by how long it took, what the work was: the member-specific part of a
// password request (lookup, limits, secret, message), which differs between
// a member and an unknown document. Tasks run in this process just after the
// answer is on its way; the app's close waits for them, so a graceful stop
// finishes what was accepted. A crash in between loses the request: the
// member asks again (ADR 011).
//
// The queue is bounded (BACKGROUND_QUEUE_LIMIT): a flood of requests cannot
// pile up work, and memory, faster than the database drains it. When it is
// full, `run` refuses with SERVICE_BUSY (503, Retry-After) and runs nothing;
// a flow asks `hasRoom()` first so that it refuses before spending anything.

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
  return {
    limit,
    hasRoom,
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
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
