// GET /metrics in Prometheus's text format (prom-client). Two kinds:
// - this process: HTTP answers by route and status class, the work waiting
//   after answers, and (in the server) Node's own process metrics;
// - the whole portal, read from the shared database at each scrape, so every
//   instance reports the same figures: audit events of the last 15 minutes by
//   type and outcome, whether the outbox is stalled, the share of the hourly
//   SMS budget spent, and failed logins against LOGIN_FAILURES_GLOBAL.
// Nothing about a member, never a document; and no figure that one
// member-specific request moves by a visible step when its outcome is hidden
// from the requester (whether a link or code went out tells whether the
// document is a member's): those are counted as requests, stalls or coarse
// shares (ADR 015).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Clock } from '../auth/clock.ts';
import { peekLimit } from '../auth/throttle.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { GLOBAL_FAILURES_KEY } from '../flows/login/state.ts';
import { SMS_BUDGET_KEY, SMS_BUDGET_WINDOW_MS } from '../flows/recovery/state.ts';
import { isDirectLocalClient } from '../plugins/local-client.ts';

const RECENT_MINUTES = 15;
/** A message not delivered this long after it was queued means delivery is stalled. */
export const OUTBOX_STALL_SECONDS = 120;
/** The SMS budget is shown in steps of this share, not message by message. */
const SMS_BUDGET_STEP = 0.1;

/**
 * Audit types whose outcome the requester never learns: a password request
 * answers the same whether a link or code went out. Shown as requests
 * (outcome "requested"), never split by what happened.
 */
const HIDDEN_OUTCOME_TYPES = new Set(['link_sent', 'code_sent']);

export interface Metrics {
  readonly registry: Registry;
  /** Counts one answer of this process. */
  observeResponse(route: string, method: string, status: number): void;
  /** Where the depth of the after-the-answer queue is read from. */
  watchBackground(source: { depth(): number; limit: number }): void;
}

