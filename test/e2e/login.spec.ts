// Manual, step 1.1 "Si tiene y recuerda su contraseña": the member types the
// document and the password, ticks «No soy un robot» and presses «INICIAR
// SESIÓN». Everything is found by its visible Spanish text, as a member would.
import type { Locator } from '@playwright/test';
import {
  DEMO_MEMBER,
  expect,
  expectNoAccessibilityViolations,
  fillLogin,
  lookAt,
  test,
  tickNotARobot,
} from './fixtures.ts';

const GENERIC_FAILURE =
  'El documento o la contraseña no son correctos. Revíselos e intente de nuevo.';

test.describe('Ingreso al Portal del Socio', () => {
  test('el socio ingresa con documento, contraseña y «No soy un robot», y cierra sesión', async ({
    page,
  }) => {
    await page.goto('/');
    await expect(
      page.getByRole('heading', { name: 'Bienvenido al Portal del Socio' }),
    ).toBeVisible();
    await expect(
      page.getByText('Ingresá con tu N° de documento sin barra, sin puntos ni dígito verificador.'),
    ).toBeVisible();

    await fillLogin(page, DEMO_MEMBER.document, DEMO_MEMBER.password);
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();

    await expect(
      page.getByRole('heading', { name: `Hola, ${DEMO_MEMBER.firstName}` }),
    ).toBeVisible();
    await expect(page.getByRole('main')).toContainText(
      new RegExp(`N° de socio\\s*${DEMO_MEMBER.memberNumber}`),
    );

    await page.getByRole('button', { name: 'Cerrar sesión' }).click();
    await expect(
      page.getByRole('heading', { name: 'Bienvenido al Portal del Socio' }),
    ).toBeVisible();
    await expect(page.getByRole('status')).toHaveText('Cerró su sesión. ¡Hasta pronto!');

    // The session is really gone: the home page sends the member back to the login.
    await page.goto('/inicio');
    await expect(
      page.getByRole('heading', { name: 'Bienvenido al Portal del Socio' }),
    ).toBeVisible();
  });

  test('una contraseña equivocada muestra un único mensaje que no dice qué dato falló', async ({
    page,
  }) => {
    await page.goto('/');
    await fillLogin(page, DEMO_MEMBER.document, 'otra2026');
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();

    const alert = page.getByRole('alert');
    await expect(alert).toHaveText(GENERIC_FAILURE);
    await expect(alert).toBeFocused();
    await expect(page.getByLabel('Usuario')).toHaveValue(DEMO_MEMBER.document);
    await expect(page.getByLabel('Contraseña', { exact: true })).toHaveValue('');
  });

  test('un documento que no existe recibe el mismo mensaje', async ({ page }) => {
    await page.goto('/');
    await fillLogin(page, '7654321', DEMO_MEMBER.password);
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();

    await expect(page.getByRole('alert')).toHaveText(GENERIC_FAILURE);
  });

  test('el ojo muestra la contraseña escrita y la vuelve a ocultar', async ({ page }) => {
    await page.goto('/');
    const password = page.getByLabel('Contraseña', { exact: true });
    const eye = page.getByRole('button', { name: 'Mostrar contraseña' });
    await password.fill(DEMO_MEMBER.password);

    await expect(password).toHaveAttribute('type', 'password');
    await expect(eye).toHaveAttribute('aria-pressed', 'false');

    await eye.click();
    await expect(eye).toHaveAttribute('aria-pressed', 'true');
    await expect(password).toHaveAttribute('type', 'text');
    await expect(password).toHaveValue(DEMO_MEMBER.password);

    await eye.click();
    await expect(eye).toHaveAttribute('aria-pressed', 'false');
    await expect(password).toHaveAttribute('type', 'password');
  });

  test('solo con el teclado: «Ir al contenido», los campos, el ojo, la verificación, el botón y los enlaces', async ({
    page,
  }) => {
    await page.goto('/');
    // The widget is ready when its checkbox is on the page.
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();

    await page.keyboard.press('Tab');
    const skipLink = page.getByRole('link', { name: 'Ir al contenido' });
    await expect(skipLink).toBeFocused();
    await expect(skipLink).toBeInViewport();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('main')).toBeFocused();

    const document = page.getByLabel('Usuario');
    const password = page.getByLabel('Contraseña', { exact: true });
    const eye = page.getByRole('button', { name: 'Mostrar contraseña' });
    const notARobot = page.getByRole('checkbox', { name: 'No soy un robot' });
    const logIn = page.getByRole('button', { name: 'INICIAR SESIÓN' });

    await page.keyboard.press('Tab');
    await expectVisibleFocus(document);
    await page.keyboard.type(DEMO_MEMBER.document);
    await page.keyboard.press('Tab');
    await expectVisibleFocus(password);
    await page.keyboard.type(DEMO_MEMBER.password);
    await page.keyboard.press('Tab');
    await expectVisibleFocus(eye);
    await page.keyboard.press('Tab');
    await expectVisibleFocus(notARobot);
    await page.keyboard.press('Space');
    await expect(page.getByRole('checkbox', { name: 'Verificado' })).toBeChecked();
    await page.keyboard.press('Tab');
    await expectVisibleFocus(logIn);
    await page.keyboard.press('Tab');
    await expectVisibleFocus(page.getByRole('link', { name: '¿Olvidaste tu contraseña?' }));
    await page.keyboard.press('Tab');
    await expectVisibleFocus(page.getByRole('link', { name: '¿No estás registrado?' }));
    await page.keyboard.press('Tab');
    await expectVisibleFocus(page.getByRole('link', { name: 'Tengo un código de activación' }));
    await page.keyboard.press('Tab');
    await expectVisibleFocus(page.getByRole('link', { name: 'CALL CENTER 144' }));

    // Back to the button, and in.
    for (let i = 0; i < 4; i += 1) await page.keyboard.press('Shift+Tab');
    await expect(logIn).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(
      page.getByRole('heading', { name: `Hola, ${DEMO_MEMBER.firstName}` }),
    ).toBeVisible();
  });

  test.describe('sin JavaScript', () => {
    test.use({ javaScriptEnabled: false });

    test('la página muestra el formulario y avisa que «No soy un robot» necesita JavaScript', async ({
      page,
    }) => {
      await page.goto('/');
      await expect(
        page.getByRole('heading', { name: 'Bienvenido al Portal del Socio' }),
      ).toBeVisible();
      await expect(page.getByLabel('Usuario')).toBeVisible();
      await expect(page.getByLabel('Contraseña', { exact: true })).toBeVisible();
      await expect(
        page.getByText('La verificación «No soy un robot» necesita JavaScript.'),
      ).toBeVisible();
      // The eye needs JavaScript: without it there is no button that does nothing.
      await expect(page.getByRole('button', { name: 'Mostrar contraseña' })).toBeHidden();

      // The form still posts, and the answer says what is missing.
      await page.getByLabel('Usuario').fill(DEMO_MEMBER.document);
      await page.getByLabel('Contraseña', { exact: true }).fill(DEMO_MEMBER.password);
      await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
      await expect(page.getByRole('alert')).toContainText('Revise el dato marcado en rojo.');
      await expect(
        page.getByText('Marque la casilla «No soy un robot» para continuar.'),
      ).toBeVisible();
    });
  });

  test('la aplicación móvil ingresa por la API con la verificación que resolvió el navegador', async ({
    page,
  }) => {
    await page.goto('/');
    await tickNotARobot(page);
    const captcha = await page.locator('input[name="altcha"]').inputValue();
    expect(captcha).not.toBe('');

    const login = await page.request.post('/api/v1/login', {
      data: { document: DEMO_MEMBER.document, password: DEMO_MEMBER.password, captcha },
    });
    expect(login.status()).toBe(200);
    const { token, member } = (await login.json()) as {
      token: string;
      member: { firstName: string; memberNumber: string };
    };
    expect(member).toMatchObject({
      firstName: DEMO_MEMBER.firstName,
      memberNumber: DEMO_MEMBER.memberNumber,
    });
    const me = await page.request.get('/api/v1/me', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(me.status()).toBe(200);

    // A solved «No soy un robot» counts once: the same proof is refused the second time.
    const replay = await page.request.post('/api/v1/login', {
      data: { document: DEMO_MEMBER.document, password: DEMO_MEMBER.password, captcha },
    });
    expect(replay.status()).toBe(400);
  });
});

