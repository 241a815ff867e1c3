// Work a request hands off so that its answer neither waits for it nor tells,
// by how long it took, what the work was: the member-specific part of a
// password request (lookup, limits, secret, message), which differs between
// a member and an unknown document. Tasks run in this process just after the
// answer is on its way; the app's close waits for them, so a graceful stop
// finishes what was accepted. A crash in between loses the request: the
// member asks again (ADR 011).
import type { AlertLog } from '../deps.ts';

export interface Background {
  /** Runs `task` after the current request's answer; failures are logged. */
  run(name: string, task: () => Promise<void>): void;
  /** Resolves when every task handed off so far (and any they started) is done. */
  idle(): Promise<void>;
}

export function createBackground(log: AlertLog): Background {
  const pending = new Set<Promise<void>>();
  return {
    run(name, task) {
      const done = new Promise<void>((resolve) => {
        setImmediate(() => {
          task()
            .catch((error: unknown) =>
              log.error({ task: name, err: error }, 'background task failed'),
            )
            .finally(resolve);
        });
      });
      pending.add(done);
      void done.then(() => pending.delete(done));
    },
    async idle() {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
