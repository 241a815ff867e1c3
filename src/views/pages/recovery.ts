// The manual's "¿Olvidaste tu contraseña?" screen, also used for "¿No estás
// registrado?": document or member number, email or SMS, CAPTCHA; then the
// red notice with VOLVER (email) or the code field (SMS).
import type { Captcha } from '../../captcha/port.ts';
import type { DeliveryChannel, RecoveryFlow } from '../../flows/recovery/state.ts';
import { manual, text } from '../../messages/es.ts';
import type { PageSite } from '../../site/site.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { captchaField, errorSummary, type FieldMessages, textField } from '../partials.ts';

export const RECOVERY_PATHS: Record<RecoveryFlow, string> = {
  recovery: '/olvide-mi-contrasena',
  registration: '/registro',
};

export interface RecoveryView {
  flow: RecoveryFlow;
  captcha: Captcha;
  step: 'request' | 'email-sent' | 'code';
  document?: string;
  channel?: DeliveryChannel | undefined;
  message?: string;
  fields?: FieldMessages;
}

export function recoveryPage(site: PageSite, view: RecoveryView): string {
  const fields = view.fields ?? {};
  const base = RECOVERY_PATHS[view.flow];
  const title = view.flow === 'recovery' ? manual.forgotTitle : manual.notRegistered;
  let body: ReturnType<typeof html>;
  if (view.step === 'email-sent') {
    // As in the manual: the red notice and only VOLVER. A second CONFIRMAR
    // would send a new email, and the newer link kills the one just sent.
    body = html`<h1>${title}</h1>
<div class="alert alert-sent" role="status"><p>${manual.emailSent}</p><p class="alert-help">${manual.emailSentHelp}</p></div>
<div class="actions">
  <a class="button button-primary" href="/">${manual.back}</a>
</div>`;
  } else if (view.step === 'code') {
    body = html`<h1>${title}</h1>
<div class="alert alert-info" role="status"><p>${manual.smsSent}</p></div>
${errorSummary(view.message, fields)}
<form method="post" action="${base}/codigo" novalidate>
  ${
    // Opened without a request (a code a branch sent): the member types the document too.
    view.document === undefined || fields.document !== undefined
      ? textField({
          name: 'document',
          label: manual.memberOrDocumentLabel,
          value: view.document ?? '',
          autocomplete: 'username',
          inputmode: 'numeric',
          error: fields.document,
        })
      : html`<input type="hidden" name="document" value="${view.document}">`
  }
  ${textField({
    name: 'code',
    label: manual.codeLabel,
    placeholder: manual.codePlaceholder,
    autocomplete: 'one-time-code',
    inputmode: 'numeric',
    error: fields.code,
  })}
  <div class="actions">
    <a class="button button-secondary" href="${base}">${manual.back}</a>
    <button type="submit" class="button button-primary">${manual.confirm}</button>
  </div>
</form>`;
  } else {
    body = html`<h1>${title}</h1>
<p class="lead">${manual.forgotInstruction}</p>
${errorSummary(view.message, fields)}
<form method="post" action="${base}" novalidate>
  ${textField({
    name: 'document',
    label: manual.memberOrDocumentLabel,
    value: view.document ?? '',
    autocomplete: 'username',
    inputmode: 'numeric',
    error: fields.document,
  })}
  <fieldset class="field choices${fields.channel ? ' field-invalid' : ''}" id="channel"${fields.channel ? html` aria-describedby="channel-error"` : ''}>
    <legend>${text.channelQuestion}</legend>
    ${fields.channel ? html`<p class="field-error" id="channel-error"><span aria-hidden="true">⚠ </span>${fields.channel}</p>` : ''}
    <label class="choice"><input type="radio" name="channel" value="email"${view.channel === 'email' ? html` checked` : ''}> <span>${manual.viaEmail}</span></label>
    <label class="choice"><input type="radio" name="channel" value="sms"${view.channel === 'sms' ? html` checked` : ''}> <span>${manual.viaSms}</span></label>
  </fieldset>
  ${captchaField(site, view.captcha, fields.captcha, 'password-request')}
  <div class="actions">
    <a class="button button-secondary" href="/">${manual.back}</a>
    <button type="submit" class="button button-primary">${manual.confirm}</button>
  </div>
</form>`;
  }
  // Only the request form has «No soy un robot»: the other steps load no widget.
  return renderPage(site, {
    title,
    body,
    ...(view.step === 'request' ? { captcha: view.captcha } : {}),
  });
}
