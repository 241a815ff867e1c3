// «Mi cuenta» → «Llaves de acceso» (issue 14): the member's passkeys, each
// with its name, when it was made and last used, and whether it syncs; a
// form per passkey to rename it and a confirmation page to remove it, both
// plain forms that work without JavaScript. Creating one needs the browser's
// WebAuthn API, so its form is the script's (public/passkeys.js): without
// JavaScript or WebAuthn a sentence says what is needed instead.
// Also the login page's passkey button, which the same script shows.
import { displayTime } from '../../flows/settings/describe.ts';
import { accountPages, errors, passkeys as t } from '../../messages/es.ts';
import { PASSKEY_WEB_PATHS } from '../../routes/web/passkeys.ts';
import type { PageSite } from '../../site/site.ts';
import { type Html, html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { errorSummary, type FieldMessages, textField } from '../partials.ts';
import { ACCOUNT_PATHS } from './account.ts';

export const PASSKEY_PAGE_PATHS = {
  list: ACCOUNT_PATHS.passkeys,
  rename: `${ACCOUNT_PATHS.passkeys}/renombrar`,
  remove: `${ACCOUNT_PATHS.passkeys}/eliminar`,
} as const;

/** The query parameter the script adds after creating one: the list names it in a notice. */
export const CREATED_PARAMETER = 'creada';

/** A passkey as the list shows it (PasskeyView of src/flows/passkeys/service.ts). */
export interface PasskeyItem {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  synced: boolean;
}

/**
 * The script's texts, as data attributes of the element it works on: the
 * script has no catalogue, and never shows the browser's own error text.
 */
function scriptMessages(kind: 'login' | 'create'): Html {
  const messages: Record<string, string> = {
    waiting: t.waiting,
    checking: t.checking,
    cancelled: kind === 'login' ? t.loginCancelled : t.createCancelled,
    unsupported: t.unsupported,
    failed: t.failed,
    network: t.network,
    // A refused page token (the page was open too long) answers the error page, not JSON.
    expired: errors.FORM_EXPIRED,
    ...(kind === 'create' ? { registered: t.alreadyOnDevice } : {}),
  };
  return html`${Object.entries(messages).map(([key, text]) => html` data-msg-${key}="${text}"`)}`;
}

/**
 * The login page's «Ingresar con llave de acceso»: hidden until the script
 * finds WebAuthn, with the place where it says what happened.
 */
export function passkeyLoginButton(): Html {
  return html`<div class="passkey-login" data-passkey-login data-options="${PASSKEY_WEB_PATHS.loginOptions}" data-answer="${PASSKEY_WEB_PATHS.login}"${scriptMessages('login')} hidden>
  <p class="passkey-or" aria-hidden="true"><span>${t.or}</span></p>
  <button type="button" class="button button-secondary passkey-button">${t.logInButton}</button>
  <p class="passkey-status" role="status" aria-live="polite"></p>
</div>`;
}

export interface PasskeysView {
  /** Passkeys are on (PUBLIC_URL names a host, not an IP address). */
  available: boolean;
  passkeys: PasskeyItem[];
  /** Creating one asks for the current password first (the login is older than 5 minutes). */
  needsPassword: boolean;
  message?: string;
  error?: string;
  /** A rename refused: which passkey's form, its messages and what was typed. */
  rename?: { id: string; value: string; fields: FieldMessages };
}

/** The id of a passkey's rename field: one per form, so each label and message finds its own. */
const nameFieldId = (index: number) => `nombre-${index + 1}`;

function passkeyEntry(passkey: PasskeyItem, index: number, view: PasskeysView): Html {
  const refused = view.rename?.id === passkey.id ? view.rename : undefined;
  const fieldId = nameFieldId(index);
  return html`<li class="passkey">
  <h3 class="passkey-name">${passkey.name}</h3>
  <p class="passkey-meta">${t.createdOn(displayTime(passkey.createdAt))}<br>${
    passkey.lastUsedAt ? t.lastUsed(displayTime(passkey.lastUsedAt)) : t.neverUsed
  }<br>${passkey.synced ? t.synced : t.deviceOnly}</p>
  <form method="post" action="${PASSKEY_PAGE_PATHS.rename}" novalidate class="passkey-rename">
    <input type="hidden" name="id" value="${passkey.id}">
    ${textField({
      name: 'name',
      id: fieldId,
      label: t.nameLabel,
      value: refused ? refused.value : passkey.name,
      autocomplete: 'off',
      error: refused?.fields.name,
    })}
    <div class="passkey-actions">
      <button type="submit" class="button button-secondary button-small" aria-label="${t.renameLabel(passkey.name)}">${t.rename}</button>
      <a class="button button-secondary button-small" href="${PASSKEY_PAGE_PATHS.remove}?id=${encodeURIComponent(passkey.id)}" aria-label="${t.removeLabel(passkey.name)}">${t.remove}</a>
    </div>
  </form>
</li>`;
}

function createSection(view: PasskeysView): Html {
  return html`<section class="passkey-create" aria-labelledby="nueva-llave">
  <h2 id="nueva-llave">${t.createTitle}</h2>
  <p>${t.createHint}</p>
  <p class="passkey-needs" data-passkey-needs>${t.needsBrowser}</p>
  <form method="post" action="${PASSKEY_WEB_PATHS.create}" novalidate data-passkey-create data-options="${PASSKEY_WEB_PATHS.createOptions}" data-answer="${PASSKEY_WEB_PATHS.create}" data-done="${PASSKEY_PAGE_PATHS.list}?${CREATED_PARAMETER}="${scriptMessages('create')} hidden>
    <div data-passkey-password${view.needsPassword ? '' : html` hidden`}>
      ${textField({
        name: 'currentPassword',
        label: accountPages.currentPassword,
        hint: t.currentPasswordHint,
        type: 'password',
        autocomplete: 'current-password',
        reveal: true,
      })}
    </div>
    <button type="submit" class="button button-primary">${t.createButton}</button>
    <p class="passkey-status" role="status" aria-live="polite"></p>
  </form>
</section>`;
}

export function passkeysPage(site: PageSite, view: PasskeysView): string {
  const fields: FieldMessages = {};
  if (view.rename) {
    const index = view.passkeys.findIndex((p) => p.id === view.rename?.id);
    for (const [name, message] of Object.entries(view.rename.fields))
      fields[name === 'name' && index >= 0 ? nameFieldId(index) : name] = message;
  }
  return renderPage(site, {
    title: accountPages.passkeysTitle,
    width: 'wide',
    passkeys: view.available,
    body: html`<h1>${accountPages.passkeysTitle}</h1>
${view.message ? html`<div class="alert alert-success" role="status"><p>${view.message}</p></div>` : ''}
${errorSummary(view.error, fields)}
<p>${t.intro}</p>
${view.available ? '' : html`<div class="alert alert-info"><p>${t.unavailable}</p></div>`}
${
  view.passkeys.length > 0 || view.available
    ? html`<h2 id="sus-llaves">${t.listTitle}</h2>
${
  view.passkeys.length === 0
    ? html`<p>${t.empty}</p>`
    : html`<ul class="passkeys" aria-labelledby="sus-llaves">${view.passkeys.map((p, i) => passkeyEntry(p, i, view))}</ul>`
}`
    : ''
}
${view.available ? createSection(view) : ''}
<p class="back-link"><a href="${ACCOUNT_PATHS.home}">${accountPages.home}</a></p>`,
  });
}

export function removePasskeyPage(site: PageSite, passkey: PasskeyItem): string {
  return renderPage(site, {
    title: t.removeTitle,
    body: html`<h1>${t.removeTitle}</h1>
<p class="passkey-question">${t.removeQuestion(passkey.name)}</p>
<p>${t.removeWarning}</p>
<form method="post" action="${PASSKEY_PAGE_PATHS.remove}">
  <input type="hidden" name="id" value="${passkey.id}">
  <div class="actions">
    <a class="button button-secondary" href="${PASSKEY_PAGE_PATHS.list}">${accountPages.back}</a>
    <button type="submit" class="button button-primary">${accountPages.confirm}</button>
  </div>
</form>`,
  });
}
