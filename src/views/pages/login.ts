// Screen 1 of the manual: "Bienvenido al Portal del Socio". Where passkeys
// are on, also «Ingresar con llave de acceso» and the browser's passkey
// suggestions on the document field (public/passkeys.js; without JavaScript
// or WebAuthn the page is the manual's).
import type { Captcha } from '../../captcha/port.ts';
import { ACTIVATION_CODE_PATH } from '../../flows/recovery/activation.ts';
import { activation, manual, text } from '../../messages/es.ts';
import type { PageSite } from '../../site/site.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { captchaField, errorSummary, type FieldMessages, textField } from '../partials.ts';
import { passkeyLoginButton } from './passkeys.ts';

export interface LoginView {
  captcha: Captcha;
  document?: string;
  message?: string;
  fields?: FieldMessages;
  notice?: string;
  /** Passkeys are on (PUBLIC_URL names a host, not an IP address). */
  passkeys?: boolean;
}

export function loginPage(site: PageSite, view: LoginView): string {
  const fields = view.fields ?? {};
  return renderPage(site, {
    title: text.loginPageTitle,
    captcha: view.captcha,
    passkeys: view.passkeys ?? false,
    body: html`<h1>${manual.loginTitle}</h1>
<p class="lead">${manual.loginHint}</p>
${view.notice ? html`<div class="alert alert-info" role="status"><p>${view.notice}</p></div>` : ''}
${errorSummary(view.message, fields)}
<form method="post" action="/ingresar" novalidate>
  ${textField({
    name: 'document',
    label: manual.userLabel,
    placeholder: manual.userPlaceholder,
    value: view.document ?? '',
    // "webauthn": the browser may offer the member's passkeys as they tap the field.
    autocomplete: view.passkeys ? 'username webauthn' : 'username',
    inputmode: 'numeric',
    error: fields.document,
    icon: 'user',
  })}
  ${textField({
    name: 'password',
    label: manual.passwordLabel,
    placeholder: manual.passwordPlaceholder,
    type: 'password',
    autocomplete: 'current-password',
    error: fields.password,
    reveal: true,
    icon: 'lock',
  })}
  ${captchaField(site, view.captcha, fields.captcha, 'login')}
  <button type="submit" class="button button-primary">${manual.logIn}</button>
</form>
${view.passkeys ? passkeyLoginButton() : ''}
<nav class="form-links" aria-label="${text.loginHelpLinks}">
  <a href="/olvide-mi-contrasena">${manual.forgotPassword}</a>
  <a href="/registro">${manual.notRegistered}</a>
  <a href="${ACTIVATION_CODE_PATH}">${activation.link}</a>
</nav>`,
  });
}
