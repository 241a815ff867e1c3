import type { Clock } from '../auth/clock.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/schema.ts';
import { AltchaCaptcha } from './altcha.ts';
import { HostedCaptcha } from './hosted.ts';
import { NoCaptcha } from './none.ts';
import type { Captcha } from './port.ts';

export function createCaptcha(
  config: Config['captcha'],
  deps: { db: Database; clock: Clock; secret: string },
): Captcha {
  switch (config.provider) {
    case 'altcha':
      return new AltchaCaptcha({ ...deps, cost: config.altchaCost });
    case 'none':
      return new NoCaptcha();
    default:
      return new HostedCaptcha({
        provider: config.provider,
        siteKey: config.siteKey ?? '',
        secret: config.secret ?? '',
        verifyUrl: config.verifyUrl,
      });
  }
}
