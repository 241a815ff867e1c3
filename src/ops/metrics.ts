// GET /metrics in Prometheus's text format (prom-client). Two kinds:
// - this process: HTTP answers by route and status class, logins by outcome,
//   password requests by the channel asked for, throttle refusals by kind,
//   deliveries by channel and result, the argon2 verify time, the database
//   pool, the work waiting after answers, and (in the server) Node's own
//   process metrics;
// - the whole portal, read from the shared database at each scrape, so every
//   instance reports the same figures: audit events of the last 15 minutes by
//   type and outcome, whether the outbox is stalled, the share of the hourly
//   SMS budget spent, and failed logins against LOGIN_FAILURES_GLOBAL.
// Nothing about a member, never a document, an address or a key as a label;
// and no figure that one member-specific request moves by a visible step when
// its outcome is hidden from the requester (whether a link or code went out
// tells whether the document is a member's): those are counted as requests,
// stalls or coarse shares (ADR 015). Deliveries are the one exception, made
// on purpose and fenced by who may read this (ADR 026).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../auth/clock.ts';
import { peekLimit } from '../auth/throttle.ts';
import type { Config } from '../config.ts';
import { databasePoolStats } from '../db/connect.ts';
import type { Database } from '../db/schema.ts';
import { FlowError } from '../flows/errors.ts';
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

/** How a member's login ended: an unknown document and a wrong password are both "failed". */
export type LoginOutcome = 'ok' | 'failed' | 'throttled';
export const LOGIN_OUTCOMES: readonly LoginOutcome[] = ['ok', 'failed', 'throttled'];

/**
 * The throttles that refuse a request the requester sees refused (a 429),
 * named as the limit they apply (the audit's `detail.limit`, the setting).
 * The per-member, per-number and SMS-budget limits of password requests are
 * not here: they act after the answer, on members only, and counting them
 * would tell a member's document from an unknown one (ADR 015); the audit
 * and autogestion_sms_budget_used_ratio keep them.
 */
export const THROTTLE_KINDS = [
  /** The account's progressive wait after failed logins (or every check slot taken). */
  'login_account_wait',
  /** A known device's own wait (ADR 016). */
  'login_device_wait',
  /** LOGIN_FAILURES_PER_ADDRESS. */
  'login_failures_per_address',
  /** A failed login past LOGIN_FAILURES_GLOBAL: nobody is refused, CAPTCHAs get harder. */
  'login_failures_global',
  /** Passkey login challenges per address. */
  'passkey_challenges_per_address',
  /** Failed passkey logins per address. */
  'passkey_failures_per_address',
  /** PASSWORD_REQUESTS_PER_ADDRESS (or a known device's member budget of the same size). */
  'password_requests_per_address',
  /** SMS_CODE_FAILURES_PER_ADDRESS: wrong SMS and printed codes. */
  'sms_code_failures_per_address',
  /** CAPTCHA_FAILURES_PER_ADDRESS: junk CAPTCHA answers. */
  'captcha_failures_per_address',
] as const;
export type ThrottleKind = (typeof THROTTLE_KINDS)[number];

export type DeliveryChannel = 'email' | 'sms';
export type DeliveryResult = 'sent' | 'retry' | 'abandoned';
const DELIVERY_RESULTS: readonly DeliveryResult[] = ['sent', 'retry', 'abandoned'];
const CHANNELS: readonly DeliveryChannel[] = ['email', 'sms'];

/**
 * argon2id verify times, in seconds: ~10–20 ms of a core with the
 * production parameters (ADR 019), up to seconds on a starved machine.
 */
export const PASSWORD_VERIFY_BUCKETS = [
  0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2,
];

/** What flows count. Optional in their deps: flows built without it count nothing. */
export interface FlowMetrics {
  /** A member's login (password or passkey) ended this way. */
  countLogin(outcome: LoginOutcome): void;
  /** A password link or code was asked for by this channel (counted whoever the document is). */
  countPasswordRequest(channel: DeliveryChannel): void;
  /** A throttle refused a request (or, for the global count, hardened the CAPTCHA). */
  countThrottleHit(kind: ThrottleKind): void;
}

