// The manual's email "Solicitud nueva contraseña", with the link to the
// change-password page. Wording after the manual; the link says how long it lasts.
import { mail } from '../../messages/es.ts';
import { html } from '../../views/html.ts';
import type { EmailContent } from '../message.ts';
import { emailButton, emailLayout } from './layout.ts';

export const PASSWORD_REQUEST_SUBJECT = mail.passwordRequest.subject;

export function passwordRequestEmail(input: { link: string; minutes: number }): EmailContent {
  const texts = mail.passwordRequest;
  const lines = {
    greeting: texts.greeting,
    action: texts.action,
    help: texts.help,
    validity: texts.validity(input.minutes),
    ignore: texts.ignore,
    signature: mail.signature,
  };
  const text = [
    lines.greeting,
    '',
    lines.action,
    '',
    input.link,
    '',
    lines.help,
    lines.validity,
    '',
    lines.ignore,
    '',
    lines.signature,
  ].join('\n');
  const body = html`<p style="margin:0 0 16px;">${lines.greeting}</p>
<p style="margin:0 0 8px;">${lines.action}</p>
${emailButton(input.link, texts.button)}
<p style="margin:0 0 16px;font-size:15px;word-break:break-all;"><a href="${input.link}" style="color:#7a0c23;">${input.link}</a></p>
<p style="margin:0 0 16px;">${lines.help} <strong>${lines.validity}</strong></p>
<p style="margin:0 0 16px;">${lines.ignore}</p>
<p style="margin:0;">${lines.signature}</p>`;
  return {
    subject: PASSWORD_REQUEST_SUBJECT,
    text,
    html: emailLayout(PASSWORD_REQUEST_SUBJECT, body),
  };
}
