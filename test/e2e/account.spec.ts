// The member home, «Mi cuenta» (SPEC §2.5): a member who logged in with the
// real «No soy un robot» sees their sessions and closes another device's,
// changes the password, proves a new mobile with the code the real SMS
// gateway delivered, and reads the recent activity. Each journey has a
// member of its own (members.ts, ACCOUNT_MEMBERS), and every page is checked
// with axe and saved to .tmp/screenshots/ for a person to look at.
import type { Browser, BrowserContext, Locator, Page, TestInfo } from '@playwright/test';
import { codeIn } from '../support/sms-gateway.ts';
import {
  containing,
  expect,
  expectNoAccessibilityViolations,
  fillLogin,
  lookAt,
  test,
} from './fixtures.ts';
import { Inbox, linkIn } from './inbox.ts';
import {
  ACCOUNT_MEMBERS,
  ACCOUNT_NEW_MOBILES,
  type AccountJourney,
  type E2eMember,
  type ProjectName,
} from './members.ts';

const LOGIN_HEADING = 'Bienvenido al Portal del Socio';
const LOGIN_FAILED = 'El documento o la contraseña no son correctos. Revíselos e intente de nuevo.';
const PASSWORD_CHANGED = 'Contraseña modificada correctamente. Sus otras sesiones se cerraron.';
const CONTACT_CHANGED = 'Sus datos de contacto se actualizaron.';

/** The running project, 'phone' or 'desktop'. */
function projectOf(testInfo: TestInfo): ProjectName {
  const name = testInfo.project.name;
  if (name !== 'phone' && name !== 'desktop') throw new Error(`no e2e members for "${name}"`);
  return name;
}

/** The project's member for one journey, with the password they log in with. */
function accountMember(
  journey: AccountJourney,
  testInfo: TestInfo,
): E2eMember & { password: string } {
  const member = ACCOUNT_MEMBERS[projectOf(testInfo)][journey];
  if (member.password === null) throw new Error(`${member.document} has no password`);
  return { ...member, password: member.password };
}

/** "09*****777": a mobile stored as +5989XXXXXXX, as «Mi cuenta» shows it. */
function masked(mobile: string): string {
  return `09*****${mobile.slice(-3)}`;
}

/** "n***@example.org": an email as «Mi cuenta» shows it. */
function maskedEmail(email: string): string {
  return `${email.charAt(0)}***${email.slice(email.indexOf('@'))}`;
}

/** "098 410 777": a mobile as a member types it. */
function national(mobile: string): string {
  const digits = `0${mobile.slice(4)}`;
  return `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}`;
}

/** Logs in from the login page as a member would, and waits for «Mi cuenta». */
async function logIn(page: Page, member: E2eMember, password: string): Promise<void> {
  await page.goto('/');
  await fillLogin(page, member.document, password);
  await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
  await expect(page.getByRole('heading', { name: `Hola, ${member.firstName}` })).toBeVisible();
}

/** A second browser, with the project's screen and language but no cookie of the first. */
async function anotherBrowser(browser: Browser, testInfo: TestInfo): Promise<BrowserContext> {
  const use = testInfo.project.use;
  return browser.newContext({
    baseURL: use.baseURL,
    locale: use.locale,
    timezoneId: use.timezoneId,
    viewport: use.viewport,
    isMobile: use.isMobile,
    hasTouch: use.hasTouch,
    deviceScaleFactor: use.deviceScaleFactor,
  });
}

/** A menu entry of «Mi cuenta», opened by its visible name. */
async function openFromHome(page: Page, entry: string): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Opciones de su cuenta' })
    .getByRole('link', { name: entry })
    .click();
  await expect(page.getByRole('heading', { name: entry, level: 1 })).toBeVisible();
}

/** One of the two forms of «Datos de contacto», by its heading. */
function contactForm(page: Page, heading: 'Cambiar celular' | 'Cambiar email'): Locator {
  return page.locator('form').filter({ has: page.getByRole('heading', { name: heading }) });
}

