// Passkeys in the member's browser (issue 14), after the WebAuthn helper
// library (@simplewebauthn/browser) in the same file (src/site/site.ts).
// Progressive enhancement only: without this script, or without WebAuthn,
// the login page is the password form and «Llaves de acceso» says what a
// passkey needs.
//
// - Login page ([data-passkey-login]): shows «Ingresar con llave de acceso»,
//   and where the browser offers passkeys among the document field's
//   suggestions (conditional mediation), keeps such a request waiting.
// - «Llaves de acceso» (form[data-passkey-create]): creates one, with the
//   current password first when the page asks for it.
//
// The page gives the addresses to call and every text to show in data
// attributes; this file has no words of its own and never shows the
// browser's error text. Calls are same-origin JSON posts that carry the
// page's CSRF token (the `_csrf` field the server writes into its forms).

/** The portal refused, with its own message (and, for a form, its fields). */
class Refused extends Error {
  constructor(message, fields) {
    super(message);
    this.fields = fields && typeof fields === 'object' ? fields : {};
  }
}

/** data-msg-cancelled="…" → { cancelled: "…" } */
function messagesOf(element) {
  const messages = {};
  for (const [key, value] of Object.entries(element.dataset)) {
    if (key.startsWith('msg') && key.length > 3)
      messages[key.charAt(3).toLowerCase() + key.slice(4)] = value;
  }
  return messages;
}

function csrfToken() {
  return document.querySelector('input[name="_csrf"]')?.value ?? '';
}

async function post(url, body, messages) {
  let response;
  try {
    response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken() },
      body: JSON.stringify(body),
    });
  } catch {
    throw new Refused(messages.network);
  }
  const data = await response.json().catch(() => null);
  if (response.ok && data) return data;
  const message = data?.error?.message;
  if (typeof message === 'string' && message !== '') throw new Refused(message, data.error.fields);
  // A refused page token (the page stayed open too long) answers the error page, not JSON.
  throw new Refused(response.status === 403 ? messages.expired : messages.failed);
}

/** A ceremony that another one replaced (the button over the autofill): nothing to say. */
function wasReplaced(error) {
  return error?.code === 'ERROR_CEREMONY_ABORTED' || error?.name === 'AbortError';
}

/** What to tell the member about a failure; null when there is nothing to tell. */
function messageFor(error, messages) {
  if (error instanceof Refused) return error.message;
  if (wasReplaced(error)) return null;
  const name = error?.name;
  const code = typeof error?.code === 'string' ? error.code : '';
  // Cancelled, timed out, or (on login) no passkey of this site here: browsers do not say which.
  if (name === 'NotAllowedError') return messages.cancelled;
  if (code === 'ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED' || name === 'InvalidStateError')
    return messages.registered ?? messages.failed;
  if (
    name === 'SecurityError' ||
    name === 'NotSupportedError' ||
    name === 'ConstraintError' ||
    code.startsWith('ERROR_INVALID_') ||
    code.startsWith('ERROR_AUTHENTICATOR_MISSING_') ||
    code === 'ERROR_AUTHENTICATOR_NO_SUPPORTED_PUBKEYCREDPARAMS_ALG'
  )
    return messages.unsupported;
  return messages.failed;
}

function say(status, text, kind = 'info') {
  status.textContent = text ?? '';
  status.dataset.kind = kind;
}

/** Only a path of this site: never somewhere an answer could point. */
function sitePath(value) {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : '/';
}

// ─── Login page ─────────────────────────────────────────────────────────────

