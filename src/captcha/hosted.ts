// Hosted CAPTCHAs (reCAPTCHA v2, hCaptcha, Turnstile): the browser gets a
// token from the provider's widget; the server asks the provider's verify
// endpoint whether it is good. All three share the siteverify protocol.
import type { Captcha, CaptchaCheck, CaptchaVerdict, CaptchaWidget } from './port.ts';

export type HostedProvider = 'recaptcha' | 'hcaptcha' | 'turnstile';

const PROVIDERS: Record<
  HostedProvider,
  { verifyUrl: string; widget: CaptchaWidget; className: string }
> = {
  recaptcha: {
    verifyUrl: 'https://www.google.com/recaptcha/api/siteverify',
    className: 'g-recaptcha',
    widget: {
      scripts: [{ src: 'https://www.google.com/recaptcha/api.js?hl=es-419', module: false }],
      fieldName: 'g-recaptcha-response',
      cspOrigins: ['https://www.google.com', 'https://www.gstatic.com'],
    },
  },
  hcaptcha: {
    verifyUrl: 'https://api.hcaptcha.com/siteverify',
    className: 'h-captcha',
    widget: {
      scripts: [{ src: 'https://js.hcaptcha.com/1/api.js?hl=es-419', module: false }],
      fieldName: 'h-captcha-response',
      cspOrigins: ['https://hcaptcha.com', 'https://*.hcaptcha.com'],
    },
  },
  turnstile: {
    verifyUrl: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
    className: 'cf-turnstile',
    widget: {
      scripts: [
        { src: 'https://challenges.cloudflare.com/turnstile/v0/api.js?language=es', module: false },
      ],
      fieldName: 'cf-turnstile-response',
      cspOrigins: ['https://challenges.cloudflare.com'],
    },
  },
};

export interface HostedOptions {
  provider: HostedProvider;
  siteKey: string;
  secret: string;
  /** Overrides the provider's verify endpoint (tests run a local stub). */
  verifyUrl?: string | undefined;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export class HostedCaptcha implements Captcha {
  readonly provider: HostedProvider;
  readonly widget: CaptchaWidget;
  readonly className: string;
  readonly siteKey: string;
  readonly #verifyUrl: string;

  constructor(private readonly options: HostedOptions) {
    const known = PROVIDERS[options.provider];
    this.provider = options.provider;
    this.widget = known.widget;
    this.className = known.className;
    this.siteKey = options.siteKey;
    this.#verifyUrl = options.verifyUrl ?? known.verifyUrl;
  }

  async verify(check: CaptchaCheck): Promise<CaptchaVerdict> {
    if (!check.response) return 'missing';
    if (check.response.length > 8192) return 'failed';
    const body = new URLSearchParams({ secret: this.options.secret, response: check.response });
    if (check.ip) body.set('remoteip', check.ip);
    try {
      const answer = await (this.options.fetch ?? fetch)(this.#verifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
      });
      if (!answer.ok) return 'failed';
      const result = (await answer.json()) as { success?: unknown };
      return result.success === true ? 'ok' : 'failed';
    } catch {
      // Provider unreachable: fail closed, the member can try again.
      return 'failed';
    }
  }
}
