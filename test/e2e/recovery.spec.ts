// Manual, step 1.2 "Si no recuerda su contraseña", by SMS: the member asks
// for a code on «¿Olvidaste tu contraseña?», receives it through the real SMS
// gateway (the mail catcher), types a wrong one and then the right one,
// chooses a new password and logs in with it. Every screen is checked with
// axe and saved to .tmp/screenshots/ for a person to look at.
import { codeIn } from '../support/sms-gateway.ts';
import {
  containing,
  expect,
  expectNoAccessibilityViolations,
  fillLogin,
  lookAt,
  test,
  tickNotARobot,
} from './fixtures.ts';
import { Inbox } from './inbox.ts';
import { type E2eMember, memberFor, SMS_RECOVERY_MEMBERS } from './members.ts';

const SMS_SENT = 'Ingrese el código que le hemos enviado en un sms a su número de celular.';
const CODE_INVALID =
  'El código no es correcto o ya venció. Revíselo, o vuelva atrás y solicite un código nuevo.';
const PASSWORD_RULE =
  'La nueva contraseña debe tener entre 6 y 10 caracteres conteniendo números y/o letras (al menos un número)';
const LOGIN_FAILED = 'El documento o la contraseña no son correctos. Revíselos e intente de nuevo.';

/** The notice on «Cambiar contraseña»: first name, last name's initial, last three digits. */
function holderNotice(member: E2eMember): string {
  const masked = `${member.firstName} ${member.lastName.charAt(0)}., documento ***${member.document.slice(-3)}`;
  return `Está cambiando la contraseña de ${masked}. Si no es su cuenta, no continúe y cierre esta página.`;
}

test.describe('¿Olvidaste tu contraseña? (manual 1.2)', () => {
  test('por SMS: el socio ingresa el código recibido, elige una contraseña nueva y entra con ella', async ({
    page,
    baseURL,
  }, testInfo) => {
    const member = memberFor(SMS_RECOVERY_MEMBERS, testInfo.project.name);
    const phone = await Inbox.open(member.mobile);
    const mailbox = await Inbox.open(member.email);

    await page.goto('/');
    await page.getByRole('link', { name: '¿Olvidaste tu contraseña?' }).click();
    await expect(page.getByRole('heading', { name: '¿Olvidaste tu contraseña?' })).toBeVisible();
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
    await lookAt(page, 'recovery-request');
    await expectNoAccessibilityViolations(page);

    await page.getByLabel('N° de Socio o Cédula de Identidad').fill(member.document);
    await page.getByLabel('Recibir vía sms').check();
    await tickNotARobot(page);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();

    // "este código Deberá ingresarlo en el espacio que se habilitará en la pantalla"
    await expect(page.getByRole('status')).toHaveText(SMS_SENT);
    const code = page.getByLabel('Código', { exact: true });
    await expect(code).toBeVisible();
    await expect(code).toHaveAttribute('placeholder', 'Ingrese el código que le enviamos');
    await expect(page.getByRole('link', { name: 'VOLVER' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'CONFIRMAR' })).toBeVisible();
    await lookAt(page, 'recovery-code');
    await expectNoAccessibilityViolations(page);

    const sms = await phone.nextSms();
    const rightCode = codeIn(sms);
    const wrongCode = String((Number(rightCode) + 1) % 1_000_000).padStart(6, '0');

    await code.fill(wrongCode);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    // The summary points at the field; the message itself stands next to it, once.
    await expect(page.getByRole('alert')).toHaveText('Revise el dato marcado en rojo.');
    await expect(page.getByText(CODE_INVALID)).toHaveCount(1);
    await expect(code).toHaveAttribute('aria-invalid', 'true');
    await expect(code).toHaveAccessibleDescription(CODE_INVALID);
    await lookAt(page, 'recovery-code-error');
    await expectNoAccessibilityViolations(page);

    await code.fill(rightCode);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(page.getByRole('heading', { name: 'Cambiar contraseña' })).toBeVisible();
    await expect(page).toHaveURL(`${baseURL}/cambiar-contrasena`);
    await expect(page.getByText(PASSWORD_RULE)).toBeVisible();
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
    // The page says whose password it sets, masked, so a link or code of
    // someone else's account is recognised before it is used.
    const holder = page.getByText('Está cambiando la contraseña de');
    await expect(holder).toBeVisible();
    await expect(holder).toHaveText(holderNotice(member));
    await expect(page.getByText(member.lastName)).toHaveCount(0);
    await expect(page.getByText(member.document)).toHaveCount(0);
    await lookAt(page, 'recovery-change-password');
    await expectNoAccessibilityViolations(page);

    // A password everybody tries first is refused, with the reason at the field.
    const password = page.getByLabel('Nueva contraseña', { exact: true });
    const confirmation = page.getByLabel('Repita contraseña', { exact: true });
    await password.fill('abc123');
    await confirmation.fill('abc123');
    await tickNotARobot(page);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(password).toHaveAttribute('aria-invalid', 'true');
    await expect(password).toHaveAccessibleDescription(
      containing('Esa contraseña es muy común y fácil de adivinar. Elija otra.'),
    );
    await expect(page.getByText('Está cambiando la contraseña de')).toHaveText(
      holderNotice(member),
    );
    await lookAt(page, 'recovery-change-password-errors');
    await expectNoAccessibilityViolations(page);

    await password.fill(member.newPassword);
    await confirmation.fill(member.newPassword);
    await tickNotARobot(page);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(page.getByRole('status')).toHaveText('Contraseña modificada correctamente');
    await expectNoAccessibilityViolations(page);

    const changed = await mailbox.nextEmail('Su contraseña fue modificada');
    expect(changed.text).toContain('con el código que le enviamos por SMS');

    await page.getByRole('link', { name: 'VOLVER' }).click();
    await expect(
      page.getByRole('heading', { name: 'Bienvenido al Portal del Socio' }),
    ).toBeVisible();
    // The forgotten password no longer opens the account; the new one does.
    await fillLogin(page, member.document, member.password ?? '');
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
    await expect(page.getByRole('alert')).toHaveText(LOGIN_FAILED);
    await fillLogin(page, member.document, member.newPassword);
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
    await expect(page.getByRole('heading', { name: `Hola, ${member.firstName}` })).toBeVisible();
  });
});
