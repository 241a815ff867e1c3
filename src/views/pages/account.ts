// The member home ("Mi cuenta") and its pages: change password, active
// sessions, recent activity and contact data (passkeys: ./passkeys.ts).
// Plain forms that post without JavaScript; one card each, readable on a
// 360 px phone.
import type { MemberView } from '../../flows/context.ts';
import type { ActivityItem, MaskedContacts, SessionView } from '../../flows/settings/service.ts';
import { manual, accountPages as t, text } from '../../messages/es.ts';
import type { PageSite } from '../../site/site.ts';
import { type Html, html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { errorSummary, type FieldMessages, textField } from '../partials.ts';

export const ACCOUNT_PATHS = {
  home: '/inicio',
  password: '/mi-cuenta/contrasena',
  sessions: '/mi-cuenta/sesiones',
  activity: '/mi-cuenta/actividad',
  contact: '/mi-cuenta/contacto',
  passkeys: '/mi-cuenta/llaves',
} as const;

/** A notice at the top of a page: done (status) or refused (alert). */
function notice(message: string | undefined, kind: 'success' | 'error' = 'success'): Html | '' {
  if (!message) return '';
  return kind === 'success'
    ? html`<div class="alert alert-success" role="status"><p>${message}</p></div>`
    : html`<div class="alert alert-error" role="alert"><p>${message}</p></div>`;
}

const backHome = html`<p class="back-link"><a href="${ACCOUNT_PATHS.home}">${t.home}</a></p>`;

export function accountHomePage(
  site: PageSite,
  view: {
    member: MemberView;
    contacts: MaskedContacts;
    message?: string;
  },
): string {
  const { member, contacts } = view;
  return renderPage(site, {
    title: t.homeTitle,
    width: 'wide',
    body: html`<h1>${text.greeting(member.firstName)}</h1>
${notice(view.message)}
<dl class="facts">
  <div><dt>${text.memberNumber}</dt><dd>${member.memberNumber}</dd></div>
  <div><dt>${text.document}</dt><dd>${member.document}</dd></div>
  <div><dt>${t.email}</dt><dd>${contacts.email ?? t.none}</dd></div>
  <div><dt>${t.mobile}</dt><dd>${contacts.mobile ?? t.none}</dd></div>
</dl>
<nav aria-label="${t.menuLabel}">
<ul class="menu">
  <li><a class="menu-item" href="${ACCOUNT_PATHS.password}">${t.passwordTitle}</a></li>
  <li><a class="menu-item" href="${ACCOUNT_PATHS.sessions}">${t.sessionsTitle}</a></li>
  <li><a class="menu-item" href="${ACCOUNT_PATHS.activity}">${t.activityTitle}</a></li>
  <li><a class="menu-item" href="${ACCOUNT_PATHS.contact}">${t.contactTitle}</a></li>
  <li><a class="menu-item" href="${ACCOUNT_PATHS.passkeys}">${t.passkeysTitle}</a></li>
</ul>
</nav>
<form method="post" action="/salir">
  <button type="submit" class="button button-secondary">${text.logOut}</button>
</form>`,
  });
}

export function accountPasswordPage(
  site: PageSite,
  view: {
    ruleText: string;
    done?: boolean;
    message?: string;
    fields?: FieldMessages;
  },
): string {
  const fields = view.fields ?? {};
  const body = view.done
    ? html`<h1>${t.passwordTitle}</h1>
${notice(t.passwordChanged)}
${backHome}`
    : html`<h1>${t.passwordTitle}</h1>
<p>${t.passwordIntro}</p>
${errorSummary(view.message, fields)}
<form method="post" action="${ACCOUNT_PATHS.password}" novalidate>
  ${textField({ name: 'currentPassword', label: t.currentPassword, type: 'password', autocomplete: 'current-password', error: fields.currentPassword, reveal: true })}
  ${textField({ name: 'password', label: manual.newPasswordLabel, placeholder: manual.newPasswordPlaceholder, type: 'password', autocomplete: 'new-password', error: fields.password, reveal: true, hint: view.ruleText })}
  ${textField({ name: 'passwordConfirmation', label: manual.repeatPasswordLabel, placeholder: manual.repeatPasswordPlaceholder, type: 'password', autocomplete: 'new-password', error: fields.passwordConfirmation, reveal: true })}
  <div class="actions">
    <a class="button button-secondary" href="${ACCOUNT_PATHS.home}">${t.back}</a>
    <button type="submit" class="button button-primary">${manual.confirm}</button>
  </div>
</form>`;
  return renderPage(site, { title: t.passwordTitle, body });
}

export function accountSessionsPage(
  site: PageSite,
  view: {
    sessions: SessionView[];
    message?: string;
    error?: string;
  },
): string {
  const others = view.sessions.filter((s) => !s.current);
  const item = (s: SessionView) => {
    const where = `${s.browser} · ${s.device}`;
    return html`<li class="session${s.current ? ' session-current' : ''}">
  <p class="session-name">${where}${s.current ? html` <strong class="tag">${t.thisSession}</strong>` : ''}</p>
  <p class="session-meta">${t.lastUsed(s.lastUsed)}${s.address ? html`<br>${t.fromAddress(s.address)}` : ''}</p>
  ${
    s.current
      ? ''
      : html`<form method="post" action="${ACCOUNT_PATHS.sessions}/${s.id}/cerrar">
    <button type="submit" class="button button-secondary button-small" aria-label="${t.closeSessionLabel(where)}">${t.closeSession}</button>
  </form>`
  }
</li>`;
  };
  return renderPage(site, {
    title: t.sessionsTitle,
    width: 'wide',
    body: html`<h1>${t.sessionsTitle}</h1>
${notice(view.message)}${notice(view.error, 'error')}
<p>${t.sessionsIntro}</p>
<ul class="sessions">${view.sessions.map(item)}</ul>
${
  others.length > 0
    ? html`<form method="post" action="${ACCOUNT_PATHS.sessions}/cerrar-otras">
  <button type="submit" class="button button-primary">${t.closeOthers}</button>
</form>`
    : html`<p>${t.noOtherSessions}</p>`
}
${backHome}`,
  });
}

export function accountActivityPage(site: PageSite, view: { items: ActivityItem[] }): string {
  return renderPage(site, {
    title: t.activityTitle,
    width: 'wide',
    body: html`<h1>${t.activityTitle}</h1>
<p>${t.activityIntro}</p>
${
  view.items.length === 0
    ? html`<p>${t.activityEmpty}</p>`
    : html`<ol class="activity">${view.items.map(
        (item) =>
          html`<li class="activity-item activity-${item.outcome === 'ok' ? 'ok' : 'other'}"><time datetime="${item.at}">${item.when}</time> <span>${item.text}</span></li>`,
      )}</ol>`
}
${backHome}`,
  });
}

export interface ContactView {
  contacts: MaskedContacts;
  /** A code was sent to a new mobile: show its field. */
  codeSent?: boolean;
  message?: string;
  error?: string;
  /** Which form the field messages belong to. */
  form?: 'email' | 'mobile' | 'code';
  fields?: FieldMessages;
  values?: { email?: string; mobile?: string };
}

/**
 * The ids of each contact form's fields: both forms post `value` and
 * `currentPassword`, and each label, hint, error and eye must find its own.
 */
const CONTACT_FIELD_IDS: Record<NonNullable<ContactView['form']>, Record<string, string>> = {
  mobile: { value: 'newMobile', currentPassword: 'mobilePassword' },
  email: { value: 'newEmail', currentPassword: 'emailPassword' },
  code: { code: 'code' },
};

/** The field messages keyed by the ids of the form they belong to, for the summary's links. */
function summaryFields(view: ContactView): FieldMessages {
  const ids = view.form ? CONTACT_FIELD_IDS[view.form] : {};
  return Object.fromEntries(
    Object.entries(view.fields ?? {}).map(([field, message]) => [ids[field] ?? field, message]),
  );
}

export function accountContactPage(site: PageSite, view: ContactView): string {
  const fieldsOf = (form: ContactView['form']) => (view.form === form ? (view.fields ?? {}) : {});
  const email = fieldsOf('email');
  const mobile = fieldsOf('mobile');
  const code = fieldsOf('code');
  return renderPage(site, {
    title: t.contactTitle,
    width: 'wide',
    body: html`<h1>${t.contactTitle}</h1>
${notice(view.message)}
${errorSummary(view.error, summaryFields(view))}
<p>${t.contactIntro}</p>
<dl class="facts">
  <div><dt>${t.email}</dt><dd>${view.contacts.email ?? t.none}</dd></div>
  <div><dt>${t.mobile}</dt><dd>${view.contacts.mobile ?? t.none}</dd></div>
</dl>
${
  view.codeSent
    ? html`<form method="post" action="${ACCOUNT_PATHS.contact}/codigo" novalidate class="subform">
  ${textField({ name: 'code', label: manual.codeLabel, placeholder: manual.codePlaceholder, autocomplete: 'one-time-code', inputmode: 'numeric', error: code.code })}
  <button type="submit" class="button button-primary">${manual.confirm}</button>
</form>`
    : ''
}
<form method="post" action="${ACCOUNT_PATHS.contact}" novalidate class="subform">
  <h2>${t.changeMobile}</h2>
  <input type="hidden" name="kind" value="mobile">
  ${textField({ name: 'value', id: CONTACT_FIELD_IDS.mobile.value, label: t.newMobile, hint: t.mobileHint, autocomplete: 'tel', inputmode: 'numeric', value: view.values?.mobile ?? '', error: mobile.value })}
  ${textField({ name: 'currentPassword', id: CONTACT_FIELD_IDS.mobile.currentPassword, label: t.currentPassword, type: 'password', autocomplete: 'current-password', error: mobile.currentPassword, reveal: true })}
  <button type="submit" class="button button-primary">${t.send}</button>
</form>
<form method="post" action="${ACCOUNT_PATHS.contact}" novalidate class="subform">
  <h2>${t.changeEmail}</h2>
  <input type="hidden" name="kind" value="email">
  ${textField({ name: 'value', id: CONTACT_FIELD_IDS.email.value, label: t.newEmail, autocomplete: 'email', value: view.values?.email ?? '', error: email.value })}
  ${textField({ name: 'currentPassword', id: CONTACT_FIELD_IDS.email.currentPassword, label: t.currentPassword, type: 'password', autocomplete: 'current-password', error: email.currentPassword, reveal: true })}
  <button type="submit" class="button button-primary">${t.send}</button>
</form>
${backHome}`,
  });
}

export function confirmContactPage(
  site: PageSite,
  view: {
    email?: string;
    done?: boolean;
    invalid?: string;
  },
): string {
  const body = view.done
    ? html`<h1>${t.confirmTitle}</h1>${notice(t.contactChanged)}<p><a href="/">${manual.back}</a></p>`
    : view.invalid || !view.email
      ? html`<h1>${t.confirmTitle}</h1>${notice(view.invalid, 'error')}<p><a href="/">${manual.back}</a></p>`
      : html`<h1>${t.confirmTitle}</h1>
<p>${t.confirmQuestion(view.email)}</p>
<form method="post" action="${ACCOUNT_PATHS.contact}/confirmar">
  <div class="actions">
    <a class="button button-secondary" href="/">${manual.back}</a>
    <button type="submit" class="button button-primary">${t.confirm}</button>
  </div>
</form>`;
  return renderPage(site, { title: t.confirmTitle, body });
}
