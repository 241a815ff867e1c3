// The dev mailbox list: newest first, links and codes easy to find.

import type { PageSite } from '../../site/site.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';

export interface DevMailboxRow {
  id: string;
  channel: string;
  recipient: string;
  subject: string | null;
  text_body: string;
  created_at: Date;
}

const TIME = new Intl.DateTimeFormat('es-UY', {
  dateStyle: 'short',
  timeStyle: 'medium',
  timeZone: 'America/Montevideo',
});

export function devMailboxPage(site: PageSite, messages: DevMailboxRow[]): string {
  return renderPage(site, {
    title: 'Buzón de desarrollo',
    width: 'wide',
    body: html`<h1>Buzón de desarrollo</h1>
<p class="lead">Cada email y SMS que el portal envió (solo fuera de producción, sin SMTP_URL / SMS_WEBHOOK_URL). El más nuevo primero.</p>
${
  messages.length === 0
    ? html`<p>Todavía no se envió ningún mensaje.</p>`
    : html`<ol class="mailbox">${messages.map(
        (m) => html`<li class="mail mail-${m.channel}">
  <p class="mail-meta"><strong>${m.channel === 'email' ? 'Email' : 'SMS'}</strong> a ${m.recipient} · <time datetime="${m.created_at.toISOString()}">${TIME.format(m.created_at)}</time></p>
  ${m.subject ? html`<p class="mail-subject">${m.subject}</p>` : ''}
  ${
    m.channel === 'email'
      ? html`<p><a href="/dev/mailbox/${m.id}">Abrir el email</a></p>
  <details><summary>Texto plano</summary><pre>${linkify(m.text_body)}</pre></details>`
      : html`<pre class="sms">${m.text_body}</pre>`
  }
</li>`,
      )}</ol>`
}`,
  });
}

function linkify(text: string) {
  const parts = text.split(/(https?:\/\/\S+)/g);
  return parts.map((part, i) =>
    i % 2 === 1 ? html`<a href="${part}">${part}</a>` : html`${part}`,
  );
}
