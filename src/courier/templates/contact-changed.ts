// The notice to the OLD contact after a change was proven: by email to the
// old email, or by SMS (GSM-7) to the old mobile. Says what changed and when,
// never the new value.
import { mail } from '../../messages/es.ts';
import { html } from '../../views/html.ts';
import type { EmailContent, SmsContent } from '../message.ts';
import { emailLayout } from './layout.ts';

export const CONTACT_CHANGED_SUBJECT = mail.contactChanged.subject;

export function contactChangedEmail(input: { at: Date; kind: 'email' | 'mobile' }): EmailContent {
  const when = new Intl.DateTimeFormat('es-UY', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'America/Montevideo',
  }).format(input.at);
  const texts = mail.contactChanged;
  const what = texts.what(texts.kinds[input.kind], when);
  const text = [texts.greeting, '', what, '', texts.ok, texts.notYou, '', mail.signature].join(
    '\n',
  );
  const body = html`<p style="margin:0 0 16px;">${texts.greeting}</p>
<p style="margin:0 0 16px;">${what}</p>
<p style="margin:0 0 16px;">${texts.ok}</p>
<p style="margin:0 0 16px;"><strong>${texts.notYou}</strong></p>
<p style="margin:0;">${mail.signature}</p>`;
  return {
    subject: CONTACT_CHANGED_SUBJECT,
    text,
    html: emailLayout(CONTACT_CHANGED_SUBJECT, body),
  };
}

export function contactChangedSms(): SmsContent {
  return { body: mail.smsContactChanged };
}
