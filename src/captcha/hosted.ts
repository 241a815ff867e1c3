// Hosted CAPTCHAs (reCAPTCHA v2, hCaptcha, Turnstile): the browser gets a
// token from the provider's widget; the server asks the provider's verify
// endpoint whether it is good. All three share the siteverify protocol.
//
// `success` alone only says the token is genuine and unused: a token solved
// on any site that embeds our site key (or, with the provider's domain check
// off, any site at all) would pass. So an answer is accepted only when it was
// also solved on our own hostname, recently, and (Turnstile) on one of our
// forms. See docs/decisions/005-altcha-captcha.md.
import { type Clock, systemClock } from '../auth/clock.ts';
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

/**
 * The forms that show the widget, as Turnstile's `data-action`: the
 * siteverify answer names the form the token was solved on.
 */
export const CAPTCHA_ACTIONS = [
  'login',
  'password-request',
  'set-password',
  'activation-code',
] as const;
export type CaptchaAction = (typeof CAPTCHA_ACTIONS)[number];

/**
 * The oldest challenge accepted: the longest token lifetime of the three
 * (Turnstile 5 minutes; reCAPTCHA and hCaptcha about 2).
 */
export const MAX_CHALLENGE_AGE_MS = 5 * 60_000;
/** How far ahead of our clock the provider's may run before we doubt its stamp. */
export const MAX_CLOCK_SKEW_MS = 60_000;

export interface HostedOptions {
  provider: HostedProvider;
  siteKey: string;
  secret: string;
  /**
   * The portal's own hostname (PUBLIC_URL's): answers for another one are
   * refused. Without it, any hostname the provider names is accepted.
   */
  expectedHostname?: string | undefined;
  /** Where "now" comes from, for the challenge's age. */
  clock?: Clock;
  /** Overrides the provider's verify endpoint (tests run a local stub). */
  verifyUrl?: string | undefined;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** The siteverify answer fields we read; anything may be missing or of another type. */
interface SiteverifyAnswer {
  success?: unknown;
  challenge_ts?: unknown;
  hostname?: unknown;
  action?: unknown;
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
      const result: unknown = await answer.json();
      return this.#accepts(result) ? 'ok' : 'failed';
    } catch {
      // Provider unreachable: fail closed, the member can try again.
      return 'failed';
    }
  }

  /** Whether a siteverify answer is a success, for us, now, on one of our forms. */
  #accepts(result: unknown): boolean {
    if (typeof result !== 'object' || result === null) return false;
    const answer = result as SiteverifyAnswer;
    return (
      answer.success === true &&
      isSolvedOn(answer.hostname, this.options.expectedHostname) &&
      isFresh(answer.challenge_ts, (this.options.clock ?? systemClock).now()) &&
      (this.provider !== 'turnstile' || isOneOfOurActions(answer.action))
    );
  }
}

/**
 * Whether the provider names the hostname the challenge was solved on, and it
 * is ours (when we know ours). Hostnames compare without case.
 */
function isSolvedOn(hostname: unknown, expected: string | undefined): boolean {
  if (typeof hostname !== 'string' || hostname === '') return false;
  return expected === undefined || hostname.toLowerCase() === expected.toLowerCase();
}

/** An ISO 8601 time with a zone, as the providers write `challenge_ts`. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * Whether the challenge was solved at most MAX_CHALLENGE_AGE_MS before `now`
 * (and not implausibly after it). A missing or unreadable stamp is not fresh.
 */
function isFresh(challengeTs: unknown, now: Date): boolean {
  if (typeof challengeTs !== 'string' || !ISO_TIME.test(challengeTs)) return false;
  const solvedAt = Date.parse(challengeTs);
  if (Number.isNaN(solvedAt)) return false;
  const age = now.getTime() - solvedAt;
  return age <= MAX_CHALLENGE_AGE_MS && age >= -MAX_CLOCK_SKEW_MS;
}

/** Whether Turnstile's `action` names one of our forms. */
function isOneOfOurActions(action: unknown): boolean {
  return typeof action === 'string' && (CAPTCHA_ACTIONS as readonly string[]).includes(action);
}
