import type { Clock } from '../auth/clock.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { AltchaCaptcha } from './altcha.ts';
import { HostedCaptcha } from './hosted.ts';
import { NoCaptcha } from './none.ts';
import type { Captcha } from './port.ts';

export function createCaptcha(
  config: Config['captcha'],
  deps: {
    db: Database;
    clock: Clock;
    secret: string;
    /**
     * The portal's public address (PUBLIC_URL): a hosted provider's answer
     * must name its hostname. server.ts always passes it.
     */
    publicUrl?: string | undefined;
  },
): Captcha {
  switch (config.provider) {
    case 'altcha':
      return new AltchaCaptcha({
        db: deps.db,
        clock: deps.clock,
        secret: deps.secret,
        cost: config.altchaCost,
      });
    case 'none':
      return new NoCaptcha();
    default:
      return new HostedCaptcha({
        provider: config.provider,
        siteKey: config.siteKey ?? '',
        secret: config.secret ?? '',
        verifyUrl: config.verifyUrl,
        clock: deps.clock,
        expectedHostname:
          deps.publicUrl === undefined ? undefined : new URL(deps.publicUrl).hostname,
      });
  }
}
