// Progressive enhancement only: every form works without this file.

// Scripting is on: the "needs JavaScript" notices step aside. The stylesheet
// already hides them where the browser supports @media (scripting); this
// covers the browsers that do not.
for (const notice of document.querySelectorAll('[data-needs-js]')) notice.hidden = true;

// Password eye toggle: a real button whose name stays "Mostrar contraseña"
// while aria-pressed tells whether the password is shown.
for (const button of document.querySelectorAll('button[data-reveal]')) {
  const input = document.getElementById(button.getAttribute('data-reveal'));
  if (!input) continue;
  button.hidden = false;
  button.addEventListener('click', () => {
    const show = input.type === 'password';
    input.type = show ? 'text' : 'password';
    button.setAttribute('aria-pressed', String(show));
  });
}

// Before sending, every password goes back to dots, so the browser never
// offers to remember a visible one as plain text.
for (const form of document.querySelectorAll('form')) {
  form.addEventListener('submit', () => {
    for (const button of form.querySelectorAll('button[data-reveal][aria-pressed="true"]')) {
      button.click();
    }
  });
}

// Once «No soy un robot» is verified, its "please tick the box" error no
// longer applies: it goes, so a green tick never sits next to a red warning.
for (const widget of document.querySelectorAll('altcha-widget')) {
  widget.addEventListener('verified', () => {
    const field = widget.closest('.field');
    if (!field) return;
    field.classList.remove('field-invalid');
    for (const error of field.querySelectorAll('.field-error')) error.hidden = true;
  });
}

// The desk's printable activation code: a button for the browser's print
// dialog (without scripting, the browser's own menu prints the same page).
for (const button of document.querySelectorAll('button[data-print]')) {
  button.hidden = false;
  button.addEventListener('click', () => print());
}

// Take the member to the first problem of a re-rendered form.
const summary = document.getElementById('errores');
if (summary) summary.focus();

// Installed as an app, the portal shows its offline page when the network is
// gone (public/sw.js). Registered once the page has loaded and the browser
// is idle, so it never competes with what the member came for.
if ('serviceWorker' in navigator) {
  const register = () => navigator.serviceWorker.register('/sw.js').catch(() => {});
  addEventListener('load', () => {
    if ('requestIdleCallback' in globalThis) requestIdleCallback(register, { timeout: 5000 });
    else setTimeout(register, 1000);
  });
}
