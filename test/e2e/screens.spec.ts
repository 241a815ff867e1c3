// The other screens and states a member meets, on a phone and on a desktop,
// saved as full-page screenshots in .tmp/screenshots/ for a person to look
// at (the login and home pages are saved by the accessibility tests in
// login.spec.ts). Each look also checks that nothing is wider than the
// screen and, through the fixtures, that the console shows no error or CSP
// violation.
import { DEMO_MEMBER, expect, expectNoAccessibilityViolations, lookAt, test } from './fixtures.ts';

test.describe('Pantallas', () => {
  test('ingreso: «Ir al contenido», sin tildar «No soy un robot», y la contraseña a la vista', async ({
    page,
  }) => {
    await page.goto('/');
    await page.keyboard.press('Tab');
    await expect(page.getByRole('link', { name: 'Ir al contenido' })).toBeFocused();
    await lookAt(page, 'login-skip-link');

    const password = page.getByLabel('Contraseña', { exact: true });
    await page.getByLabel('Usuario').fill(DEMO_MEMBER.document);
    await password.fill(DEMO_MEMBER.password);
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
    await expect(page.getByRole('alert')).toHaveText('Revise el dato marcado en rojo.');
    await expect(
      page.getByText('Marque la casilla «No soy un robot» para continuar.'),
    ).toBeVisible();
    // The keyboard's way to the box: from the password, past the eye.
    await password.focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeFocused();
    await lookAt(page, 'login-captcha-error');

    await password.fill(DEMO_MEMBER.password);
    await page.getByRole('button', { name: 'Mostrar contraseña' }).click();
    await expect(password).toHaveAttribute('type', 'text');
    await page.getByText('No soy un robot', { exact: true }).click();
    await expect(page.getByRole('checkbox', { name: 'Verificado' })).toBeChecked();
    // Ticked: the warning beside the box goes (the summary stays until the next try).
    await expect(
      page.locator('#captcha').getByText('Marque la casilla «No soy un robot» para continuar.'),
    ).toBeHidden();
    await lookAt(page, 'login-revealed');
  });

  test('página no encontrada', async ({ page }) => {
    const response = await page.goto('/no-existe');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Página no encontrada' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'Ir al inicio de sesión' })).toBeVisible();
    await lookAt(page, 'not-found');
    await expectNoAccessibilityViolations(page);
  });

  test('¿Olvidaste tu contraseña?, vacía y con errores', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('link', { name: '¿Olvidaste tu contraseña?' }).click();
    await expect(page.getByRole('heading', { name: '¿Olvidaste tu contraseña?' })).toBeVisible();
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
    await lookAt(page, 'recovery');

    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(page.getByRole('alert')).toBeVisible();
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
    await lookAt(page, 'recovery-errors');
    await expectNoAccessibilityViolations(page);
  });

  test('¿No estás registrado?', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('link', { name: '¿No estás registrado?' }).click();
    await expect(page.getByRole('heading', { name: '¿No estás registrado?' })).toBeVisible();
    await lookAt(page, 'registration');
  });

  test('cambiar contraseña sin un link válido', async ({ page }) => {
    await page.goto('/cambiar-contrasena');
    await expect(page.getByRole('heading', { name: 'Cambiar contraseña' })).toBeVisible();
    await lookAt(page, 'change-password-invalid');
  });

  test.describe('sin JavaScript', () => {
    test.use({ javaScriptEnabled: false });

    test('ingreso', async ({ page }) => {
      await page.goto('/');
      await expect(
        page.getByText('La verificación «No soy un robot» necesita JavaScript.'),
      ).toBeVisible();
      await lookAt(page, 'login-no-js');
    });
  });
});