export interface MetricsOptions {
  db: Database;
  clock: Clock;
  limits: Config['limits'];
  /** Node's process metrics (event loop, memory, GC); the server turns them on. */
  processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions): Metrics {
  const { db, clock, limits } = options;
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  let background: { depth(): number; limit: number } | undefined;

  const responses = new Counter({
    name: 'autogestion_http_responses_total',
    help: 'Answers of this process by route, method and status class.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });

  new Gauge({
    name: 'autogestion_background_tasks',
    help: 'Work of this process waiting to run after its answer (password requests).',
    registers: [registry],
    collect() {
      this.set(background?.depth() ?? 0);
    },
  });
  new Gauge({
    name: 'autogestion_background_tasks_limit',
    help: 'BACKGROUND_QUEUE_LIMIT: past it, password requests answer 503.',
    registers: [registry],
    collect() {
      this.set(background?.limit ?? 0);
    },
  });

  new Gauge({
    name: 'autogestion_audit_events_recent',
    help: `Audit events of the last ${RECENT_MINUTES} minutes, all instances, by type and outcome (link_sent and code_sent count requests: outcome "requested").`,
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
    async collect() {
      const since = new Date(clock.now().getTime() - RECENT_MINUTES * 60_000);
      const rows = await db
        .selectFrom('audit_events')
        .select(['type', 'outcome', (eb) => eb.fn.countAll<string>().as('n')])
        .where('at', '>=', since)
        .groupBy(['type', 'outcome'])
        .execute();
      const counts = new Map<string, { type: string; outcome: string; n: number }>();
      for (const row of rows) {
        const outcome = HIDDEN_OUTCOME_TYPES.has(row.type) ? 'requested' : row.outcome;
        const key = `${row.type}\0${outcome}`;
        const entry = counts.get(key) ?? { type: row.type, outcome, n: 0 };
        entry.n += Number(row.n);
        counts.set(key, entry);
      }
      this.reset();
      for (const { type, outcome, n } of counts.values()) this.set({ type, outcome }, n);
    },
  });

  new Gauge({
    name: 'autogestion_outbox_stalled_seconds',
    help: `Age in seconds of the oldest message, all instances, still undelivered ${OUTBOX_STALL_SECONDS} s after it was queued, by channel; 0 when delivery keeps up.`,
    labelNames: ['channel'] as const,
    registers: [registry],
    async collect() {
      const now = clock.now();
      const rows = await db
        .selectFrom('outbox')
        .select(['channel', (eb) => eb.fn.min('created_at').as('oldest')])
        .where('status', 'in', ['queued', 'processing'])
        .where('created_at', '<', new Date(now.getTime() - OUTBOX_STALL_SECONDS * 1000))
        .groupBy('channel')
        .execute();
      this.reset();
      for (const channel of ['email', 'sms'] as const) {
        const oldest = rows.find((row) => row.channel === channel)?.oldest;
        const seconds = oldest ? (now.getTime() - new Date(oldest).getTime()) / 1000 : 0;
        this.set({ channel }, Math.floor(seconds));
      }
    },
  });

  new Gauge({
    name: 'autogestion_sms_budget_used_ratio',
    help: `Share of SMS_HOURLY_BUDGET spent in the current hour, all instances, in steps of ${SMS_BUDGET_STEP} (1 when spent).`,
    registers: [registry],
    async collect() {
      const budget = limits.smsHourlyBudget;
      const rule = { limit: budget, windowMs: SMS_BUDGET_WINDOW_MS };
      const spent = budget === 0 ? 0 : (await peekLimit(db, clock, SMS_BUDGET_KEY, rule)).count;
      this.set(smsBudgetShare(spent, budget));
    },
  });
  new Gauge({
    name: 'autogestion_sms_budget',
    help: 'SMS_HOURLY_BUDGET.',
    registers: [registry],
    collect() {
      this.set(limits.smsHourlyBudget);
    },
  });
  new Gauge({
    name: 'autogestion_login_failures_global',
    help: 'Failed logins in the current LOGIN_FAILURES_GLOBAL window, all instances.',
    registers: [registry],
    async collect() {
      this.set((await peekLimit(db, clock, GLOBAL_FAILURES_KEY, limits.loginFailuresGlobal)).count);
    },
  });
  new Gauge({
    name: 'autogestion_login_failures_global_limit',
    help: 'LOGIN_FAILURES_GLOBAL: past it, an alert and harder CAPTCHA challenges.',
    registers: [registry],
    collect() {
      this.set(limits.loginFailuresGlobal.limit);
    },
  });

  return {
    registry,
    observeResponse(route, method, status) {
      responses.inc({ route, method, status: `${Math.floor(status / 100)}xx` });
    },
    watchBackground(source) {
      background = source;
    },
  };
}

/**
 * The spent share of the SMS budget, rounded down to a step: one SMS moves it
 * only when it crosses a step, and whose SMS that was cannot be told apart
 * from everyone else's. Spent in full reads 1.
 */
export function smsBudgetShare(spent: number, budget: number): number {
  if (budget === 0 || spent >= budget) return 1;
  const steps = Math.floor((spent * (1 / SMS_BUDGET_STEP)) / budget);
  return steps * SMS_BUDGET_STEP;
}

/**
 * Who may read /metrics on the public port: with METRICS_TOKEN, whoever sends
 * it as a bearer token; without it, only a scraper on this machine talking
 * to us directly (a loopback socket that no proxy forwarded: behind nginx
 * every request comes from loopback). TRUSTED_PROXIES grants nothing here:
 * a proxy forwards everyone.
 */
export function metricsAccess(config: Pick<Config, 'metricsToken'>) {
  return (request: FastifyRequest): boolean => {
    if (config.metricsToken)
      return sameSecret(request.headers.authorization ?? '', `Bearer ${config.metricsToken}`);
    return isDirectLocalClient(request);
  };
}

/** Compares in constant time (over the hashes, so lengths may differ). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
