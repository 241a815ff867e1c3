// The notice sent after any password change: when, how, and what to do if
// it was not the member (the brand's call centre).
import { mail } from '../../messages/es.ts';
import type { Brand } from '../../site/brand.ts';
import { html } from '../../views/html.ts';
import type { EmailContent } from '../message.ts';
import { emailLayout, emailText } from './layout.ts';

export const PASSWORD_CHANGED_SUBJECT = mail.passwordChanged.subject;

const HOW = mail.passwordChanged.via;

export function passwordChangedEmail(input: {
  brand: Brand;
  at: Date;
  via: keyof typeof HOW | string;
  /** The member's passkeys, which a password change leaves in place (issue 14). */
  passkeys?: number;
}): EmailContent {
  const { brand } = input;
  const when = new Intl.DateTimeFormat('es-UY', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'America/Montevideo',
  }).format(input.at);
  const texts = mail.passwordChanged;
  const how = HOW[input.via] ?? texts.viaOther;
  const lines = {
    greeting: texts.greeting,
    what: texts.what(when, how),
    sessions: texts.sessions,
    passkeys: input.passkeys ? texts.passkeys(input.passkeys) : '',
    ok: texts.ok,
    notYou: texts.notYou(brand),
    signature: mail.signature(brand),
  };
  const text = emailText(brand, [
    lines.greeting,
    '',
    lines.what,
    lines.sessions,
    ...(lines.passkeys ? [lines.passkeys] : []),
    '',
    lines.ok,
    lines.notYou,
    '',
    lines.signature,
  ]);
  const body = html`<p style="margin:0 0 16px;">${lines.greeting}</p>
<p style="margin:0 0 16px;">${lines.what} ${lines.sessions}</p>
${
  lines.passkeys
    ? html`<p style="margin:0 0 16px;">${lines.passkeys}</p>
`
    : ''
}<p style="margin:0 0 16px;">${lines.ok}</p>
<p style="margin:0 0 16px;"><strong>${lines.notYou}</strong></p>
<p style="margin:0;">${lines.signature}</p>`;
  return {
    subject: PASSWORD_CHANGED_SUBJECT,
    text,
    html: emailLayout(brand, PASSWORD_CHANGED_SUBJECT, body),
  };
}
