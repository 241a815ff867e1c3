// The email that proves a new address: sent TO THE NEW email a member asked
// to use from their home, with the link that confirms it. Follows the
// password-request email's shape.
import { mail } from '../../messages/es.ts';
import type { Brand } from '../../site/brand.ts';
import { html } from '../../views/html.ts';
import type { EmailContent } from '../message.ts';
import { emailButton, emailLayout, emailLinkLine, emailText } from './layout.ts';

export const CONTACT_LINK_SUBJECT = mail.contactLink.subject;

export function contactLinkEmail(input: {
  brand: Brand;
  link: string;
  minutes: number;
}): EmailContent {
  const { brand } = input;
  const texts = mail.contactLink;
  const validity = texts.validity(input.minutes);
  const signature = mail.signature(brand);
  const text = emailText(brand, [
    texts.greeting,
    '',
    texts.action,
    '',
    input.link,
    '',
    validity,
    '',
    texts.ignore,
    '',
    signature,
  ]);
  const body = html`<p style="margin:0 0 16px;">${texts.greeting}</p>
<p style="margin:0 0 8px;">${texts.action}</p>
${emailButton(brand, input.link, texts.button)}
${emailLinkLine(brand, input.link)}
<p style="margin:0 0 16px;"><strong>${validity}</strong></p>
<p style="margin:0 0 16px;">${texts.ignore}</p>
<p style="margin:0;">${signature}</p>`;
  return {
    subject: CONTACT_LINK_SUBJECT,
    text,
    html: emailLayout(brand, CONTACT_LINK_SUBJECT, body),
  };
}