/** What the dispatcher counts. */
export interface DeliveryMetrics {
  /** A delivery attempt's outcome, as recorded in the outbox. */
  countDelivery(channel: DeliveryChannel, result: DeliveryResult): void;
}

export interface Metrics extends FlowMetrics, DeliveryMetrics {
  readonly registry: Registry;
  /** Counts one answer of this process. */
  observeResponse(route: string, method: string, status: number): void;
  /** Where the depth of the after-the-answer queue is read from. */
  watchBackground(source: { depth(): number; limit: number }): void;
  /** One argon2 verification took this long (its work, not its wait for a slot). */
  observePasswordVerify(seconds: number): void;
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

  // Counters with every label value there from the start (at 0), so a rate
  // or an alert sees a series before its first event.
  const logins = new Counter({
    name: 'autogestion_logins_total',
    help: 'Member logins of this process (password or passkey) by outcome: ok, failed (an unknown document and a wrong password alike), throttled.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of LOGIN_OUTCOMES) logins.inc({ outcome }, 0);
  const passwordRequests = new Counter({
    name: 'autogestion_password_requests_total',
    help: 'Password link or code requests this process accepted, by the channel asked for (the same for any document: not whether anything was sent).',
    labelNames: ['channel'] as const,
    registers: [registry],
  });
  for (const channel of CHANNELS) passwordRequests.inc({ channel }, 0);
  const throttleHits = new Counter({
    name: 'autogestion_throttle_hits_total',
    help: 'Requests of this process a throttle refused, by limit (login_failures_global: failed logins past it, which harden the CAPTCHA).',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  for (const kind of THROTTLE_KINDS) throttleHits.inc({ kind }, 0);
  const deliveries = new Counter({
    name: 'autogestion_deliveries_total',
    help: "Outbox delivery attempts this process's dispatcher recorded, by channel and result (sent, retry, abandoned).",
    labelNames: ['channel', 'result'] as const,
    registers: [registry],
  });
  for (const channel of CHANNELS)
    for (const result of DELIVERY_RESULTS) deliveries.inc({ channel, result }, 0);
  const verifyTime = new Histogram({
    name: 'autogestion_password_verify_seconds',
    help: 'argon2id password verifications of this process (logins, re-authentication, the unknown-document dummy alike), in seconds of work, not counting the wait for a hashing slot.',
    buckets: PASSWORD_VERIFY_BUCKETS,
    registers: [registry],
  });

  // The pg pool of this process, on PostgreSQL; PGlite is one in-process
  // connection with no pool, and these gauges are not there at all.
  const pool = databasePoolStats(db);
  if (pool) {
    new Gauge({
      name: 'autogestion_db_pool_connections',
      help: "This process's PostgreSQL connections: total open, idle, and waiting (queries waiting for a free connection).",
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const now = pool();
        this.set({ state: 'total' }, now.total);
        this.set({ state: 'idle' }, now.idle);
        this.set({ state: 'waiting' }, now.waiting);
      },
    });
    new Gauge({
      name: 'autogestion_db_pool_max_connections',
      help: 'The most connections the pool opens (the pool size).',
      registers: [registry],
      collect() {
        this.set(pool().max);
      },
    });
  }

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
    observePasswordVerify(seconds) {
      verifyTime.observe(seconds);
    },
    countLogin(outcome) {
      logins.inc({ outcome });
    },
    countPasswordRequest(channel) {
      passwordRequests.inc({ channel });
    },
    countThrottleHit(kind) {
      throttleHits.inc({ kind });
    },
    countDelivery(channel, result) {
      deliveries.inc({ channel, result });
    },
  };
}

/**
 * checkCaptcha's refusal once an address's budget of junk CAPTCHA answers is
 * spent (a 429, not a wrong answer), counted as a throttle hit. Says whether
 * `error` was that refusal; the caller throws it on.
 */
export function countCaptchaThrottle(metrics: FlowMetrics | undefined, error: unknown): boolean {
  const throttled = error instanceof FlowError && error.code === 'REQUESTS_THROTTLED';
  if (throttled) metrics?.countThrottleHit('captcha_failures_per_address');
  return throttled;
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
