// The notice after a passkey was added: which one, when, and what to do if
// it was not the member (remove it, the call centre).
import { mail } from '../../messages/es.ts';
import type { Brand } from '../../site/brand.ts';
import { html } from '../../views/html.ts';
import type { EmailContent } from '../message.ts';
import { emailLayout, emailText } from './layout.ts';

export const PASSKEY_ADDED_SUBJECT = mail.passkeyAdded.subject;

export function passkeyAddedEmail(input: { brand: Brand; at: Date; name: string }): EmailContent {
  const { brand } = input;
  const when = new Intl.DateTimeFormat('es-UY', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'America/Montevideo',
  }).format(input.at);
  const texts = mail.passkeyAdded;
  const what = texts.what(input.name, when);
  const notYou = texts.notYou(brand);
  const signature = mail.signature(brand);
  const text = emailText(brand, [texts.greeting, '', what, '', texts.ok, notYou, '', signature]);
  const body = html`<p style="margin:0 0 16px;">${texts.greeting}</p>
<p style="margin:0 0 16px;">${what}</p>
<p style="margin:0 0 16px;">${texts.ok}</p>
<p style="margin:0 0 16px;"><strong>${notYou}</strong></p>
<p style="margin:0;">${signature}</p>`;
  return {
    subject: PASSKEY_ADDED_SUBJECT,
    text,
    html: emailLayout(brand, PASSKEY_ADDED_SUBJECT, body),
  };
}
