// Progressive enhancement only: every form works without this file.

// Password eye toggle: a real button with an accessible name and aria-pressed.
for (const button of document.querySelectorAll('button[data-reveal]')) {
  const input = document.getElementById(button.getAttribute('data-reveal'));
  if (!input) continue;
  button.hidden = false;
  button.addEventListener('click', () => {
    const show = input.type === 'password';
    input.type = show ? 'text' : 'password';
    button.setAttribute('aria-pressed', String(show));
    button.setAttribute('aria-label', show ? 'Ocultar contraseña' : 'Mostrar contraseña');
  });
}

// Take the member to the first problem of a re-rendered form.
const summary = document.getElementById('errores');
if (summary) summary.focus();
