// The CAPTCHA port. Flows ask one question: is this response a fresh,
// valid proof that a person (or the proof of work) is behind the request?

export interface CaptchaCheck {
  /** What the form or API sent: the ALTCHA payload or the hosted provider's token. */
  response: string | undefined;
  ip: string | null;
}

export type CaptchaVerdict = 'ok' | 'missing' | 'failed';

export interface CaptchaWidget {
  /** Script URLs the page must load (module scripts for ALTCHA). */
  scripts: { src: string; module: boolean }[];
  /** Name of the form field the widget fills in. */
  fieldName: string;
  /** Stylesheets of our own origin the page must link (ALTCHA's, kept out of inline styles). */
  styles?: string[];
  /** Origins the Content-Security-Policy must allow for scripts, frames and requests. */
  cspOrigins: string[];
}

export interface Captcha {
  readonly provider: string;
  readonly widget: CaptchaWidget;
  verify(check: CaptchaCheck): Promise<CaptchaVerdict>;
}
