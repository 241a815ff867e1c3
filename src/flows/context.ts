// What every flow step receives besides its input: where the request came
// from, and the parts it may touch (database, clock, secrets, CAPTCHA).

import type { Clock } from '../auth/clock.ts';
import type { PasskeyParty } from '../auth/passkey-party.ts';
import type { PasswordPolicy } from '../auth/password-policy.ts';
import type { PasswordHasher } from '../auth/passwords.ts';
import type { SessionPolicy } from '../auth/sessions.ts';
import type { Captcha } from '../captcha/port.ts';
import type { Config } from '../config.ts';
import type { Database, Member } from '../db/schema.ts';
import type { FlowMetrics } from '../ops/metrics.ts';
import type { Brand } from '../site/brand.ts';
import type { Background } from './background.ts';
import type { AlertLog } from './log.ts';
import type { MessageLimits } from './recovery/state.ts';

export interface FlowDeps {
  db: Database;
  clock: Clock;
  hasher: PasswordHasher;
  captcha: Captcha;
  sessionPolicy: SessionPolicy;
  /** APP_SECRET: key for keyed hashes. */
  secret: string;
  passwordPolicy: PasswordPolicy;
  messageLimits: MessageLimits;
  /** PUBLIC_URL: the only base of links sent to members. */
  publicUrl: string;
  /** The passkeys' relying party (PUBLIC_URL's host, the accepted origins). */
  passkeys: PasskeyParty;
  /** BRAND_*: the provider's name, colour and call centre in emails and SMS. */
  brand: Brand;
  /** Told after a message was committed to the outbox. */
  courier: { wake(): void };
  /** SPEC §3's limits (config.limits). */
  limits: Config['limits'];
  log: AlertLog;
  /** Where work that must not shape a request's answer time goes. */
  background: Background;
  /** Logins, password requests and throttle refusals, for /metrics (none counted without it). */
  metrics?: FlowMetrics;
}

export interface RequestContext {
  channel: 'web' | 'api';
  ip: string | null;
  userAgent: string | null;
  /** The device token the browser (cookie) or the app (body) sent, unchecked. */
  deviceToken: string | null;
}

/** The member as the API and the pages show them. */
export interface MemberView {
  document: string;
  memberNumber: string;
  firstName: string;
  lastName: string;
}

export function viewMember(member: Member): MemberView {
  return {
    document: member.document,
    memberNumber: member.member_number,
    firstName: member.first_name,
    lastName: member.last_name,
  };
}
