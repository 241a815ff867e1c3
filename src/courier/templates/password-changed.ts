// The notice sent after any password change: when, how, and what to do if
// it was not the member.
import { html } from '../../views/html.ts';
import type { EmailContent } from '../message.ts';
import { emailLayout } from './layout.ts';

export const PASSWORD_CHANGED_SUBJECT = 'Su contraseña fue modificada';

const HOW: Record<string, string> = {
  email: 'con el link que le enviamos por email',
  sms: 'con el código que le enviamos por SMS',
  settings: 'desde su sesión en el Portal del Socio',
  desk: 'con la ayuda de un centro de atención',
};

export function passwordChangedEmail(input: {
  at: Date;
  via: keyof typeof HOW | string;
}): EmailContent {
  const when = new Intl.DateTimeFormat('es-UY', {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'America/Montevideo',
  }).format(input.at);
  const how = HOW[input.via] ?? 'en el Portal del Socio';
  const lines = {
    greeting: 'Estimado/a Afiliado/a:',
    what: `La contraseña de su cuenta del Portal del Socio fue modificada el ${when} (hora de Uruguay), ${how}.`,
    sessions: 'Por su seguridad, cerramos las sesiones que estaban abiertas.',
    ok: 'Si fue Usted, no necesita hacer nada más.',
    notYou:
      'Si no fue Usted, llame cuanto antes al CALL CENTER 144 o solicite una nueva contraseña con la opción «¿Olvidaste tu contraseña?».',
    signature: 'Atentamente, Autogestión',
  };
  const text = [
    lines.greeting,
    '',
    lines.what,
    lines.sessions,
    '',
    lines.ok,
    lines.notYou,
    '',
    lines.signature,
  ].join('\n');
  const body = html`<p style="margin:0 0 16px;">${lines.greeting}</p>
<p style="margin:0 0 16px;">${lines.what} ${lines.sessions}</p>
<p style="margin:0 0 16px;">${lines.ok}</p>
<p style="margin:0 0 16px;"><strong>${lines.notYou}</strong></p>
<p style="margin:0;">${lines.signature}</p>`;
  return {
    subject: PASSWORD_CHANGED_SUBJECT,
    text,
    html: emailLayout(PASSWORD_CHANGED_SUBJECT, body),
  };
}
