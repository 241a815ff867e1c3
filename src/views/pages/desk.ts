// The branch desk's pages (/mesa): login, enrolment, home, and the short
// answers (no permission, not there yet). In the portal's look, so the
// desk needs no stylesheet of its own beyond a few classes (public/app.css,
// "branch desk" section).

import { desk, errors } from '../../messages/es.ts';
import type { PageSite } from '../../site/site.ts';
import type { StaffRole } from '../../staff/accounts.ts';
import { type Html, html, raw } from '../html.ts';
import { renderPage } from '../layout.ts';
import { errorSummary, type FieldMessages, textField } from '../partials.ts';
import { deskStaffLinks } from './desk-staff.ts';

export const DESK_PATHS = {
  home: '/mesa',
  login: '/mesa/ingresar',
  logout: '/mesa/salir',
  enrolment: '/mesa/alta',
  search: '/mesa/socios',
  /** One member's card; its actions post to sub-paths (src/routes/web/desk-members.ts). */
  member: (id: number) => `/mesa/socios/${id}`,
} as const;

export function info(message: string | undefined): Html | '' {
  return message ? html`<div class="alert alert-info" role="status"><p>${message}</p></div>` : '';
}

export interface DeskLoginView {
  email?: string;
  message?: string;
  fields?: FieldMessages;
  notice?: string;
}

/** The desk's name in the header, which leads to the desk's home. */
export const DESK_AREA = { name: desk.areaName, home: DESK_PATHS.home };

export function deskLoginPage(site: PageSite, view: DeskLoginView): string {
  const fields = view.fields ?? {};
  return renderPage(site, {
    area: DESK_AREA,
    title: desk.loginTitle,
    body: html`<h1>${desk.loginTitle}</h1>
<p class="lead">${desk.loginLead}</p>
${info(view.notice)}
${errorSummary(view.message, fields)}
<form method="post" action="${DESK_PATHS.login}" novalidate>
  ${textField({
    name: 'email',
    label: desk.emailLabel,
    value: view.email ?? '',
    autocomplete: 'username',
    error: fields.email,
  })}
  ${textField({
    name: 'password',
    label: desk.passwordLabel,
    type: 'password',
    autocomplete: 'current-password',
    error: fields.password,
    reveal: true,
  })}
  ${textField({
    name: 'code',
    label: desk.codeLabel,
    hint: desk.codeHint,
    autocomplete: 'one-time-code',
    error: fields.code,
  })}
  <button type="submit" class="button button-primary">${desk.logIn}</button>
</form>`,
  });
}

export interface DeskHomeView {
  name: string;
  role: StaffRole;
  idleMinutes: number;
  maxHours: number;
}

export function deskHomePage(site: PageSite, view: DeskHomeView): string {
  return renderPage(site, {
    area: DESK_AREA,
    title: desk.homeTitle,
    width: 'wide',
    body: html`<h1>${desk.homeTitle}</h1>
<dl class="facts">
  <div><dt>${desk.nameLabel}</dt><dd>${view.name}</dd></div>
  <div><dt>${desk.roleLabel}</dt><dd>${desk.roles[view.role]}</dd></div>
</dl>
<p class="desk-note">${desk.sessionLimits(view.idleMinutes, view.maxHours)}</p>
<section class="desk-section" aria-labelledby="buscar-socio">
  <h2 id="buscar-socio">${desk.searchTitle}</h2>
  <form method="post" action="${DESK_PATHS.search}" role="search">
    ${textField({
      name: 'q',
      label: desk.searchLabel,
      hint: desk.searchHint,
      autocomplete: 'off',
    })}
    <button type="submit" class="button button-primary">${desk.search}</button>
  </form>
</section>
${deskStaffLinks(view.role)}
<form method="post" action="${DESK_PATHS.logout}" class="desk-logout">
  <button type="submit" class="button button-secondary">${desk.logOut}</button>
</form>`,
  });
}

/** A short answer of the desk: a title, a message and the way back to the desk. */
export function deskMessagePage(
  site: PageSite,
  view: { title: string; message: string; back?: { href: string; label: string } },
): string {
  const back = view.back ?? { href: DESK_PATHS.home, label: desk.backHome };
  return renderPage(site, {
    area: DESK_AREA,
    title: view.title,
    body: html`<h1>${view.title}</h1>
<p>${view.message}</p>
<p><a class="button button-primary" href="${back.href}">${back.label}</a></p>`,
  });
}

