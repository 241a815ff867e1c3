// Manual, step 1.3 "Si no tiene contraseña": a member of the registry
// without a password follows «¿No estás registrado?», gets the email
// «Solicitud nueva contraseña» through real SMTP (the mail catcher), opens
// its link, chooses a password and logs in with it. Every screen is checked
// with axe and saved to .tmp/screenshots/ for a person to look at.
import {
  containing,
  expect,
  expectNoAccessibilityViolations,
  expectRed,
  fillLogin,
  lookAt,
  test,
  tickNotARobot,
} from './fixtures.ts';
import { Inbox, linkIn } from './inbox.ts';
import { memberFor, REGISTRATION_MEMBERS } from './members.ts';

const EMAIL_SENT =
  'Le hemos enviado en un e-mail a su casilla de correo predeterminada para confirmar el cambio de PIN.';
const PASSWORD_RULE =
  'La nueva contraseña debe tener entre 6 y 10 caracteres conteniendo números y/o letras (al menos un número)';
const LINK_USED =
  'El link para cambiar la contraseña venció o ya fue usado. Solicite uno nuevo con «¿Olvidaste tu contraseña?».';

test.describe('¿No estás registrado? (manual 1.3)', () => {
  test('el socio sin contraseña pide el email, abre el link, elige su contraseña y entra con ella', async ({
    page,
    baseURL,
  }, testInfo) => {
    const member = memberFor(REGISTRATION_MEMBERS, testInfo.project.name);
    const mailbox = await Inbox.open(member.email);

    await page.goto('/');
    await page.getByRole('link', { name: '¿No estás registrado?' }).click();
    await expect(page.getByRole('heading', { name: '¿No estás registrado?' })).toBeVisible();
    await expect(
      page.getByText(
        'Debe ingresar N° de socio o cédula de identidad sin barra ni dígito verificador',
      ),
    ).toBeVisible();
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
    await lookAt(page, 'registration-request');
    await expectNoAccessibilityViolations(page);

    await page.getByLabel('N° de Socio o Cédula de Identidad').fill(member.document);
    await page.getByLabel('Recibir vía email').check();
    await tickNotARobot(page);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();

    // "aparecerá una leyenda en rojo indicando que el correo electrónico fue enviado"
    const notice = page.getByRole('status').filter({ hasText: EMAIL_SENT });
    await expect(notice).toBeVisible();
    await expectRed(notice.getByText(EMAIL_SENT));
    // As in the manual, only VOLVER: sending again would replace the link just sent.
    await expect(page.getByRole('link', { name: 'VOLVER' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'CONFIRMAR' })).toHaveCount(0);
    await lookAt(page, 'registration-email-sent');
    await expectNoAccessibilityViolations(page);

    const request = await mailbox.nextEmail('Solicitud nueva contraseña');
    expect(request.from).toMatch(/^"?Autogestión"? </);
    expect(request.text).toContain(
      'Estimado/a Afiliado/a: hemos recibido su solicitud para obtener una nueva contraseña.',
    );
    expect(request.text).toContain(
      'Si Usted no ha solicitado una nueva contraseña por favor no tome en cuenta este correo',
    );
    const link = linkIn(request);
    expect(link).toMatch(
      new RegExp(`^${containing(`${baseURL}/cambiar-contrasena?token=`).source}[A-Za-z0-9_-]{43}$`),
    );
    expect(request.html).toContain(`href="${link}"`);

    // The member clicks the link in their mail client.
    await page.goto(link);
    await expect(page.getByRole('heading', { name: 'Cambiar contraseña' })).toBeVisible();
    // The token leaves the address bar (history, screenshots, Referer).
    await expect(page).toHaveURL(`${baseURL}/cambiar-contrasena`);
    await expect(page.getByText(PASSWORD_RULE)).toBeVisible();
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
    await lookAt(page, 'registration-change-password');
    await expectNoAccessibilityViolations(page);

    // A password against the rules, and a confirmation that differs.
    const password = page.getByLabel('Nueva contraseña', { exact: true });
    const confirmation = page.getByLabel('Repita contraseña', { exact: true });
    await password.fill('abc');
    await confirmation.fill('abd');
    await tickNotARobot(page);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(page.getByRole('alert')).toContainText(
      'La contraseña elegida no cumple las reglas. Revise lo indicado.',
    );
    await expect(password).toHaveAttribute('aria-invalid', 'true');
    await expect(password).toHaveAccessibleDescription(
      containing('La contraseña debe tener entre 6 y 10 caracteres.'),
    );
    await expect(confirmation).toHaveAttribute('aria-invalid', 'true');
    await expect(confirmation).toHaveAccessibleDescription(
      'Las contraseñas no coinciden. Escriba la misma contraseña en los dos campos.',
    );
    await expect(page.getByText(PASSWORD_RULE)).toBeVisible();
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
    await lookAt(page, 'registration-change-password-errors');
    await expectNoAccessibilityViolations(page);

    await password.fill(member.newPassword);
    await confirmation.fill(member.newPassword);
    await tickNotARobot(page);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(page.getByRole('status')).toHaveText('Contraseña modificada correctamente');
    await lookAt(page, 'registration-password-changed');
    await expectNoAccessibilityViolations(page);

    const changed = await mailbox.nextEmail('Su contraseña fue modificada');
    expect(changed.text).toContain('con el link que le enviamos por email');

    // "Deberá indicar «volver» de esta manera lo llevará nuevamente a la pantalla de inicio de sesión"
    await page.getByRole('link', { name: 'VOLVER' }).click();
    await expect(
      page.getByRole('heading', { name: 'Bienvenido al Portal del Socio' }),
    ).toBeVisible();
    await fillLogin(page, member.document, member.newPassword);
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
    await expect(page.getByRole('heading', { name: `Hola, ${member.firstName}` })).toBeVisible();
    await expect(page.getByRole('main')).toContainText(
      new RegExp(`N° de socio\\s*${member.memberNumber}`),
    );

    // The link served once.
    await page.goto(link);
    await expect(page.getByRole('alert')).toHaveText(LINK_USED);
  });
});
