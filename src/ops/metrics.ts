// GET /metrics in Prometheus's text format (prom-client). Two kinds:
// - this process: HTTP answers by route and status class, and (in the
//   server) Node's own process metrics;
// - the whole portal, read from the shared database at each scrape, so every
//   instance reports the same figures: audit events of the last 15 minutes by
//   type and outcome (logins, throttling, alerts…), the outbox by channel and
//   status, SMS sent this hour against the budget, and failed logins against
//   LOGIN_FAILURES_GLOBAL. Nothing about a member, never a document.
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Clock } from '../auth/clock.ts';
import { peekLimit } from '../auth/throttle.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { GLOBAL_FAILURES_KEY } from '../flows/login/state.ts';
import { SMS_BUDGET_KEY, SMS_BUDGET_WINDOW_MS } from '../flows/recovery/state.ts';

const RECENT_MINUTES = 15;

export interface Metrics {
  readonly registry: Registry;
  /** Counts one answer of this process. */
  observeResponse(route: string, method: string, status: number): void;
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

  const responses = new Counter({
    name: 'autogestion_http_responses_total',
    help: 'Answers of this process by route, method and status class.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });

  new Gauge({
    name: 'autogestion_audit_events_recent',
    help: `Audit events of the last ${RECENT_MINUTES} minutes, all instances, by type and outcome.`,
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
      this.reset();
      for (const row of rows) this.set({ type: row.type, outcome: row.outcome }, Number(row.n));
    },
  });

  new Gauge({
    name: 'autogestion_outbox_messages',
    help: 'Messages in the outbox, all instances, by channel and status.',
    labelNames: ['channel', 'status'] as const,
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('outbox')
        .select(['channel', 'status', (eb) => eb.fn.countAll<string>().as('n')])
        .groupBy(['channel', 'status'])
        .execute();
      this.reset();
      for (const row of rows) this.set({ channel: row.channel, status: row.status }, Number(row.n));
    },
  });

  new Gauge({
    name: 'autogestion_sms_budget_spent',
    help: 'SMS counted against the hourly budget in its current window, all instances.',
    registers: [registry],
    async collect() {
      const rule = { limit: limits.smsHourlyBudget, windowMs: SMS_BUDGET_WINDOW_MS };
      this.set((await peekLimit(db, clock, SMS_BUDGET_KEY, rule)).count);
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
  };
}

/**
 * Who may read /metrics: with METRICS_TOKEN, whoever sends it as a bearer
 * token; without it, a scraper on this machine (loopback) or one of
 * TRUSTED_PROXIES. Decided on the socket's address, never a header.
 */
export function metricsAccess(config: Pick<Config, 'metricsToken' | 'trustedProxies'>) {
  const allowed = new BlockList();
  allowed.addSubnet('127.0.0.0', 8, 'ipv4');
  allowed.addAddress('::1', 'ipv6');
  for (const entry of config.trustedProxies) {
    const [address = '', bits] = entry.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) allowed.addAddress(address, family);
    else allowed.addSubnet(address, Number(bits), family);
  }
  return (socketAddress: string | undefined, authorization: string | undefined): boolean => {
    if (config.metricsToken)
      return sameSecret(authorization ?? '', `Bearer ${config.metricsToken}`);
    if (!socketAddress) return false;
    const address = socketAddress.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');
    return allowed.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  };
}

/** Compares in constant time (over the hashes, so lengths may differ). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}
