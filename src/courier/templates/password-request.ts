// The manual's email "Solicitud nueva contraseña", with the link to the
// change-password page. Wording after the manual; the link says how long it lasts.
import { html } from '../../views/html.ts';
import type { EmailContent } from '../message.ts';
import { emailButton, emailLayout } from './layout.ts';

export const PASSWORD_REQUEST_SUBJECT = 'Solicitud nueva contraseña';

export function passwordRequestEmail(input: { link: string; minutes: number }): EmailContent {
  const lines = {
    greeting:
      'Estimado/a Afiliado/a: hemos recibido su solicitud para obtener una nueva contraseña.',
    action:
      'Si efectivamente Usted envió la solicitud, haga click en el siguiente link para activar el cambio de contraseña:',
    help: 'Clickear en el link y lo llevará a la pantalla de cambio de contraseña o copiar y pegar el link en un navegador.',
    validity: `El link vence en ${input.minutes} minutos y sirve una sola vez.`,
    ignore:
      'Si Usted no ha solicitado una nueva contraseña por favor no tome en cuenta este correo; su contraseña no cambiará. En caso que haya recibido varias notificaciones como ésta, por favor contáctese con Atención al Usuario al CALL CENTER 144.',
    signature: 'Atentamente, Autogestión',
  };
  const text = [
    lines.greeting,
    '',
    lines.action,
    '',
    input.link,
    '',
    lines.help,
    lines.validity,
    '',
    lines.ignore,
    '',
    lines.signature,
  ].join('\n');
  const body = html`<p style="margin:0 0 16px;">${lines.greeting}</p>
<p style="margin:0 0 8px;">${lines.action}</p>
${emailButton(input.link, 'Cambiar mi contraseña')}
<p style="margin:0 0 16px;font-size:15px;word-break:break-all;"><a href="${input.link}" style="color:#7a0c23;">${input.link}</a></p>
<p style="margin:0 0 16px;">${lines.help} <strong>${lines.validity}</strong></p>
<p style="margin:0 0 16px;">${lines.ignore}</p>
<p style="margin:0;">${lines.signature}</p>`;
  return {
    subject: PASSWORD_REQUEST_SUBJECT,
    text,
    html: emailLayout(PASSWORD_REQUEST_SUBJECT, body),
  };
}
