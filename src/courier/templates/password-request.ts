// The manual's email "Solicitud nueva contraseña", with the link to the
// change-password page. Wording after the manual; the link says how long it
// lasts; the provider's name and call centre are the brand's.
import { mail } from '../../messages/es.ts';
import type { Brand } from '../../site/brand.ts';
import { html } from '../../views/html.ts';
import type { EmailContent } from '../message.ts';
import { emailButton, emailLayout, emailLinkLine, emailText } from './layout.ts';

export const PASSWORD_REQUEST_SUBJECT = mail.passwordRequest.subject;

export function passwordRequestEmail(input: {
  brand: Brand;
  link: string;
  minutes: number;
}): EmailContent {
  const { brand } = input;
  const texts = mail.passwordRequest;
  const lines = {
    greeting: texts.greeting,
    action: texts.action,
    help: texts.help,
    validity: texts.validity(input.minutes),
    ignore: texts.ignore(brand),
    signature: mail.signature(brand),
  };
  const text = emailText(brand, [
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
  ]);
  const body = html`<p style="margin:0 0 16px;">${lines.greeting}</p>
<p style="margin:0 0 8px;">${lines.action}</p>
${emailButton(brand, input.link, texts.button)}
${emailLinkLine(brand, input.link)}
<p style="margin:0 0 16px;">${lines.help} <strong>${lines.validity}</strong></p>
<p style="margin:0 0 16px;">${lines.ignore}</p>
<p style="margin:0;">${lines.signature}</p>`;
  return {
    subject: PASSWORD_REQUEST_SUBJECT,
    text,
    html: emailLayout(brand, PASSWORD_REQUEST_SUBJECT, body),
  };
}
