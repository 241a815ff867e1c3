// No CAPTCHA: for tests and benchmarks only; config refuses it in production.
import type { Captcha, CaptchaVerdict } from './port.ts';

export class NoCaptcha implements Captcha {
  readonly provider = 'none';
  readonly widget = { scripts: [], fieldName: 'captcha', cspOrigins: [] };

  async verify(): Promise<CaptchaVerdict> {
    return 'ok';
  }
}
