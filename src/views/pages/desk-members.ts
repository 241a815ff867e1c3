// The branch desk's member pages (issue 13): the search answer, the member's
// card with the identity check and the actions it opens, the printable
// activation code, and the member's audit timeline.
import { ACTIVATION_CODE_PATH, formatActivationCode } from '../../flows/recovery/activation.ts';
import { displayTime } from '../../flows/settings/describe.ts';
import { account, desk, deskStaff } from '../../messages/es.ts';
import type { PageSite } from '../../site/site.ts';
import type { MemberCard, StaffVisit, TimelineEvent } from '../../staff/desk-members.ts';
import { VISIT_MINUTES } from '../../staff/desk-members.ts';
import { type Html, html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { errorSummary, type FieldMessages, textField } from '../partials.ts';
import { DESK_AREA, DESK_PATHS, info } from './desk.ts';

/** "14:05": a time within the day, as a counter reads it. */
const TIME_ONLY = new Intl.DateTimeFormat('es-UY', {
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZone: 'America/Montevideo',
});

/** The search form, on the home and above a search's answer. */
export function memberSearchForm(view: { query?: string; error?: string } = {}): Html {
  return html`<form method="post" action="${DESK_PATHS.search}" role="search">
  ${textField({
    name: 'q',
    label: desk.searchLabel,
    hint: desk.searchHint,
    autocomplete: 'off',
    value: view.query ?? '',
    error: view.error,
  })}
  <button type="submit" class="button button-primary">${desk.search}</button>
</form>`;
}

/** A search without a member to show: the form again, with why. */
export function deskSearchPage(site: PageSite, view: { query: string; error: string }): string {
  return renderPage(site, {
    area: DESK_AREA,
    title: desk.searchTitle,
    body: html`<h1>${desk.searchTitle}</h1>
${errorSummary(view.error, { q: view.error })}
${memberSearchForm(view)}
<p class="back-link"><a href="${DESK_PATHS.home}">${desk.backHome}</a></p>`,
  });
}

function fullName(card: Pick<MemberCard, 'firstName' | 'lastName'>): string {
  return `${card.firstName} ${card.lastName}`.trim();
}

function loginState(card: MemberCard): string {
  if (card.lockedUntil)
    return desk.loginPaused(TIME_ONLY.format(card.lockedUntil), card.loginFailures);
  return card.loginFailures > 0 ? desk.loginFailures(card.loginFailures) : desk.loginFree;
}

function cardFacts(card: MemberCard): Html {
  const password = card.hasPassword
    ? card.passwordChangedAt
      ? desk.passwordSince(displayTime(card.passwordChangedAt))
      : desk.passwordSet
    : desk.passwordNone;
  return html`<dl class="facts desk-card">
  <div><dt>${desk.documentLabel}</dt><dd>${card.document}</dd></div>
  <div><dt>${desk.memberNumberLabel}</dt><dd>${card.memberNumber}</dd></div>
  <div><dt>${desk.statusLabel}</dt><dd>${desk.statuses[card.status]}</dd></div>
  <div><dt>${desk.passwordStateLabel}</dt><dd>${password}</dd></div>
  <div><dt>${desk.loginStateLabel}</dt><dd${card.lockedUntil ? html` class="desk-warning"` : ''}>${loginState(card)}</dd></div>
  <div><dt>${desk.emailStateLabel}</dt><dd class="desk-email">${card.contacts.email ?? desk.noEmail}</dd></div>
  <div><dt>${desk.mobileStateLabel}</dt><dd>${card.contacts.mobile ?? desk.noMobile}</dd></div>
  <div><dt>${desk.passkeysStateLabel}</dt><dd>${desk.passkeysCount(card.passkeys)}</dd></div>
</dl>`;
}

function radios(
  name: string,
  legend: string,
  options: { value: string; label: string; disabled?: boolean }[],
  error: string | undefined,
  checked?: string,
): Html {
  return html`<fieldset class="field choices${error ? ' field-invalid' : ''}" id="${name}"${error ? html` aria-describedby="${name}-error"` : ''}>
  <legend>${legend}</legend>
  ${error ? html`<p class="field-error" id="${name}-error"><span aria-hidden="true">⚠ </span>${error}</p>` : ''}
  ${options.map(
    (o) =>
      html`<label class="choice"><input type="radio" name="${name}" value="${o.value}"${o.value === checked ? html` checked` : ''}${o.disabled ? html` disabled` : ''}> <span>${o.label}</span></label>`,
  )}
</fieldset>`;
}

/** The form a field error belongs to, so only that form shows it. */
export type DeskForm = 'identity' | 'send' | 'contact';

export interface MemberPageView {
  card: MemberCard;
  visit: StaffVisit | null;
  /** What the last action did (a status message). */
  notice?: string;
  /** A form sent back: which one, its problems and what was typed (never a code or a secret). */
  problem?: {
    form: DeskForm;
    message: string;
    fields: FieldMessages;
    values: Record<string, string>;
  };
}

export function deskMemberPage(site: PageSite, view: MemberPageView): string {
  const { card, visit, problem } = view;
  const name = fullName(card);
  const base = DESK_PATHS.member(card.id);
  const fieldsOf = (form: DeskForm): FieldMessages =>
    problem?.form === form ? problem.fields : {};
  const valuesOf = (form: DeskForm): Record<string, string> =>
    problem?.form === form ? problem.values : {};
  const summaryOf = (form: DeskForm) =>
    problem?.form === form ? errorSummary(problem.message, problem.fields) : '';

  let work: Html;
  if (!visit) {
    const fields = fieldsOf('identity');
    const values = valuesOf('identity');
    work = html`<section class="desk-section" aria-labelledby="verificar">
  <h2 id="verificar">${desk.identityTitle}</h2>
  <p>${desk.identityLead}</p>
  ${summaryOf('identity')}
  <form method="post" action="${base}/identidad" novalidate>
    ${radios(
      'documentKind',
      desk.documentKindLegend,
      (['cedula', 'pasaporte', 'otro'] as const).map((k) => ({
        value: k,
        label: desk.documentKinds[k],
      })),
      fields.documentKind,
      values.documentKind,
    )}
    ${textField({ name: 'note', label: desk.noteLabel, hint: desk.noteHint, value: values.note, error: fields.note, autocomplete: 'off' })}
    <button type="submit" class="button button-primary">${desk.identitySubmit}</button>
  </form>
</section>`;
  } else {
    const sendFields = fieldsOf('send');
    const contactFields = fieldsOf('contact');
    const contactValues = valuesOf('contact');
    const active = card.status === 'active';
    const flow = card.hasPassword ? 'recovery' : 'registration';
    work = html`<div class="alert alert-info desk-visit" role="note">
  <p>${desk.identityDone(desk.documentKinds[visit.document_kind], TIME_ONLY.format(visit.created_at), visit.note)}</p>
  <p>${desk.identityValid(VISIT_MINUTES)}</p>
</div>
<h2 class="desk-actions-title">${desk.actionsTitle}</h2>
<p class="desk-note">${desk.noPasswordNote}</p>
${active ? '' : html`<p class="alert alert-error">${desk.inactiveNote}</p>`}
${
  active
    ? html`<section class="desk-section" aria-labelledby="enviar">
  <h3 id="enviar">${desk.sendTitle}</h3>
  <p>${desk.sendLead(flow)}</p>
  ${summaryOf('send')}
  <form method="post" action="${base}/enviar" novalidate>
    ${radios(
      'channel',
      desk.sendChannelLegend,
      [
        {
          value: 'email',
          label: card.contacts.email ? desk.sendByEmail(card.contacts.email) : desk.noEmail,
          disabled: !card.hasEmail,
        },
        {
          value: 'sms',
          label: card.contacts.mobile ? desk.sendBySms(card.contacts.mobile) : desk.noMobile,
          disabled: !card.hasMobile,
        },
      ],
      sendFields.channel,
    )}
    <button type="submit" class="button button-primary">${desk.send}</button>
  </form>
</section>
<section class="desk-section" aria-labelledby="imprimir">
  <h3 id="imprimir">${desk.printTitle}</h3>
  <p>${desk.printLead}</p>
  <form method="post" action="${base}/codigo">
    <button type="submit" class="button button-primary">${desk.printSubmit}</button>
  </form>
</section>`
    : ''
}
${
  card.loginFailures > 0 || card.lockedUntil
    ? html`<section class="desk-section" aria-labelledby="habilitar">
  <h3 id="habilitar">${desk.unlockTitle}</h3>
  <p>${desk.unlockLead}</p>
  <form method="post" action="${base}/desbloquear">
    <button type="submit" class="button button-primary">${desk.unlockSubmit}</button>
  </form>
</section>`
    : ''
}
${
  card.passkeys > 0
    ? html`<section class="desk-section" aria-labelledby="llaves">
  <h3 id="llaves">${desk.passkeysTitle}</h3>
  <p>${desk.passkeysLead}</p>
  <form method="post" action="${base}/llaves">
    <button type="submit" class="button button-primary">${desk.passkeysSubmit}</button>
  </form>
</section>`
    : ''
}
<section class="desk-section" aria-labelledby="contacto">
  <h3 id="contacto">${desk.contactTitle}</h3>
  <p>${desk.contactLead}</p>
  ${summaryOf('contact')}
  <form method="post" action="${base}/contacto" novalidate>
    ${radios(
      'kind',
      desk.contactKindLegend,
      [
        { value: 'email', label: desk.contactKinds.email },
        { value: 'mobile', label: desk.contactKinds.mobile },
      ],
      contactFields.kind,
      contactValues.kind,
    )}
    ${textField({ name: 'value', label: desk.contactValueLabel, hint: desk.contactValueHint, value: contactValues.value, error: contactFields.value, autocomplete: 'off' })}
    ${textField({ name: 'reason', label: desk.reasonLabel, hint: desk.reasonHint, value: contactValues.reason, error: contactFields.reason, autocomplete: 'off' })}
    <button type="submit" class="button button-primary">${desk.contactSubmit}</button>
  </form>
</section>
<p><a href="${base}/historial">${desk.timelineLink}</a></p>`;
  }

  return renderPage(site, {
    area: DESK_AREA,
    title: desk.memberTitle(name),
    width: 'wide',
    body: html`<h1>${desk.memberTitle(name)}</h1>
${info(view.notice)}
<section aria-labelledby="ficha">
  <h2 id="ficha" class="sr-only">${desk.cardTitle}</h2>
  ${cardFacts(card)}
</section>
${work}
<p class="back-link"><a href="${DESK_PATHS.home}">${desk.searchAgain}</a></p>`,
  });
}

export interface ActivationSlipView {
  holder: string;
  code: string;
  expiresAt: Date;
  memberId: number;
  publicUrl: string;
}

/**
 * The printable activation code: on screen, the slip and what to do; on
 * paper (public/app.css, @media print), only the slip, on half a page.
 */
export function deskActivationSlipPage(site: PageSite, view: ActivationSlipView): string {
  const url = `${view.publicUrl}${ACTIVATION_CODE_PATH}`;
  return renderPage(site, {
    area: DESK_AREA,
    title: desk.slipTitle,
    width: 'wide',
    body: html`<h1 class="desk-screen-only">${desk.printTitle}</h1>
<p class="desk-screen-only alert alert-info" role="status">${desk.printShownOnce}</p>
<article class="activation-slip" aria-labelledby="slip-title">
  <p class="slip-brand">${site.brand.name}</p>
  <h2 id="slip-title">${desk.slipTitle}</h2>
  <p class="slip-for">${desk.slipFor(view.holder)}</p>
  <p class="slip-code"><code id="codigo-de-activacion" aria-label="${view.code.split('').join(' ')}">${formatActivationCode(view.code)}</code></p>
  <h3>${desk.slipHow}</h3>
  <ol>${desk.slipSteps(url).map((step) => html`<li>${step}</li>`)}</ol>
  <p class="slip-expires">${desk.slipExpires(displayTime(view.expiresAt))}</p>
  <p>${desk.slipNotShared}</p>
  <p class="slip-help">${desk.slipHelp(site.brand.callCenter)}</p>
</article>
<div class="actions desk-screen-only">
  <a class="button button-secondary" href="${DESK_PATHS.member(view.memberId)}">${desk.backToMember}</a>
  <button type="button" class="button button-primary" data-print hidden>${desk.printButton}</button>
</div>`,
  });
}

function who(event: TimelineEvent): string {
  if (event.actorKind === 'staff') return desk.staffActor(event.staffName ?? '—');
  return desk.actors[event.actorKind] ?? event.actorKind;
}

function eventLabel(event: TimelineEvent): string {
  const action = typeof event.detail.action === 'string' ? event.detail.action : null;
  if (event.type === 'staff_action' && action)
    return (deskStaff.actions as Record<string, string>)[action] ?? action;
  const base = desk.eventTypes[event.type] ?? account.activity.other;
  const flow = event.detail.flow;
  return flow === 'activation' ? `${base} (${desk.slipTitle.toLowerCase()})` : base;
}

export function deskTimelinePage(
  site: PageSite,
  view: { memberId: number; name: string; events: TimelineEvent[]; limit: number },
): string {
  const title = desk.timelineTitle(view.name);
  const rows = view.events.map(
    (e) => html`<tr>
  <td>${displayTime(e.at)}</td>
  <td>${eventLabel(e)}</td>
  <td>${e.channel ? (desk.channels[e.channel] ?? e.channel) : '—'}</td>
  <td>${who(e)}</td>
  <td>${desk.outcomes[e.outcome] ?? e.outcome}</td>
</tr>`,
  );
  return renderPage(site, {
    area: DESK_AREA,
    title,
    width: 'wide',
    body: html`<h1>${title}</h1>
<p>${desk.timelineLead(view.limit)}</p>
${
  view.events.length === 0
    ? html`<p>${desk.timelineEmpty}</p>`
    : html`<div class="desk-table-wrap" role="region" aria-labelledby="historial-caption" tabindex="0">
<table class="desk-table">
  <caption id="historial-caption">${desk.timelineCaption}</caption>
  <thead><tr>
    <th scope="col">${desk.columns.when}</th>
    <th scope="col">${desk.columns.event}</th>
    <th scope="col">${desk.columns.channel}</th>
    <th scope="col">${desk.columns.who}</th>
    <th scope="col">${desk.columns.outcome}</th>
  </tr></thead>
  <tbody>${rows}</tbody>
</table>
</div>`
}
<p class="back-link"><a href="${DESK_PATHS.member(view.memberId)}">${desk.backToMember}</a></p>`,
  });
}
