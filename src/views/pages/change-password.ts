// The manual's "Cambiar contraseña" screen, reached from the emailed link or
// a right SMS code; then "Contraseña modificada correctamente" and VOLVER.
import type { Captcha } from '../../captcha/port.ts';
import { errors, manual, text } from '../../messages/es.ts';
import type { PageSite } from '../../site/site.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { captchaField, errorSummary, type FieldMessages, textField } from '../partials.ts';

export interface ChangePasswordView {
  captcha: Captcha;
  ruleText: string;
  state: 'form' | 'done' | 'invalid';
  /** Whose password the form sets, masked ("Ana P., documento ***456"). */
  holder?: string;
  message?: string;
  fields?: FieldMessages;
}

export function changePasswordPage(site: PageSite, view: ChangePasswordView): string {
  const fields = view.fields ?? {};
  let body: ReturnType<typeof html>;
  if (view.state === 'done') {
    body = html`<h1>${manual.changeTitle}</h1>
<div class="alert alert-success" role="status"><p>${manual.passwordChanged}</p></div>
<p>${text.canLogInNow}</p>
<a class="button button-primary" href="/">${manual.back}</a>`;
  } else if (view.state === 'invalid') {
    body = html`<h1>${manual.changeTitle}</h1>
<div class="alert alert-error" role="alert"><p>${errors.TOKEN_INVALID}</p></div>
<div class="actions">
  <a class="button button-secondary" href="/">${manual.back}</a>
  <a class="button button-primary" href="/olvide-mi-contrasena">${manual.forgotTitle}</a>
</div>`;
  } else {
    body = html`<h1>${manual.changeTitle}</h1>
${view.holder ? html`<div class="alert alert-info"><p>${text.changingPasswordOf(html`<strong>${view.holder}</strong>`)}</p></div>` : ''}
${errorSummary(view.message, fields)}
<form method="post" action="/cambiar-contrasena" novalidate>
  ${textField({
    name: 'password',
    label: manual.newPasswordLabel,
    placeholder: manual.newPasswordPlaceholder,
    type: 'password',
    autocomplete: 'new-password',
    error: fields.password,
    reveal: true,
    hint: view.ruleText,
  })}
  ${textField({
    name: 'passwordConfirmation',
    label: manual.repeatPasswordLabel,
    placeholder: manual.repeatPasswordPlaceholder,
    type: 'password',
    autocomplete: 'new-password',
    error: fields.passwordConfirmation,
    reveal: true,
  })}
  ${captchaField(site, view.captcha, fields.captcha, 'set-password')}
  <div class="actions">
    <a class="button button-secondary" href="/">${manual.back}</a>
    <button type="submit" class="button button-primary">${manual.confirm}</button>
  </div>
</form>`;
  }
  // Only the form has «No soy un robot»: the other states load no widget.
  return renderPage(site, {
    title: manual.changeTitle,
    body,
    ...(view.state === 'form' ? { captcha: view.captcha } : {}),
  });
}
