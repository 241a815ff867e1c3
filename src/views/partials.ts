// Form pieces every screen reuses: error summary, text fields, the CAPTCHA.
import type { Captcha } from '../captcha/port.ts';
import { text } from '../messages/es.ts';
import { type Html, html } from './html.ts';

export type FieldMessages = Record<string, string>;

/** The list of problems at the top of a form, announced to screen readers. */
export function errorSummary(message: string | undefined, fields: FieldMessages): Html {
  if (!message && Object.keys(fields).length === 0) return html``;
  const entries = Object.entries(fields);
  return html`<div class="alert alert-error" role="alert" tabindex="-1" id="errores">
  <p>${message ?? text.errorSummary}</p>
  ${
    entries.length > 0 && !(entries.length === 1 && entries[0]?.[1] === message)
      ? html`<ul>${entries.map(([field, msg]) => html`<li><a href="#${field}">${msg}</a></li>`)}</ul>`
      : ''
  }
</div>`;
}

export interface TextFieldOptions {
  name: string;
  label: string;
  placeholder?: string;
  value?: string;
  type?: 'text' | 'password';
  autocomplete?: string;
  inputmode?: 'numeric' | 'text';
  error?: string | undefined;
  hint?: string;
  /** Adds the show/hide toggle (password fields). */
  reveal?: boolean;
  icon?: 'user' | 'lock';
}

export function textField(o: TextFieldOptions): Html {
  const describedBy = [o.hint ? `${o.name}-ayuda` : '', o.error ? `${o.name}-error` : '']
    .filter(Boolean)
    .join(' ');
  return html`<div class="field${o.error ? ' field-invalid' : ''}">
  <label for="${o.name}">${o.label}</label>
  ${o.hint ? html`<p class="field-hint" id="${o.name}-ayuda">${o.hint}</p>` : ''}
  ${o.error ? html`<p class="field-error" id="${o.name}-error"><span aria-hidden="true">⚠ </span>${o.error}</p>` : ''}
  <div class="input-wrap${o.reveal ? ' has-toggle' : ''}">
    <input id="${o.name}" name="${o.name}" type="${o.type ?? 'text'}"
      ${o.placeholder ? html`placeholder="${o.placeholder}"` : ''}
      ${o.value ? html`value="${o.value}"` : ''}
      ${o.autocomplete ? html`autocomplete="${o.autocomplete}"` : ''}
      ${o.inputmode ? html`inputmode="${o.inputmode}"` : ''}
      ${describedBy ? html`aria-describedby="${describedBy}"` : ''}
      ${o.error ? html`aria-invalid="true"` : ''}
      autocapitalize="off" spellcheck="false">
    ${
      o.reveal
        ? html`<button type="button" class="reveal" data-reveal="${o.name}" aria-controls="${o.name}" aria-pressed="false" aria-label="${text.showPassword}" hidden>
      <svg aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="24" height="24"><path d="M12 5C6.5 5 2.3 8.6 1 12c1.3 3.4 5.5 7 11 7s9.7-3.6 11-7c-1.3-3.4-5.5-7-11-7zm0 11.5A4.5 4.5 0 1 1 12 7.5a4.5 4.5 0 0 1 0 9zm0-7a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z" fill="currentColor"/></svg>
    </button>`
        : ''
    }
  </div>
</div>`;
}

/** The CAPTCHA ("No soy un robot") for the configured provider, with a no-JavaScript notice. */
export function captchaField(captcha: Captcha, error: string | undefined): Html {
  let widget: Html;
  if (captcha.provider === 'altcha') {
    widget = html`<altcha-widget name="altcha" challenge="/api/v1/captcha" language="es-419"
      configuration='{"hideFooter":true,"hideLogo":false}'></altcha-widget>`;
  } else if (captcha.provider === 'none') {
    return html``;
  } else {
    const hosted = captcha as Captcha & { className: string; siteKey: string };
    widget = html`<div class="${hosted.className}" data-sitekey="${hosted.siteKey}"></div>`;
  }
  return html`<div class="field captcha${error ? ' field-invalid' : ''}" id="captcha">
  ${error ? html`<p class="field-error" id="captcha-error"><span aria-hidden="true">⚠ </span>${error}</p>` : ''}
  ${widget}
  <noscript><p class="notice">${text.captchaNeedsJavascript}</p></noscript>
</div>`;
}
