// The notice to the OLD contact after a change was proven: by email to the
// old email, or by SMS (GSM-7) to the old mobile. Says what changed and when,
// never the new value, and whom to call (the brand's call centre).
import { mail } from '../../messages/es.ts';
import type { Brand } from '../../site/brand.ts';
import { html } from '../../views/html.ts';
import type { EmailContent, SmsContent } from '../message.ts';
import { emailLayout, emailText } from './layout.ts';

export const CONTACT_CHANGED_SUBJECT = mail.contactChanged.subject;

export function contactChangedEmail(input: {
  brand: Brand;
  at: Date;
  kind: 'email' | 'mobile';
  /** Changed by an employee at a branch (issue 13), not by the member online. */
  atBranch?: boolean;
}): EmailContent {
  const { brand } = input;
  const when = new Intl.DateTimeFormat('es-UY', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'America/Montevideo',
  }).format(input.at);
  const texts = mail.contactChanged;
  const what = (input.atBranch ? texts.whatAtBranch : texts.what)(texts.kinds[input.kind], when);
  const notYou = texts.notYou(brand);
  const signature = mail.signature(brand);
  const text = emailText(brand, [texts.greeting, '', what, '', texts.ok, notYou, '', signature]);
  const body = html`<p style="margin:0 0 16px;">${texts.greeting}</p>
<p style="margin:0 0 16px;">${what}</p>
<p style="margin:0 0 16px;">${texts.ok}</p>
<p style="margin:0 0 16px;"><strong>${notYou}</strong></p>
<p style="margin:0;">${signature}</p>`;
  return {
    subject: CONTACT_CHANGED_SUBJECT,
    text,
    html: emailLayout(brand, CONTACT_CHANGED_SUBJECT, body),
  };
}

/** GSM-7 with the brand's SMS name (no accents) and call centre. */
export function contactChangedSms(input: { brand: Brand }): SmsContent {
  return { body: mail.smsContactChanged(input.brand) };
}
