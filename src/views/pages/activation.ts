// "Tengo un código de activación" (SPEC §2.7, issue 13): the member types
// their document and the code printed at a branch, solves the CAPTCHA, and
// goes on to "Cambiar contraseña".
import type { Captcha } from '../../captcha/port.ts';
import { ACTIVATION_CODE_PATH } from '../../flows/recovery/activation.ts';
import { activation, manual } from '../../messages/es.ts';
import type { PageSite } from '../../site/site.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';
import { captchaField, errorSummary, type FieldMessages, textField } from '../partials.ts';

export interface ActivationView {
  captcha: Captcha;
  document?: string;
  message?: string;
  fields?: FieldMessages;
}

export function activationCodePage(site: PageSite, view: ActivationView): string {
  const fields = view.fields ?? {};
  return renderPage(site, {
    title: activation.title,
    captcha: view.captcha,
    body: html`<h1>${activation.title}</h1>
<p class="lead">${activation.lead}</p>
${errorSummary(view.message, fields)}
<form method="post" action="${ACTIVATION_CODE_PATH}" novalidate>
  ${textField({
    name: 'document',
    label: manual.memberOrDocumentLabel,
    value: view.document ?? '',
    autocomplete: 'username',
    inputmode: 'numeric',
    error: fields.document,
  })}
  ${textField({
    name: 'code',
    label: activation.codeLabel,
    hint: activation.codeHint,
    autocomplete: 'one-time-code',
    error: fields.code,
  })}
  ${captchaField(site, view.captcha, fields.captcha, 'activation-code')}
  <div class="actions">
    <a class="button button-secondary" href="/">${manual.back}</a>
    <button type="submit" class="button button-primary">${manual.confirm}</button>
  </div>
</form>`,
  });
}
