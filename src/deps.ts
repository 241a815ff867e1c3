// Everything the app needs from outside, handed to buildApp so tests can
// swap the clock, the database, the CAPTCHA or the courier; and what buildApp
// makes of it once (AppParts): the same parts, completed, plus what flows get.
import type { Clock } from './auth/clock.ts';
import { createPasswordPolicy } from './auth/password-policy.ts';
import type { PasswordHasher } from './auth/passwords.ts';
import type { Captcha } from './captcha/port.ts';
import type { Config } from './config.ts';
import type { Database } from './db/schema.ts';
import type { Background } from './flows/background.ts';
import type { FlowDeps } from './flows/context.ts';
import type { AlertLog } from './flows/log.ts';
import type { MessageLimits } from './flows/recovery/state.ts';
import type { Metrics } from './ops/metrics.ts';
import type { Site } from './site/site.ts';

export type { AlertLog } from './flows/log.ts';

// What flows count, as a field of FlowDeps (src/flows/context.ts). Optional:
// a FlowDeps made without it (a test's, a command's) counts nothing.
export interface AppDeps {
  config: Config;
  db: Database;
  clock: Clock;
  hasher: PasswordHasher;
  captcha: Captcha;
  /** APP_SECRET, or the generated development secret. */
  secret: string;
  /** Woken after a flow queued a message (the dispatcher); nothing by default. */
  courier?: { wake(): void };
  messageLimits?: MessageLimits;
  /** Where flows raise operator alerts (the app's logger by default). */
  log?: AlertLog;
  /** Work after the answer (buildApp creates it; its close waits for it). */
  background?: Background;
  /** Prometheus metrics (buildApp creates them without process metrics). */
  metrics?: Metrics;
  /** The browser's files and the brand (buildApp loads them from config.brand). */
  site?: Site;
}

/** The parts as buildApp completed them, built once per app; routes read these. */
export interface AppParts extends AppDeps {
  log: AlertLog;
  background: Background;
  metrics: Metrics;
  courier: { wake(): void };
  site: Site;
  /** What flows receive. */
  flow: FlowDeps;
}

/** What flows receive, from the completed parts. */
export function createFlowDeps(parts: Omit<AppParts, 'flow'>): FlowDeps {
  const { config } = parts;
  return {
    db: parts.db,
    clock: parts.clock,
    hasher: parts.hasher,
    captcha: parts.captcha,
    secret: parts.secret,
    sessionPolicy: config.session,
    passwordPolicy: createPasswordPolicy(config.passwordPolicy, config.passwordServiceWords),
    messageLimits: parts.messageLimits ?? {
      perMemberPerHour: config.limits.messagesPerMemberPerHour,
      smsPerNumberPerHour: config.limits.smsPerNumberPerHour,
      smsPerNumberPerDay: config.limits.smsPerNumberPerDay,
    },
    limits: config.limits,
    log: parts.log,
    background: parts.background,
    publicUrl: config.publicUrl,
    passkeys: config.passkeys,
    brand: config.brand,
    courier: parts.courier,
    metrics: parts.metrics,
  };
}
