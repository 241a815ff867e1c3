// Form pieces every screen reuses: error summary, text fields, the CAPTCHA.
import type { CaptchaAction } from '../captcha/hosted.ts';
import type { Captcha } from '../captcha/port.ts';
import { text } from '../messages/es.ts';
import type { PageSite } from '../site/site.ts';
import { type Html, html } from './html.ts';

export type FieldMessages = Record<string, string>;

/** The list of problems at the top of a form, announced to screen readers. */
export function errorSummary(message: string | undefined, fields: FieldMessages): Html {
  if (!message && Object.keys(fields).length === 0) return html``;
  const entries = Object.entries(fields);
  // One problem whose message already stands next to its field: the summary
  // only points there, so a phone screen does not show the same words twice.
  const only = entries.length === 1 ? entries[0] : undefined;
  if (only && only[1] === message) {
    return html`<div class="alert alert-error" role="alert" tabindex="-1" id="errores">
  <p><a href="#${only[0]}">${text.reviewMarkedField}</a></p>
</div>`;
  }
  return html`<div class="alert alert-error" role="alert" tabindex="-1" id="errores">
  <p>${message ?? text.errorSummary}</p>
  ${
    entries.length > 0
      ? html`<ul>${entries.map(([field, msg]) => html`<li><a href="#${field}">${msg}</a></li>`)}</ul>`
      : ''
  }
</div>`;
}

export interface TextFieldOptions {
  name: string;
  /** The element's id, when two forms on a page post the same name; else the name. */
  id?: string;
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
  const id = o.id ?? o.name;
  const describedBy = [o.hint ? `${id}-ayuda` : '', o.error ? `${id}-error` : '']
    .filter(Boolean)
    .join(' ');
  return html`<div class="field${o.error ? ' field-invalid' : ''}">
  <label for="${id}">${o.label}</label>
  ${o.hint ? html`<p class="field-hint" id="${id}-ayuda">${o.hint}</p>` : ''}
  ${o.error ? html`<p class="field-error" id="${id}-error"><span aria-hidden="true">⚠ </span>${o.error}</p>` : ''}
  <div class="input-wrap${o.reveal ? ' has-toggle' : ''}">
    <input id="${id}" name="${o.name}" type="${o.type ?? 'text'}"
      ${o.placeholder ? html`placeholder="${o.placeholder}"` : ''}
      ${o.value ? html`value="${o.value}"` : ''}
      ${o.autocomplete ? html`autocomplete="${o.autocomplete}"` : ''}
      ${o.inputmode ? html`inputmode="${o.inputmode}"` : ''}
      ${describedBy ? html`aria-describedby="${describedBy}"` : ''}
      ${o.error ? html`aria-invalid="true"` : ''}
      autocapitalize="off" spellcheck="false">
    ${
      o.reveal
        ? // A toggle keeps its name; aria-pressed says whether the password is shown.
          html`<button type="button" class="reveal" data-reveal="${id}" aria-controls="${id}" aria-pressed="false" aria-label="${text.showPassword}" hidden>
      <svg class="icon-eye" aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="28" height="28"><path d="M12 5C6.5 5 2.3 8.6 1 12c1.3 3.4 5.5 7 11 7s9.7-3.6 11-7c-1.3-3.4-5.5-7-11-7zm0 11.5A4.5 4.5 0 1 1 12 7.5a4.5 4.5 0 0 1 0 9zm0-7a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5z" fill="currentColor"/></svg>
      <svg class="icon-eye-off" aria-hidden="true" focusable="false" viewBox="0 0 24 24" width="28" height="28"><path d="M12 7c2.76 0 5 2.24 5 5 0 .65-.13 1.26-.36 1.83l2.92 2.92c1.51-1.26 2.7-2.89 3.43-4.75-1.73-4.39-6-7.5-11-7.5-1.4 0-2.74.25-3.98.7l2.16 2.16C10.74 7.13 11.35 7 12 7zM2 4.27l2.28 2.28.46.46C3.08 8.3 1.78 10.02 1 12c1.73 4.39 6 7.5 11 7.5 1.55 0 3.03-.3 4.38-.84l.42.42L19.73 22 21 20.73 3.27 3 2 4.27zM7.53 9.8l1.55 1.55c-.05.21-.08.43-.08.65 0 1.66 1.34 3 3 3 .22 0 .44-.03.65-.08l1.55 1.55c-.67.33-1.41.53-2.2.53-2.76 0-5-2.24-5-5 0-.79.2-1.53.53-2.2zm4.31-.78l3.15 3.15.02-.16c0-1.66-1.34-3-3-3l-.17.01z" fill="currentColor"/></svg>
    </button>`
        : ''
    }
  </div>
</div>`;
}

/**
 * The CAPTCHA ("No soy un robot") for the configured provider, and the notice
 * that it needs JavaScript: a plain paragraph (not <noscript>) that the
 * stylesheet hides when scripting is on, so it also shows when only a
 * stylesheet-level check can tell. `action` names the form: Turnstile
 * returns it in its answer and the server accepts only ours.
 */
export function captchaField(
  site: PageSite,
  captcha: Captcha,
  error: string | undefined,
  action: CaptchaAction,
): Html {
  let widget: Html;
  if (captcha.provider === 'altcha') {
    // The ALTCHA logo looks like a "reload" button and opens the vendor's site: hidden.
    widget = html`<altcha-widget name="altcha" challenge="/api/v1/captcha" language="es-uy"
      configuration='{"hideFooter":true,"hideLogo":true}'></altcha-widget>`;
  } else if (captcha.provider === 'none') {
    return html``;
  } else {
    const hosted = captcha as Captcha & { className: string; siteKey: string };
    widget =
      captcha.provider === 'turnstile'
        ? html`<div class="${hosted.className}" data-sitekey="${hosted.siteKey}" data-action="${action}"></div>`
        : html`<div class="${hosted.className}" data-sitekey="${hosted.siteKey}"></div>`;
  }
  return html`<div class="field captcha${error ? ' field-invalid' : ''}" id="captcha">
  ${error ? html`<p class="field-error" id="captcha-error"><span aria-hidden="true">⚠ </span>${error}</p>` : ''}
  ${widget}
  <p class="notice needs-js" data-needs-js>${text.captchaNeedsJavascript(site.brand)}</p>
</div>`;
}