test.describe('Mi cuenta (SPEC §2.5)', () => {
  test('sesiones activas: el socio ve sus dos sesiones, cierra la del otro navegador y allí debe ingresar de nuevo', async ({
    page,
    browser,
  }, testInfo) => {
    const member = accountMember('sessions', testInfo);
    const elsewhere = await anotherBrowser(browser, testInfo);
    try {
      const otherPage = await elsewhere.newPage();
      await logIn(otherPage, member, member.password);
      await logIn(page, member, member.password);

      await openFromHome(page, 'Sesiones activas');
      const sessions = page.getByRole('main').getByRole('listitem');
      await expect(sessions).toHaveCount(2);
      const current = sessions.filter({ hasText: 'Esta sesión' });
      const other = sessions.filter({ hasNotText: 'Esta sesión' });
      await expect(current).toHaveCount(1);
      await expect(other).toHaveCount(1);
      await expect(current.getByRole('button', { name: /^Cerrar/ })).toHaveCount(0);
      await expect(other).toContainText('Último uso:');
      await lookAt(page, 'account-sessions');
      await expectNoAccessibilityViolations(page);

      await other.getByRole('button', { name: /^Cerrar/ }).click();
      await expect(page.getByRole('status')).toHaveText('La sesión se cerró.');
      await expect(sessions).toHaveCount(1);
      await expect(sessions).toContainText('Esta sesión');
      await expect(page.getByText('No hay otras sesiones abiertas.')).toBeVisible();
      await expectNoAccessibilityViolations(page);

      // The other browser's session is over: its next page is the login.
      await otherPage.reload();
      await expect(otherPage.getByRole('heading', { name: LOGIN_HEADING })).toBeVisible();
      await otherPage.goto('/inicio');
      await expect(otherPage.getByRole('heading', { name: LOGIN_HEADING })).toBeVisible();

      // This one goes on.
      await page.getByRole('link', { name: 'Volver a Mi cuenta' }).click();
      await expect(page.getByRole('heading', { name: `Hola, ${member.firstName}` })).toBeVisible();
    } finally {
      await elsewhere.close();
    }
  });

  test('cambiar contraseña: con la actual y la nueva dos veces, llega el aviso por email y se ingresa con la nueva', async ({
    page,
  }, testInfo) => {
    const member = accountMember('password', testInfo);
    const mailbox = await Inbox.open(member.email);
    await logIn(page, member, member.password);

    await openFromHome(page, 'Cambiar contraseña');
    await lookAt(page, 'account-password');
    await expectNoAccessibilityViolations(page);

    await page.getByLabel('Contraseña actual', { exact: true }).fill(member.password);
    await page.getByLabel('Nueva contraseña', { exact: true }).fill(member.newPassword);
    await page.getByLabel('Repita contraseña', { exact: true }).fill(member.newPassword);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(page.getByRole('status')).toHaveText(PASSWORD_CHANGED);
    await lookAt(page, 'account-password-done');
    await expectNoAccessibilityViolations(page);

    const notice = await mailbox.nextEmail('Su contraseña fue modificada');
    // Changed from «Mi cuenta», not with an emailed link or an SMS code.
    expect(notice.text).toContain('desde su sesión en el Portal del Socio');

    // This session went on under a new id; out, and in again with the new password only.
    await page.getByRole('link', { name: 'Volver a Mi cuenta' }).click();
    await page.getByRole('button', { name: 'Cerrar sesión' }).click();
    await expect(page.getByRole('status')).toHaveText('Cerró su sesión. ¡Hasta pronto!');
    await fillLogin(page, member.document, member.password);
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
    await expect(page.getByRole('alert')).toHaveText(LOGIN_FAILED);
    await fillLogin(page, member.document, member.newPassword);
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
    await expect(page.getByRole('heading', { name: `Hola, ${member.firstName}` })).toBeVisible();
  });

  test('cambiar celular: el código llega por SMS al número nuevo, y con él queda registrado', async ({
    page,
  }, testInfo) => {
    const member = accountMember('contact', testInfo);
    const newMobile = ACCOUNT_NEW_MOBILES[projectOf(testInfo)];
    const newPhone = await Inbox.open(newMobile);
    const oldPhone = await Inbox.open(member.mobile);
    await logIn(page, member, member.password);
    await expect(page.getByRole('main')).toContainText(masked(member.mobile));

    await openFromHome(page, 'Datos de contacto');
    await expect(page.getByRole('main')).toContainText(masked(member.mobile));
    const mobileForm = contactForm(page, 'Cambiar celular');
    await mobileForm.getByLabel('Nuevo celular').fill(national(newMobile));
    await mobileForm.getByLabel('Contraseña actual', { exact: true }).fill(member.password);
    await mobileForm.getByRole('button', { name: 'ENVIAR' }).click();

    await expect(page.getByRole('status')).toHaveText(
      `Le enviamos un código por SMS a ${masked(newMobile)}. Ingréselo para confirmar el cambio; vence en 10 minutos.`,
    );
    const code = page.getByLabel('Código', { exact: true });
    await expect(code).toBeVisible();
    // Until the code is typed, the registered mobile is still the old one.
    await expect(page.getByRole('main')).toContainText(masked(member.mobile));
    await lookAt(page, 'account-contact-code');
    await expectNoAccessibilityViolations(page);

    const sms = await newPhone.nextSms();
    await code.fill(codeIn(sms));
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(page.getByRole('status')).toHaveText(CONTACT_CHANGED);
    await expect(page.getByRole('main')).toContainText(masked(newMobile));
    await expect(page.getByRole('main')).not.toContainText(masked(member.mobile));
    await lookAt(page, 'account-contact-done');
    await expectNoAccessibilityViolations(page);

    // The old number is told, and «Mi cuenta» shows the new one.
    await oldPhone.nextSms();
    await page.getByRole('link', { name: 'Volver a Mi cuenta' }).click();
    await expect(page.getByRole('main')).toContainText(masked(newMobile));
  });

  test('cambiar email: el enlace llega al email nuevo, se confirma en su página y queda registrado', async ({
    page,
  }, testInfo) => {
    const member = accountMember('email', testInfo);
    const newEmail = `nuevo.${member.document}@example.org`;
    const newMailbox = await Inbox.open(newEmail);
    const oldMailbox = await Inbox.open(member.email);
    await logIn(page, member, member.password);
    await openFromHome(page, 'Datos de contacto');

    // Each form's fields answer to their own labels, and its eye shows its own password.
    const emailForm = contactForm(page, 'Cambiar email');
    const address = emailForm.getByRole('textbox', { name: 'Nuevo email', exact: true });
    const password = emailForm.getByLabel('Contraseña actual', { exact: true });
    await emailForm.getByText('Nuevo email', { exact: true }).click();
    await expect(address).toBeFocused();
    await address.fill(newEmail);
    await password.fill(member.password);
    await emailForm.getByRole('button', { name: 'Mostrar contraseña' }).click();
    await expect(password).toHaveAttribute('type', 'text');
    await expect(
      contactForm(page, 'Cambiar celular').getByLabel('Contraseña actual', { exact: true }),
    ).toHaveAttribute('type', 'password');
    await emailForm.getByRole('button', { name: 'ENVIAR' }).click();
    await expect(page.getByRole('status')).toHaveText(
      `Le enviamos un enlace a ${maskedEmail(newEmail)}. Ábralo para confirmar el cambio; vence en 30 minutos.`,
    );
    await expect(page.getByRole('main')).toContainText(maskedEmail(member.email));

    // The link asks first; only «CONFIRMAR» changes the email.
    const link = linkIn(await newMailbox.nextEmail('Confirme su nuevo email'));
    await page.goto(link);
    await expect(page.getByRole('heading', { name: 'Confirmar el nuevo email' })).toBeVisible();
    await expect(page.getByRole('main')).toContainText(
      `¿Confirma que ${maskedEmail(newEmail)} es su nuevo email?`,
    );
    await lookAt(page, 'account-confirm-email');
    await expectNoAccessibilityViolations(page);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(page.getByRole('status')).toHaveText(CONTACT_CHANGED);
    await expectNoAccessibilityViolations(page);

    // The old address is told, and «Mi cuenta» shows the new one.
    await oldMailbox.nextEmail('Sus datos de contacto fueron modificados');
    await page.goto('/inicio');
    await expect(page.getByRole('main')).toContainText(maskedEmail(newEmail));
  });

  test('actividad reciente: el ingreso aparece como «Ingreso correcto desde …»', async ({
    page,
  }, testInfo) => {
    const member = accountMember('activity', testInfo);
    await logIn(page, member, member.password);

    await openFromHome(page, 'Actividad reciente');
    const items = page.getByRole('main').getByRole('listitem');
    await expect(items.first()).toContainText(/Ingreso correcto desde \S/);
    await expect(items.filter({ hasText: 'Ingreso correcto desde' })).toHaveCount(1);
    // Each line says when, in Uruguay's time.
    await expect(items.first().locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);
    await expect(page.getByRole('main')).not.toContainText('desconocido');
    await lookAt(page, 'account-activity');
    await expectNoAccessibilityViolations(page);
  });

  test('cada página de Mi cuenta, vacía y con los errores de un envío incompleto, cumple WCAG 2.2 AA', async ({
    page,
  }, testInfo) => {
    const member = accountMember('pages', testInfo);
    await logIn(page, member, member.password);
    await lookAt(page, 'account-home');
    await expectNoAccessibilityViolations(page);

    await openFromHome(page, 'Cambiar contraseña');
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(page.getByRole('alert')).toBeVisible();
    await expect(page.getByLabel('Contraseña actual', { exact: true })).toHaveAttribute(
      'aria-invalid',
      'true',
    );
    await lookAt(page, 'account-password-errors');
    await expectNoAccessibilityViolations(page);

    await page.goto('/inicio');
    await openFromHome(page, 'Sesiones activas');
    await expect(page.getByText('Esta sesión')).toBeVisible();
    await lookAt(page, 'account-sessions-one');
    await expectNoAccessibilityViolations(page);

    await page.getByRole('link', { name: 'Volver a Mi cuenta' }).click();
    await openFromHome(page, 'Actividad reciente');
    await expectNoAccessibilityViolations(page);

    await page.getByRole('link', { name: 'Volver a Mi cuenta' }).click();
    await openFromHome(page, 'Datos de contacto');
    await lookAt(page, 'account-contact');
    await expectNoAccessibilityViolations(page);

    await contactForm(page, 'Cambiar celular').getByRole('button', { name: 'ENVIAR' }).click();
    await expect(page.getByRole('alert')).toBeVisible();
    await expect(
      contactForm(page, 'Cambiar celular').getByLabel('Nuevo celular', { exact: true }),
    ).toHaveAttribute('aria-invalid', 'true');
    await lookAt(page, 'account-contact-errors');
    await expectNoAccessibilityViolations(page);

    // The email form's errors stand at its own fields, and the summary leads there.
    const emailForm = contactForm(page, 'Cambiar email');
    const address = emailForm.getByLabel('Nuevo email', { exact: true });
    await address.fill('no-es-un-email');
    await emailForm.getByRole('button', { name: 'ENVIAR' }).click();
    await expect(address).toHaveAttribute('aria-invalid', 'true');
    await expect(address).toHaveAccessibleDescription(
      containing('Revise el email: debe tener la forma nombre@ejemplo.com.'),
    );
    await expect(emailForm.getByLabel('Contraseña actual', { exact: true })).toHaveAttribute(
      'aria-invalid',
      'true',
    );
    await expect(
      contactForm(page, 'Cambiar celular').getByLabel('Nuevo celular', { exact: true }),
    ).not.toHaveAttribute('aria-invalid', 'true');
    await page
      .getByRole('alert')
      .getByRole('link', { name: 'Revise el email: debe tener la forma nombre@ejemplo.com.' })
      .click();
    await expect(address).toBeFocused();
    await lookAt(page, 'account-contact-email-errors');
    await expectNoAccessibilityViolations(page);
  });
});