test.describe('Accesibilidad (WCAG 2.2 AA)', () => {
  test('la página de ingreso, vacía y con los errores de un envío incompleto', async ({ page }) => {
    await page.goto('/');
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
    await lookAt(page, 'login');
    await expectNoAccessibilityViolations(page);

    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
    await expect(page.getByRole('alert')).toBeVisible();
    await expect(page.getByLabel('Usuario')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
    await lookAt(page, 'login-errors');
    await expectNoAccessibilityViolations(page);
  });

  test('la página de inicio del socio', async ({ page }) => {
    await page.goto('/');
    await fillLogin(page, DEMO_MEMBER.document, DEMO_MEMBER.password);
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
    await expect(
      page.getByRole('heading', { name: `Hola, ${DEMO_MEMBER.firstName}` }),
    ).toBeVisible();
    await lookAt(page, 'home');
    await expectNoAccessibilityViolations(page);
  });
});

/** Focused, and the focus can be seen: a solid outline of at least 2 px. */
async function expectVisibleFocus(locator: Locator): Promise<void> {
  await expect(locator).toBeFocused();
  await expect(locator).toHaveCSS('outline-style', 'solid');
  const width = await locator.evaluate((e) => Number.parseFloat(getComputedStyle(e).outlineWidth));
  expect(width).toBeGreaterThanOrEqual(2);
}
