// Everything the app needs from outside, handed to buildApp so tests can
// swap the clock, the database or the CAPTCHA.
import type { Clock } from './auth/clock.ts';
import type { PasswordHasher } from './auth/passwords.ts';
import type { Captcha } from './captcha/port.ts';
import type { Config } from './config.ts';
import type { Database } from './db/schema.ts';

export interface AppDeps {
  config: Config;
  db: Database;
  clock: Clock;
  hasher: PasswordHasher;
  captcha: Captcha;
  /** APP_SECRET, or the generated development secret. */
  secret: string;
}