export type DeskEnrolmentView =
  | {
      state: 'form';
      name: string;
      email: string;
      /** The QR code as inline SVG (src/staff/second-factor.ts qrSvg: no styles, labelled). */
      qrSvg: string;
      /** The key in groups of four, for typing it by hand. */
      manualKey: string;
      message?: string;
      fields?: FieldMessages;
    }
  | { state: 'done'; name: string; recoveryCodes: readonly string[] }
  | { state: 'invalid' };

export function deskEnrolmentPage(site: PageSite, view: DeskEnrolmentView): string {
  if (view.state === 'invalid')
    return deskMessagePage(site, {
      title: desk.enrolInvalidTitle,
      message: desk.enrolInvalid,
      back: { href: DESK_PATHS.login, label: desk.goToLogin },
    });
  if (view.state === 'done')
    return renderPage(site, {
      area: DESK_AREA,
      title: desk.enrolDoneTitle,
      body: html`<h1>${desk.enrolDoneTitle}</h1>
<div class="alert alert-success" role="status"><p>${desk.enrolDone}</p></div>
<section class="desk-section" aria-labelledby="codigos">
  <h2 id="codigos">${desk.recoveryTitle}</h2>
  <p>${desk.recoveryKeep}</p>
  <ol class="desk-codes" id="codigos-de-recuperacion">
    ${view.recoveryCodes.map((code) => html`<li><code>${code}</code></li>`)}
  </ol>
</section>
<p><a class="button button-primary" href="${DESK_PATHS.login}">${desk.goToLogin}</a></p>`,
    });
  const fields = view.fields ?? {};
  return renderPage(site, {
    area: DESK_AREA,
    title: desk.enrolTitle,
    body: html`<h1>${desk.enrolTitle}</h1>
<dl class="facts">
  <div><dt>${desk.nameLabel}</dt><dd>${view.name}</dd></div>
  <div><dt>${desk.emailLabel}</dt><dd class="desk-email">${view.email}</dd></div>
</dl>
<p>${desk.enrolIntro}</p>
${errorSummary(view.message, fields)}
<section class="desk-section" aria-labelledby="paso-aplicacion">
  <h2 id="paso-aplicacion">${desk.enrolStepApp}</h2>
  <p>${desk.enrolScan}</p>
  <div class="desk-qr">${raw(view.qrSvg)}</div>
  <p>${desk.enrolManualKey}</p>
  <p class="desk-key"><code id="clave-manual">${view.manualKey}</code></p>
</section>
<form method="post" action="${DESK_PATHS.enrolment}" novalidate>
  <section class="desk-section" aria-labelledby="paso-contrasena">
    <h2 id="paso-contrasena">${desk.enrolStepPassword}</h2>
    ${textField({
      name: 'password',
      label: desk.newPasswordLabel,
      hint: desk.passwordRule,
      type: 'password',
      autocomplete: 'new-password',
      error: fields.password,
      reveal: true,
    })}
    ${textField({
      name: 'passwordConfirmation',
      label: desk.repeatPasswordLabel,
      type: 'password',
      autocomplete: 'new-password',
      error: fields.passwordConfirmation,
      reveal: true,
    })}
  </section>
  <section class="desk-section" aria-labelledby="paso-codigo">
    <h2 id="paso-codigo">${desk.enrolStepCode}</h2>
    ${textField({
      name: 'code',
      label: desk.appCodeLabel,
      hint: desk.appCodeHint,
      autocomplete: 'one-time-code',
      inputmode: 'numeric',
      error: fields.code,
    })}
  </section>
  <button type="submit" class="button button-primary">${desk.enrolFinish}</button>
</form>`,
  });
}

/** The message of a field the staff password check flagged, in the desk's words. */
export function deskPasswordMessage(message: string): string {
  // The shared rule says 8 to 64; staff passwords need 12 at least.
  return message === errors.PASSWORD_LENGTH_ASVS ? errors.STAFF_PASSWORD_LENGTH : message;
}
