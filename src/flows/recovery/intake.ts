// The durable intake of password requests (ADR 011). A request is answered
// 202 before its member-specific work runs, and that work waits in memory
// for a moment: a kill -9 then would lose a request that was accepted. So
// the request first writes an intake row (one statement, the same for every
// document), and the work deletes that row in the transaction in which it
// does what it does. A row still there after its retry_after belongs to a
// process that died (or whose work failed): any instance's sweeper claims
// it and hands it to the same work again. The delete is what makes the work
// happen once: of two workers on one row, the second finds it gone and does
// nothing.
//
// The document and the request's context are sealed (sealText, as the
// outbox's payloads): the work needs them in clear, a dump of the database
// must not list who asked, and the device token is a credential.

import type { Clock } from '../../auth/clock.ts';
import { openText, sealText } from '../../auth/secrets.ts';
import type { Database } from '../../db/schema.ts';
import type { FlowDeps, RequestContext } from '../context.ts';
import type { AlertLog } from '../log.ts';
import type { DeliveryChannel, RecoveryFlow } from './state.ts';

/** The seal's purpose: its own key, derived from APP_SECRET like the outbox's. */
export const INTAKE_SEAL = 'request-intake';
/** How long a request's work has before another instance may take it over. */
export const INTAKE_LEASE_MS = 60_000;
/** How often each instance looks for requests left behind. */
export const INTAKE_SWEEP_MS = 5_000;
/** The most rows one sweep claims (fewer when the after-the-answer queue is fuller). */
export const INTAKE_SWEEP_LIMIT = 100;

/** A password request as its work needs it. */
export interface IntakeRequest {
  identifier: string;
  flow: RecoveryFlow;
  channel: DeliveryChannel;
  context: RequestContext;
}

/** Writes the request's intake row; answers its id. One statement whoever the document is. */
export async function recordIntake(
  db: Database,
  clock: Clock,
  secret: string,
  request: IntakeRequest,
): Promise<string> {
  const now = clock.now();
  const { context } = request;
  const row = await db
    .insertInto('request_intake')
    .values({
      flow: request.flow,
      channel: request.channel,
      identifier: sealText(secret, INTAKE_SEAL, request.identifier),
      context: sealText(
        secret,
        INTAKE_SEAL,
        JSON.stringify({
          channel: context.channel,
          ip: context.ip,
          userAgent: context.userAgent,
          deviceToken: context.deviceToken,
        }),
      ),
      created_at: now,
      retry_after: new Date(now.getTime() + INTAKE_LEASE_MS),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/**
 * Deletes the intake rows of work being done, in that work's transaction;
 * answers the ids it deleted. An id missing from the answer was done by
 * another worker (or is being done: the delete waits for its transaction
 * and finds the row gone once it commits): its work must not be done again.
 */
export async function takeIntake(trx: Database, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  // Locked in id order: two batches sharing rows (one taken over while the
  // first still runs) wait for each other instead of deadlocking.
  const rows = await trx
    .deleteFrom('request_intake')
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('request_intake')
        .select('id')
        .where('id', 'in', [...ids])
        .orderBy('id')
        .forUpdate(),
    )
    .returning('id')
    .execute();
  return new Set(rows.map((row) => String(row.id)));
}

/** Forgets an intake row whose request was refused after all (its work will never run). */
export async function dropIntake(db: Database, id: string): Promise<void> {
  await db.deleteFrom('request_intake').where('id', '=', id).execute();
}

/**
 * Claims up to `limit` rows whose retry_after has passed (rows another
 * instance is claiming at the same moment are skipped, not waited for) and
 * moves their retry_after one lease ahead; answers them opened. A row that
 * cannot be opened (sealed under another APP_SECRET) is counted in
 * `unreadable` and left for housekeeping.
 */
export async function claimIntake(
  db: Database,
  clock: Clock,
  secret: string,
  limit: number,
): Promise<{ claimed: { id: string; request: IntakeRequest }[]; unreadable: number }> {
  const now = clock.now();
  const rows = await db
    .updateTable('request_intake')
    .set({ retry_after: new Date(now.getTime() + INTAKE_LEASE_MS) })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('request_intake')
        .select('id')
        .where('retry_after', '<', now)
        .orderBy('id')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returning(['id', 'flow', 'channel', 'identifier', 'context'])
    .execute();
  const claimed: { id: string; request: IntakeRequest }[] = [];
  let unreadable = 0;
  for (const row of rows) {
    try {
      const context = JSON.parse(openText(secret, INTAKE_SEAL, row.context)) as RequestContext;
      claimed.push({
        id: String(row.id),
        request: {
          identifier: openText(secret, INTAKE_SEAL, row.identifier),
          flow: row.flow,
          channel: row.channel,
          context: {
            channel: context.channel,
            ip: context.ip ?? null,
            userAgent: context.userAgent ?? null,
            deviceToken: context.deviceToken ?? null,
          },
        },
      });
    } catch {
      unreadable += 1;
    }
  }
  return { claimed, unreadable };
}

/** Hands one claimed request to its work (the same as a fresh request's); throws SERVICE_BUSY when full. */
export type ResumeRequest = (deps: FlowDeps, intakeId: string, request: IntakeRequest) => void;

/**
 * The sweeper: once at start and every INTAKE_SWEEP_MS, claims the
 * requests left behind and hands them to their work, never more than the
 * after-the-answer queue has room for. Every instance runs one; SKIP
 * LOCKED and the lease keep two from claiming the same row at once.
 */
export class RequestIntake {
  readonly #deps: FlowDeps;
  readonly #resume: ResumeRequest;
  readonly #log: AlertLog;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<number> | undefined;

  constructor(
    deps: FlowDeps,
    resume: ResumeRequest,
    options: { intervalMs?: number; log?: AlertLog } = {},
  ) {
    this.#deps = deps;
    this.#resume = resume;
    this.#log = options.log ?? deps.log;
    this.#intervalMs = options.intervalMs ?? INTAKE_SWEEP_MS;
  }

  start(): void {
    if (this.#timer) return;
    void this.sweep();
    this.#timer = setInterval(() => void this.sweep(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops sweeping; resolves once a sweep under way has handed off what it claimed. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
  }

  /** One sweep now (tests call it after moving the clock); answers how many requests it resumed. */
  sweep(): Promise<number> {
    // One sweep at a time: a slow database must not stack them up.
    this.#sweeping ??= this.#sweepOnce().finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweepOnce(): Promise<number> {
    const deps = this.#deps;
    const room = Math.min(INTAKE_SWEEP_LIMIT, deps.background.limit - deps.background.depth());
    if (room <= 0) return 0;
    try {
      const { claimed, unreadable } = await claimIntake(deps.db, deps.clock, deps.secret, room);
      if (unreadable > 0)
        this.#log.warn(
          { unreadable },
          'password requests left behind cannot be opened (APP_SECRET changed?); housekeeping removes them after a day',
        );
      let resumed = 0;
      for (const { id, request } of claimed) {
        try {
          this.#resume(deps, id, request);
          resumed += 1;
        } catch {
          // The queue filled up meanwhile: the row's lease runs out and a
          // later sweep (here or elsewhere) takes it again.
          break;
        }
      }
      return resumed;
    } catch (error) {
      this.#log.warn({ err: error }, 'could not take over password requests left behind');
      return 0;
    }
  }
}