function setUpLogin(box, webauthn) {
  const messages = messagesOf(box);
  const button = box.querySelector('button');
  const status = box.querySelector('[role="status"]');
  const field = document.querySelector('input[autocomplete~="webauthn"]');
  if (!button || !status) return;
  box.hidden = false;

  // The newest ceremony; an older one that is still fetching its options gives way.
  let current = 0;
  let busy = false;
  // The autofill is not waiting with a live challenge: start it again when the member comes back.
  let stale = true;
  let refresh;
  const autofill = webauthn.browserSupportsWebAuthnAutofill().catch(() => false);

  /** One ceremony, from the options to the home page; false when another one replaced it. */
  async function logIn(conditional) {
    const mine = ++current;
    clearTimeout(refresh);
    const options = await post(box.dataset.options, {}, messages);
    if (mine !== current) return false;
    if (conditional) {
      // The suggestions wait as long as the page is open; the challenge does
      // not: a fresh one shortly before it expires.
      const lifetime = Number(options.timeout) || 300_000;
      refresh = setTimeout(
        () => {
          stale = true;
          if (mine === current && document.visibilityState === 'visible') startAutofill();
        },
        Math.max(30_000, lifetime - 30_000),
      );
    } else {
      say(status, messages.waiting);
    }
    const answer = await webauthn.startAuthentication({
      optionsJSON: options,
      useBrowserAutofill: conditional,
    });
    clearTimeout(refresh);
    say(status, messages.checking);
    const result = await post(box.dataset.answer, answer, messages);
    location.assign(sitePath(result.redirect));
    return true;
  }

  async function startAutofill() {
    if (!(await autofill) || busy) return;
    stale = false;
    try {
      await logIn(true);
    } catch (error) {
      if (wasReplaced(error)) return;
      stale = true;
      // Only the portal's refusal of a passkey the member chose is worth
      // saying: the browser's own failures of a request waiting in the
      // background (no passkey here, nothing chosen) are not the member's doing.
      if (error instanceof Refused) say(status, error.message, 'error');
    }
  }

  button.addEventListener('click', async () => {
    if (busy) return;
    busy = true;
    say(status, '');
    try {
      if (await logIn(false)) return;
    } catch (error) {
      const text = messageFor(error, messages);
      if (text) say(status, text, 'error');
    } finally {
      busy = false;
    }
    // The button's request replaced the autofill's: it waits again.
    startAutofill();
  });

  // After a failure, the autofill starts again when the member comes back to
  // the field (never on its own: an authenticator that answers at once would
  // otherwise go round and round).
  field?.addEventListener('focus', () => {
    if (stale) startAutofill();
  });
  document.addEventListener('visibilitychange', () => {
    if (stale && document.visibilityState === 'visible') startAutofill();
  });
  startAutofill();
}

// ─── «Llaves de acceso»: a new one ──────────────────────────────────────────

function showFieldError(input, message) {
  const field = input.closest('.field');
  if (!field) return;
  clearFieldError(input);
  field.classList.add('field-invalid');
  const error = document.createElement('p');
  error.className = 'field-error';
  error.id = `${input.id}-error`;
  const icon = document.createElement('span');
  icon.setAttribute('aria-hidden', 'true');
  icon.textContent = '⚠ ';
  error.append(icon, message);
  (field.querySelector('.input-wrap') ?? input).before(error);
  input.setAttribute('aria-invalid', 'true');
  const described = (input.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
  input.setAttribute('aria-describedby', [...described, error.id].join(' '));
}

function clearFieldError(input) {
  const field = input.closest('.field');
  const error = document.getElementById(`${input.id}-error`);
  if (!field || !error) return;
  error.remove();
  field.classList.remove('field-invalid');
  input.removeAttribute('aria-invalid');
  const described = (input.getAttribute('aria-describedby') ?? '')
    .split(' ')
    .filter((id) => id && id !== error.id);
  if (described.length > 0) input.setAttribute('aria-describedby', described.join(' '));
  else input.removeAttribute('aria-describedby');
}

function setUpCreate(form, webauthn) {
  const messages = messagesOf(form);
  const status = form.querySelector('[role="status"]');
  const passwordBox = form.querySelector('[data-passkey-password]');
  const password = passwordBox?.querySelector('input[name="currentPassword"]');
  if (!status) return;
  for (const sentence of document.querySelectorAll('[data-passkey-needs]')) sentence.hidden = true;
  form.hidden = false;

  let busy = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    say(status, '');
    if (password) clearFieldError(password);
    try {
      const asked = passwordBox && !passwordBox.hidden && password;
      const options = await post(
        form.dataset.options,
        asked ? { currentPassword: password.value } : {},
        messages,
      );
      say(status, messages.waiting);
      const answer = await webauthn.startRegistration({ optionsJSON: options });
      say(status, messages.checking);
      const { passkey } = await post(form.dataset.answer, answer, messages);
      // The list, with the new one and a notice that names it.
      location.assign(sitePath(`${form.dataset.done}${encodeURIComponent(passkey?.id ?? '')}`));
      return;
    } catch (error) {
      const fieldMessage = error instanceof Refused ? error.fields.currentPassword : undefined;
      if (fieldMessage && passwordBox && password) {
        // The login is older than the page thought, or the password was wrong: the field says so.
        say(status, '');
        passwordBox.hidden = false;
        // As a page does after a refused form: the password is typed again, never kept.
        password.value = '';
        showFieldError(password, fieldMessage);
        password.focus();
      } else {
        const text = messageFor(error, messages);
        if (text) say(status, text, 'error');
      }
    }
    busy = false;
  });
}

{
  const webauthn = globalThis.SimpleWebAuthnBrowser;
  if (webauthn?.browserSupportsWebAuthn()) {
    const login = document.querySelector('[data-passkey-login]');
    if (login) setUpLogin(login, webauthn);
    const create = document.querySelector('form[data-passkey-create]');
    if (create) setUpCreate(create, webauthn);
  }
}
