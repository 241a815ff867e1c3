// The CAPTCHA port. Flows ask one question: is this response a fresh,
// valid proof that a person (or the proof of work) is behind the request?

export interface CaptchaCheck {
  /** What the form or API sent: the ALTCHA payload or the hosted provider's token. */
  response: string | undefined;
  ip: string | null;
}

export type CaptchaVerdict = 'ok' | 'missing' | 'failed';

export interface CaptchaWidget {
  /** Script URLs of a hosted provider the page must load. */
  scripts: { src: string; module: boolean }[];
  /**
   * ALTCHA: the page links the site's own CAPTCHA script and stylesheet
   * (the widget, its worker and its Spanish in one file: src/site/site.ts).
   */
  selfHosted?: boolean;
  /** Name of the form field the widget fills in. */
  fieldName: string;
  /** Origins the Content-Security-Policy must allow for scripts, frames and requests. */
  cspOrigins: string[];
}

export interface Captcha {
  readonly provider: string;
  readonly widget: CaptchaWidget;
  verify(check: CaptchaCheck): Promise<CaptchaVerdict>;
}
