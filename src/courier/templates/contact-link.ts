// The email that proves a new address: sent TO THE NEW email a member asked
// to use from their home, with the link that confirms it. Follows the
// password-request email's shape.
import { mail } from '../../messages/es.ts';
import { html } from '../../views/html.ts';
import type { EmailContent } from '../message.ts';
import { emailButton, emailLayout } from './layout.ts';

export const CONTACT_LINK_SUBJECT = mail.contactLink.subject;

export function contactLinkEmail(input: { link: string; minutes: number }): EmailContent {
  const texts = mail.contactLink;
  const validity = texts.validity(input.minutes);
  const text = [
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
    mail.signature,
  ].join('\n');
  const body = html`<p style="margin:0 0 16px;">${texts.greeting}</p>
<p style="margin:0 0 8px;">${texts.action}</p>
${emailButton(input.link, texts.button)}
<p style="margin:0 0 16px;font-size:15px;word-break:break-all;"><a href="${input.link}" style="color:#7a0c23;">${input.link}</a></p>
<p style="margin:0 0 16px;"><strong>${validity}</strong></p>
<p style="margin:0 0 16px;">${texts.ignore}</p>
<p style="margin:0;">${mail.signature}</p>`;
  return { subject: CONTACT_LINK_SUBJECT, text, html: emailLayout(CONTACT_LINK_SUBJECT, body) };
}
