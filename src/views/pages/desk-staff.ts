// The desk's pages for supervisors and admins (issue 13): the staff audit
// (a filter form and a table, 50 rows a page) and the staff accounts (a list
// of cards, the form of a new account, confirmations, and the one-time
// enrolment link). Tables scroll sideways inside a labelled region on a
// phone, so no column is ever squeezed out; the staff list is a list of
// cards that simply stack.
import { desk, deskStaff } from '../../messages/es.ts';
import type { PageSite } from '../../site/site.ts';
import type { StaffRole } from '../../staff/accounts.ts';
import type { StaffAuditRow, StaffListEntry } from '../../staff/admin.ts';
import { type Html, html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { errorSummary, type FieldMessages, textField } from '../partials.ts';
// desk.ts imports deskStaffLinks from here: nothing at this module's top
// level may use what comes from desk.ts (only functions do).
import { DESK_AREA, DESK_PATHS } from './desk.ts';

export const DESK_STAFF_PATHS = {
  audit: '/mesa/auditoria',
  staff: '/mesa/personal',
  disable: '/mesa/personal/desactivar',
  enable: '/mesa/personal/reactivar',
  resetFactor: '/mesa/personal/segundo-factor',
} as const;

const TIME_ZONE = 'America/Montevideo';

/** "25/11/2026, 09:00:05": an audit's time in Uruguay, to the second. */
const AUDIT_TIME = new Intl.DateTimeFormat('es-UY', {
  timeZone: TIME_ZONE,
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** The audit's time as two pieces that each stay on one line: "25/11/2026," "09:00:05". */
function auditTime(at: Date): Html {
  const text = AUDIT_TIME.format(at);
  const split = text.indexOf(' ');
  if (split < 0) return html`${text}`;
  return html`<span>${text.slice(0, split)}</span> <span>${text.slice(split + 1)}</span>`;
}

/** "26 nov. 2026, 9:00": when an enrolment link ends. */
const EXPIRY_TIME = new Intl.DateTimeFormat('es-UY', {
  timeZone: TIME_ZONE,
  dateStyle: 'medium',
  timeStyle: 'short',
});

/**
 * The links of the desk's home to these pages, for the roles that may open
 * them: supervisors see the audit, admins the audit and the staff.
 */
export function deskStaffLinks(role: StaffRole): Html | '' {
  if (role === 'desk') return '';
  const links: { href: string; label: string }[] = [
    { href: DESK_STAFF_PATHS.audit, label: deskStaff.auditLink },
  ];
  if (role === 'admin') links.push({ href: DESK_STAFF_PATHS.staff, label: deskStaff.staffLink });
  return html`<section class="desk-section" aria-labelledby="supervision">
  <h2 id="supervision">${deskStaff.linksTitle}</h2>
  <ul class="menu">
    ${links.map((link) => html`<li><a class="menu-item" href="${link.href}">${link.label}</a></li>`)}
  </ul>
</section>`;
}

const back = (href: string, label: string) =>
  html`<p class="back-link"><a href="${href}">${label}</a></p>`;

/** A field's hint and error paragraphs, and the aria attributes that tie them to the control. */
function fieldParts(id: string, hint: string | undefined, error: string | undefined) {
  const describedBy = [hint ? `${id}-ayuda` : '', error ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ');
  return {
    hint: hint ? html`<p class="field-hint" id="${id}-ayuda">${hint}</p>` : '',
    error: error
      ? html`<p class="field-error" id="${id}-error"><span aria-hidden="true">⚠ </span>${error}</p>`
      : '',
    aria: html`${describedBy ? html` aria-describedby="${describedBy}"` : ''}${error ? html` aria-invalid="true"` : ''}`,
  };
}

// --- The staff audit -------------------------------------------------------

export interface DeskAuditView {
  /** Every staff user, for the employee filter. */
  employees: readonly StaffListEntry[];
  /** The filter as typed (shown again as is). */
  filter: { employee: string; from: string; to: string };
  fields?: FieldMessages;
  /** A problem of no field (a page that does not exist). */
  message?: string;
  /** The rows of this page; absent when the filter could not be read. */
  rows?: readonly StaffAuditRow[];
  page?: number;
  newerHref?: string;
  olderHref?: string;
}

export function deskAuditPage(site: PageSite, view: DeskAuditView): string {
  const fields = view.fields ?? {};
  const hasProblems = Object.keys(fields).length > 0 || view.message !== undefined;
  const employee = fieldParts('empleado', undefined, fields.empleado);
  const from = fieldParts('desde', undefined, fields.desde);
  const to = fieldParts('hasta', undefined, fields.hasta);
  return renderPage(site, {
    area: DESK_AREA,
    title: deskStaff.auditTitle,
    width: 'wide',
    body: html`<h1>${deskStaff.auditTitle}</h1>
<p class="lead">${deskStaff.auditLead}</p>
${hasProblems ? errorSummary(view.message ?? deskStaff.filterProblems, fields) : ''}
<form method="get" action="${DESK_STAFF_PATHS.audit}" class="desk-filter" aria-labelledby="filtrar" novalidate>
  <h2 id="filtrar" class="sr-only">${deskStaff.filterTitle}</h2>
  <div class="desk-filter-fields">
    <div class="field${fields.empleado ? ' field-invalid' : ''}">
      <label for="empleado">${deskStaff.employeeLabel}</label>
      ${employee.error}
      <select id="empleado" name="empleado"${employee.aria}>
        <option value="">${deskStaff.allEmployees}</option>
        ${view.employees.map(
          (e) =>
            html`<option value="${String(e.id)}"${view.filter.employee === String(e.id) ? html` selected` : ''}>${e.name} (${e.status === 'active' ? desk.roles[e.role] : deskStaff.statuses.disabled})</option>`,
        )}
      </select>
    </div>
    <div class="field${fields.desde ? ' field-invalid' : ''}">
      <label for="desde">${deskStaff.fromLabel}</label>
      ${from.hint}${from.error}
      <input type="date" id="desde" name="desde" value="${view.filter.from}" min="2000-01-01" max="2999-12-31"${from.aria}>
    </div>
    <div class="field${fields.hasta ? ' field-invalid' : ''}">
      <label for="hasta">${deskStaff.toLabel}</label>
      ${to.hint}${to.error}
      <input type="date" id="hasta" name="hasta" value="${view.filter.to}" min="2000-01-01" max="2999-12-31"${to.aria}>
    </div>
  </div>
  <div class="actions">
    <button type="submit" class="button button-primary">${deskStaff.filter}</button>
    <a class="button button-secondary" href="${DESK_STAFF_PATHS.audit}">${deskStaff.clearFilters}</a>
  </div>
</form>
${view.rows ? auditTable(view.rows, view.page ?? 1) : ''}
${view.rows ? auditPager(view) : ''}
${back(DESK_PATHS.home, deskStaff.backHome)}`,
  });
}

function auditTable(rows: readonly StaffAuditRow[], page: number): Html {
  if (rows.length === 0)
    return html`<p class="alert alert-info" role="status">${deskStaff.noEvents}</p>`;
  const c = deskStaff.columns;
  const none = html`<span aria-hidden="true">—</span>`;
  return html`<div class="desk-table-wrap" role="region" aria-labelledby="tabla-auditoria" tabindex="0">
<table class="desk-table">
  <caption id="tabla-auditoria">${deskStaff.auditCaption} · ${deskStaff.pageNumber(page)}</caption>
  <thead><tr>
    <th scope="col">${c.time}</th><th scope="col">${c.employee}</th><th scope="col">${c.role}</th>
    <th scope="col">${c.action}</th><th scope="col">${c.member}</th><th scope="col">${c.identity}</th>
    <th scope="col">${c.address}</th><th scope="col">${c.outcome}</th>
  </tr></thead>
  <tbody>
    ${rows.map(
      (row) => html`<tr>
      <td class="desk-time"><time datetime="${row.at.toISOString()}">${auditTime(row.at)}</time></td>
      <td>${employeeOf(row)}</td>
      <td>${row.role ? desk.roles[row.role] : none}</td>
      <td class="desk-col-action">${actionOf(row)}</td>
      <td>${row.memberNumber ?? none}</td>
      <td>${row.documentKind ? deskStaff.documentKinds[row.documentKind] : none}</td>
      <td class="desk-address">${row.ip ?? none}</td>
      <td>${deskStaff.outcomes[row.outcome] ?? row.outcome}</td>
    </tr>`,
    )}
  </tbody>
</table>
</div>`;
}

function employeeOf(row: StaffAuditRow): string {
  if (row.actorKind === 'staff') return row.staffName ?? `#${row.actorId ?? ''}`;
  if (row.actorKind === 'system') return deskStaff.operator;
  return deskStaff.unknownEmployee;
}

/** The action's label and, beneath it, what it was about (an account, a contact, a channel). */
function actionOf(row: StaffAuditRow): Html {
  const label =
    row.action === 'staff_login' && row.actorKind === 'anonymous'
      ? deskStaff.failedLogin
      : (deskStaff.actions[row.action] ?? deskStaff.otherAction);
  const notes: string[] = [];
  const targetIsSomeoneElse =
    row.targetName !== null &&
    !(row.actorKind === 'staff' && row.actorId === String(row.targetStaffId));
  if (targetIsSomeoneElse) notes.push(deskStaff.targetAccount(row.targetName as string));
  const { kind, via, refusal, reason } = row.detail;
  if (row.action === 'contact_updated' && typeof kind === 'string')
    notes.push(deskStaff.contactKind(deskStaff.contactKinds[kind] ?? kind));
  if (row.action === 'activation_sent' && typeof via === 'string')
    notes.push(deskStaff.via[via] ?? via);
  // A refused send names why in `refusal` (or `reason`): it was not sent.
  if (row.action === 'activation_sent' && (refusal || reason)) notes.push(deskStaff.notSent);
  return html`${label}${notes.map((note) => html`<span class="desk-cell-note">${note}</span>`)}`;
}

function auditPager(view: DeskAuditView): Html | '' {
  if (!view.newerHref && !view.olderHref) return '';
  return html`<nav class="desk-pager" aria-label="${deskStaff.pagesLabel}">
  ${view.newerHref ? html`<a class="button button-secondary button-small" rel="prev" href="${view.newerHref}"><span aria-hidden="true">← </span>${deskStaff.newer}</a>` : ''}
  ${view.olderHref ? html`<a class="button button-secondary button-small" rel="next" href="${view.olderHref}">${deskStaff.older}<span aria-hidden="true"> →</span></a>` : ''}
</nav>`;
}

// --- The staff accounts ----------------------------------------------------

export interface NewStaffForm {
  email: string;
  name: string;
  role: string;
}

export interface DeskStaffView {
  /** The admin looking: their own account has no buttons. */
  meId: number;
  staff: readonly StaffListEntry[];
  /** What was just done (disabled, enabled). */
  notice?: string;
  /** Why an action was refused, or the summary of the form's problems. */
  message?: string;
  form?: NewStaffForm;
  fields?: FieldMessages;
}

export function deskStaffPage(site: PageSite, view: DeskStaffView): string {
  const fields = view.fields ?? {};
  const form = view.form ?? { email: '', name: '', role: '' };
  const roleError = fields.role;
  return renderPage(site, {
    area: DESK_AREA,
    title: deskStaff.staffTitle,
    width: 'wide',
    body: html`<h1>${deskStaff.staffTitle}</h1>
<p class="lead">${deskStaff.staffLead}</p>
${view.notice ? html`<div class="alert alert-success" role="status"><p>${view.notice}</p></div>` : ''}
${errorSummary(view.message, fields)}
<section class="desk-section" aria-labelledby="cuentas">
  <h2 id="cuentas">${deskStaff.staffListTitle}</h2>
  <ul class="desk-staff-list">
    ${view.staff.map((entry) => staffCard(entry, entry.id === view.meId))}
  </ul>
</section>
<section class="desk-section" aria-labelledby="nueva-cuenta">
  <h2 id="nueva-cuenta">${deskStaff.createTitle}</h2>
  <p>${deskStaff.createLead}</p>
  <form method="post" action="${DESK_STAFF_PATHS.staff}" novalidate>
    ${textField({
      name: 'name',
      label: deskStaff.nameLabel,
      value: form.name,
      autocomplete: 'off',
      error: fields.name,
    })}
    ${textField({
      name: 'email',
      label: deskStaff.newEmailLabel,
      value: form.email,
      autocomplete: 'off',
      error: fields.email,
    })}
    <fieldset class="field choices${roleError ? ' field-invalid' : ''}"${roleError ? html` aria-describedby="role-error"` : ''}>
      <legend>${deskStaff.roleLabel}</legend>
      ${roleError ? html`<p class="field-error" id="role-error"><span aria-hidden="true">⚠ </span>${roleError}</p>` : ''}
      ${(['desk', 'supervisor', 'admin'] as const).map(
        (role, index) =>
          html`<label class="choice desk-role"><input type="radio" name="role" value="${role}"${index === 0 ? html` id="role"` : ''}${form.role === role ? html` checked` : ''}> <span>${desk.roles[role]}<span class="desk-cell-note">${deskStaff.roleHints[role]}</span></span></label>`,
      )}
    </fieldset>
    <button type="submit" class="button button-primary">${deskStaff.create}</button>
  </form>
</section>
${back(DESK_PATHS.home, deskStaff.backHome)}`,
  });
}

function staffCard(entry: StaffListEntry, isMe: boolean): Html {
  const headingId = `cuenta-${entry.id}`;
  const active = entry.status === 'active';
  const button = (action: string, text: string, label: string, primary = false) =>
    html`<form method="post" action="${action}">
        <input type="hidden" name="id" value="${String(entry.id)}">
        <button type="submit" class="button ${primary ? 'button-primary' : 'button-secondary'} button-small" aria-label="${label}">${text}</button>
      </form>`;
  const buttons: Html[] = [];
  if (!isMe && active) {
    buttons.push(
      entry.enrolled
        ? button(
            DESK_STAFF_PATHS.resetFactor,
            deskStaff.resetFactor,
            deskStaff.resetFactorLabel(entry.name),
          )
        : button(
            DESK_STAFF_PATHS.resetFactor,
            deskStaff.newLink,
            deskStaff.newLinkLabel(entry.name),
          ),
      button(DESK_STAFF_PATHS.disable, deskStaff.disable, deskStaff.disableLabel(entry.name)),
    );
  }
  if (!isMe && !active)
    buttons.push(
      button(DESK_STAFF_PATHS.enable, deskStaff.enable, deskStaff.enableLabel(entry.name)),
    );
  return html`<li class="desk-staff${active ? '' : ' desk-staff-disabled'}">
  <h3 id="${headingId}">${entry.name}${isMe ? html` <span class="tag">${deskStaff.you}</span>` : ''}</h3>
  <p class="desk-email">${entry.email}</p>
  <dl class="desk-staff-facts">
    <div><dt>${deskStaff.roleLabel}</dt><dd>${desk.roles[entry.role]}</dd></div>
    <div><dt>${deskStaff.statusLabel}</dt><dd>${deskStaff.statuses[entry.status]}</dd></div>
    <div><dt>${deskStaff.enrolmentLabel}</dt><dd>${entry.enrolled ? deskStaff.enrolled : deskStaff.notEnrolled}</dd></div>
  </dl>
  ${
    buttons.length > 0
      ? html`<div class="desk-staff-actions" role="group" aria-label="${deskStaff.actionsLabel(entry.name)}">
      ${buttons}
    </div>`
      : ''
  }
</li>`;
}

/** Are you sure? Disabling or resetting a second factor, with the way back. */
export function deskStaffConfirmPage(
  site: PageSite,
  view: { kind: 'disable' | 'reset'; staffId: number; name: string },
): string {
  const disable = view.kind === 'disable';
  const title = disable ? deskStaff.confirmDisableTitle : deskStaff.confirmResetTitle;
  return renderPage(site, {
    area: DESK_AREA,
    title,
    body: html`<h1>${title}</h1>
<p>${disable ? deskStaff.confirmDisable(view.name) : deskStaff.confirmReset(view.name)}</p>
<form method="post" action="${disable ? DESK_STAFF_PATHS.disable : DESK_STAFF_PATHS.resetFactor}">
  <input type="hidden" name="id" value="${String(view.staffId)}">
  <input type="hidden" name="confirmar" value="si">
  <div class="actions">
    <a class="button button-secondary" href="${DESK_STAFF_PATHS.staff}">${deskStaff.cancel}</a>
    <button type="submit" class="button button-primary">${disable ? deskStaff.confirmDisableButton : deskStaff.confirmResetButton}</button>
  </div>
</form>`,
  });
}

/** The one-time enrolment link of a new account or of a reset, shown once to hand over. */
export function deskEnrolmentLinkPage(
  site: PageSite,
  view: {
    kind: 'created' | 'reset';
    name: string;
    email: string;
    role: StaffRole;
    link: string;
    expiresAt: Date;
  },
): string {
  const created = view.kind === 'created';
  const title = created ? deskStaff.createdTitle : deskStaff.resetTitle;
  return renderPage(site, {
    area: DESK_AREA,
    title,
    body: html`<h1>${title}</h1>
<div class="alert alert-success" role="status"><p>${created ? deskStaff.createdLead(view.name) : deskStaff.resetLead(view.name)}</p></div>
<dl class="facts">
  <div><dt>${deskStaff.nameLabel}</dt><dd>${view.name}</dd></div>
  <div><dt>${deskStaff.emailLabel}</dt><dd class="desk-email">${view.email}</dd></div>
  <div><dt>${deskStaff.roleLabel}</dt><dd>${desk.roles[view.role]}</dd></div>
</dl>
<section class="desk-section" aria-labelledby="link-de-alta-titulo">
  <h2 id="link-de-alta-titulo">${deskStaff.linkTitle}</h2>
  <p>${deskStaff.linkHandOver(EXPIRY_TIME.format(view.expiresAt))}</p>
  <p class="desk-key desk-link"><code id="link-de-alta">${view.link}</code></p>
  <p class="desk-note">${deskStaff.linkWarning}</p>
</section>
<p><a class="button button-primary" href="${DESK_STAFF_PATHS.staff}">${deskStaff.backToStaff}</a></p>`,
  });
}
