// Everything the app needs from outside, handed to buildApp so tests can
// swap the clock, the database, the CAPTCHA or the courier.
import type { Clock } from './auth/clock.ts';
import { createPasswordPolicy } from './auth/password-policy.ts';
import type { PasswordHasher } from './auth/passwords.ts';
import type { Captcha } from './captcha/port.ts';
import type { Config } from './config.ts';
import type { Database } from './db/schema.ts';
import { type Background, createBackground } from './flows/background.ts';
import type { FlowDeps } from './flows/context.ts';
import type { MessageLimits } from './flows/recovery/state.ts';
import type { Metrics } from './ops/metrics.ts';

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
  /** Where flows raise operator alerts (buildApp fills it with the app's logger). */
  log?: AlertLog;
  /** Work after the answer (buildApp creates it; its close waits for it). */
  background?: Background;
  /** Prometheus metrics (buildApp creates them without process metrics). */
  metrics?: Metrics;
}

export interface AlertLog {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const cache = new WeakMap<AppDeps, FlowDeps>();

/** What flows receive, built once per app. */
export function flowDepsFor(deps: AppDeps): FlowDeps {
  let flow = cache.get(deps);
  if (!flow) {
    const log = deps.log ?? { warn: () => {}, error: () => {} };
    flow = {
      db: deps.db,
      clock: deps.clock,
      hasher: deps.hasher,
      captcha: deps.captcha,
      secret: deps.secret,
      sessionPolicy: deps.config.session,
      passwordPolicy: createPasswordPolicy(
        deps.config.passwordPolicy,
        deps.config.passwordServiceWords,
      ),
      messageLimits: deps.messageLimits ?? {
        perMemberPerHour: deps.config.limits.messagesPerMemberPerHour,
        smsPerNumberPerHour: deps.config.limits.smsPerNumberPerHour,
        smsPerNumberPerDay: deps.config.limits.smsPerNumberPerDay,
      },
      limits: deps.config.limits,
      log,
      background: deps.background ?? createBackground(log),
      publicUrl: deps.config.publicUrl,
      courier: deps.courier ?? { wake: () => {} },
    };
    cache.set(deps, flow);
  }
  return flow;
}
