// Passkeys (issue 14), «Llaves de acceso»: a member who logged in with the
// password creates one from «Mi cuenta», logs out and back in with
// «Ingresar con llave de acceso» alone (no document, no password, no «No soy
// un robot»), renames and removes it, and then it no longer logs in. The
// phone's fingerprint reader is Chromium's virtual authenticator (DevTools
// protocol), which answers at once as a member who touches the sensor.
// These journeys run on the portal addressed as http://localhost
// (playwright.config.ts): WebAuthn refuses an IP address as the site's name,
// which is why the default portal, on 127.0.0.1, shows no passkeys at all.
import type { Browser, BrowserContext, CDPSession, Page, TestInfo } from '@playwright/test';
import { expect, expectNoAccessibilityViolations, fillLogin, lookAt, test } from './fixtures.ts';
import { Inbox } from './inbox.ts';
import {
  type E2eMember,
  PASSKEY_MEMBERS,
  PASSKEYS_URL,
  type PasskeyJourney,
  type ProjectName,
} from './members.ts';

const LOGIN_HEADING = 'Bienvenido al Portal del Socio';
const PASSKEY_BUTTON = 'Ingresar con llave de acceso';
const CREATE_BUTTON = 'Crear llave de acceso';
const PAGE_TITLE = 'Llaves de acceso';
const NO_PASSKEYS = 'Todavía no tiene llaves de acceso.';
const LOGIN_CANCELLED =
  'No se usó ninguna llave de acceso: se canceló, pasó el tiempo o este dispositivo no tiene una llave de acceso para este portal. Intente de nuevo, o ingrese con su documento y contraseña.';
const CREATE_CANCELLED =
  'No se creó la llave de acceso: se canceló o pasó el tiempo. Puede intentar de nuevo.';
const ALREADY_ON_DEVICE =
  'Este dispositivo ya tiene una llave de acceso para su cuenta. Puede usarla para ingresar.';
const UNKNOWN_PASSKEY =
  'Esa llave de acceso no está registrada en el portal (puede haber sido eliminada). Ingrese con su documento y contraseña.';
const NEEDS_BROWSER =
  'Para crear una llave de acceso necesita un navegador actualizado con JavaScript activado, en un teléfono o computadora con huella, reconocimiento facial o bloqueo de pantalla.';
const PASSKEYS_OFF =
  'Este portal no tiene habilitadas las llaves de acceso. Puede seguir ingresando con su documento y contraseña.';
const CREATED = /^Se creó la llave de acceso “.+”\. Ya puede usarla para ingresar\.$/;

function projectOf(testInfo: TestInfo): ProjectName {
  const name = testInfo.project.name;
  if (name !== 'phone' && name !== 'desktop') throw new Error(`no e2e members for "${name}"`);
  return name;
}

function passkeyMember(
  journey: PasskeyJourney,
  testInfo: TestInfo,
): E2eMember & { password: string } {
  const member = PASSKEY_MEMBERS[projectOf(testInfo)][journey];
  if (member.password === null) throw new Error(`${member.document} has no password`);
  return { ...member, password: member.password };
}

/** A fingerprint reader with its own passkeys, as Chromium's DevTools protocol simulates one. */
interface Authenticator {
  cdp: CDPSession;
  id: string;
}

async function addAuthenticator(context: BrowserContext, page: Page): Promise<Authenticator> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, id: authenticatorId };
}

/** The member says no at the fingerprint prompt (or touches with another finger), or yes again. */
async function verifyUser(authenticator: Authenticator, verified: boolean): Promise<void> {
  await authenticator.cdp.send('WebAuthn.setUserVerified', {
    authenticatorId: authenticator.id,
    isUserVerified: verified,
  });
}

async function passkeysOn(authenticator: Authenticator) {
  const { credentials } = await authenticator.cdp.send('WebAuthn.getCredentials', {
    authenticatorId: authenticator.id,
  });
  return credentials;
}

/**
 * A browser that does not offer passkeys among a field's suggestions
 * (no conditional mediation): Chromium's virtual authenticator answers such
 * a request at once, which would log the member in before the button could
 * be pressed.
 */
async function withoutPasskeySuggestions(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    delete (globalThis.PublicKeyCredential as { isConditionalMediationAvailable?: unknown })
      .isConditionalMediationAvailable;
  });
}

/**
 * The portal's refusal of a passkey makes Chromium log "Failed to load
 * resource" for the script's call, besides the Spanish message the page
 * shows: expected for this call, so taken off the console watch of fixtures.ts.
 */
function allowRefusedCalls(problems: string[], path: string): void {
  for (let i = problems.length - 1; i >= 0; i -= 1) {
    const problem = problems[i] as string;
    if (problem.startsWith('error: Failed to load resource') && problem.endsWith(`${path})`))
      problems.splice(i, 1);
  }
}

async function logIn(page: Page, member: E2eMember & { password: string }): Promise<void> {
  await page.goto('/');
  await fillLogin(page, member.document, member.password);
  await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
  await expect(page.getByRole('heading', { name: `Hola, ${member.firstName}` })).toBeVisible();
}

async function logOut(page: Page): Promise<void> {
  await page.goto('/inicio');
  await page.getByRole('button', { name: 'Cerrar sesión' }).click();
  await expect(page.getByRole('heading', { name: LOGIN_HEADING })).toBeVisible();
}

async function openPasskeys(page: Page): Promise<void> {
  await page
    .getByRole('navigation', { name: 'Opciones de su cuenta' })
    .getByRole('link', { name: PAGE_TITLE })
    .click();
  await expect(page.getByRole('heading', { name: PAGE_TITLE, level: 1 })).toBeVisible();
}

/** The member's passkeys, one list item each. */
const passkeyItems = (page: Page) =>
  page.getByRole('list', { name: 'Sus llaves de acceso' }).getByRole('listitem');
/** The message next to the login button or the create button. */
const passkeyStatus = (page: Page) => page.locator('.passkey-status');
/** The page's notice after a rename, a removal or a new passkey. */
const notice = (page: Page) => page.locator('.alert-success');

/** A second browser with the project's screen and language. */
async function anotherBrowser(
  browser: Browser,
  testInfo: TestInfo,
  options: {
    javaScriptEnabled?: boolean;
    storageState?: Awaited<ReturnType<BrowserContext['storageState']>>;
  } = {},
): Promise<BrowserContext> {
  const use = testInfo.project.use;
  return browser.newContext({
    baseURL: PASSKEYS_URL,
    locale: use.locale,
    timezoneId: use.timezoneId,
    viewport: use.viewport,
    isMobile: use.isMobile,
    hasTouch: use.hasTouch,
    deviceScaleFactor: use.deviceScaleFactor,
    ...options,
  });
}

test.describe('Llaves de acceso (issue 14)', () => {
  test.use({ baseURL: PASSKEYS_URL });

  test('el socio crea una llave desde Mi cuenta, ingresa solo con ella, la renombra, la elimina y ya no le sirve', async ({
    page,
    context,
    consoleProblems,
  }, testInfo) => {
    const member = passkeyMember('journey', testInfo);
    await withoutPasskeySuggestions(context);
    const authenticator = await addAuthenticator(context, page);

    // The login page offers the button where the browser can use passkeys.
    await page.goto('/');
    const button = page.getByRole('button', { name: PASSKEY_BUTTON });
    await expect(button).toBeVisible();
    await lookAt(page, 'passkeys-login');
    await expectNoAccessibilityViolations(page);

    await logIn(page, member);
    await openPasskeys(page);
    await expect(page.getByText(NO_PASSKEYS)).toBeVisible();
    await lookAt(page, 'passkeys-empty');
    await expectNoAccessibilityViolations(page);

    // «Crear llave de acceso»: the fingerprint, and the new one in the list.
    const mailbox = await Inbox.open(member.email);
    await page.getByRole('button', { name: CREATE_BUTTON }).click();
    await expect(notice(page)).toHaveText(CREATED);
    const items = passkeyItems(page);
    await expect(items).toHaveCount(1);
    await expect(items).toContainText('Creada el');
    await expect(items).toContainText('Todavía no se usó');
    expect(await passkeysOn(authenticator)).toHaveLength(1);
    const created = await mailbox.nextEmail('Se agregó una llave de acceso a su cuenta');
    expect(created.text).toContain('Se agregó la llave de acceso');
    await lookAt(page, 'passkeys-created');
    await expectNoAccessibilityViolations(page);

    // This device holds one already: the browser refuses a second, in Spanish.
    await page.getByRole('button', { name: CREATE_BUTTON }).click();
    await expect(passkeyStatus(page)).toHaveText(ALREADY_ON_DEVICE);
    await expect(items).toHaveCount(1);
    await lookAt(page, 'passkeys-already-on-device');
    await expectNoAccessibilityViolations(page);

    // Rename: an empty name is refused next to its field, then «Mi teléfono».
    const name = items.getByRole('textbox', { name: 'Nombre', exact: true });
    await name.fill('');
    await items.getByRole('button', { name: /^Cambiar nombre/ }).click();
    await expect(page.getByRole('alert')).toBeVisible();
    await expect(items.getByText('Escriba un nombre para la llave de acceso.')).toBeVisible();
    await expect(name).toHaveAttribute('aria-invalid', 'true');
    await lookAt(page, 'passkeys-rename-error');
    await expectNoAccessibilityViolations(page);
    await name.fill('Mi teléfono');
    await items.getByRole('button', { name: /^Cambiar nombre/ }).click();
    await expect(notice(page)).toHaveText('La llave de acceso ahora se llama “Mi teléfono”.');
    await expect(items.getByRole('heading', { name: 'Mi teléfono' })).toBeVisible();

    // Out, and back in with the passkey alone: nothing typed, no CAPTCHA.
    await logOut(page);
    await expect(page.getByLabel('Usuario')).toHaveValue('');
    await page.getByRole('button', { name: PASSKEY_BUTTON }).click();
    await expect(page.getByRole('heading', { name: `Hola, ${member.firstName}` })).toBeVisible();
    await openPasskeys(page);
    await expect(items).toContainText('Último uso:');

    // «Eliminar» asks first; VOLVER keeps it, CONFIRMAR removes it.
    await items.getByRole('link', { name: 'Eliminar la llave de acceso “Mi teléfono”' }).click();
    await expect(page.getByRole('heading', { name: 'Eliminar la llave de acceso' })).toBeVisible();
    await expect(page.getByText('¿Eliminar la llave de acceso “Mi teléfono”?')).toBeVisible();
    await lookAt(page, 'passkeys-remove');
    await expectNoAccessibilityViolations(page);
    await page.getByRole('link', { name: 'VOLVER' }).click();
    await expect(items.getByRole('heading', { name: 'Mi teléfono' })).toBeVisible();
    await items.getByRole('link', { name: /^Eliminar/ }).click();
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(notice(page)).toHaveText('Se eliminó la llave de acceso “Mi teléfono”.');
    await expect(page.getByText(NO_PASSKEYS)).toBeVisible();
    await expectNoAccessibilityViolations(page);

    // The phone still holds it, but the portal no longer knows it.
    await logOut(page);
    expect(await passkeysOn(authenticator)).toHaveLength(1);
    await page.getByRole('button', { name: PASSKEY_BUTTON }).click();
    await expect(passkeyStatus(page)).toHaveText(UNKNOWN_PASSKEY);
    await expect(page.getByRole('heading', { name: LOGIN_HEADING })).toBeVisible();
    await lookAt(page, 'passkeys-login-unknown');
    await expectNoAccessibilityViolations(page);
    allowRefusedCalls(consoleProblems, '/ingresar/llave');
  });

  test('cancelar, o un dispositivo sin llave para el portal: el mensaje en español junto al botón', async ({
    page,
    context,
  }, testInfo) => {
    const member = passkeyMember('cancel', testInfo);
    await withoutPasskeySuggestions(context);
    const authenticator = await addAuthenticator(context, page);

    // No passkey of this portal on the device.
    await page.goto('/');
    await page.getByRole('button', { name: PASSKEY_BUTTON }).click();
    await expect(passkeyStatus(page)).toHaveText(LOGIN_CANCELLED);
    await lookAt(page, 'passkeys-login-cancelled');
    await expectNoAccessibilityViolations(page);

    // Creating one, the member cancels at the fingerprint prompt.
    await logIn(page, member);
    await openPasskeys(page);
    await verifyUser(authenticator, false);
    await page.getByRole('button', { name: CREATE_BUTTON }).click();
    await expect(passkeyStatus(page)).toHaveText(CREATE_CANCELLED);
    await expect(page.getByText(NO_PASSKEYS)).toBeVisible();
    await lookAt(page, 'passkeys-create-cancelled');
    await expectNoAccessibilityViolations(page);

    // With one, logging in is cancelled at the prompt: the same message, and
    // the password form is still there.
    await verifyUser(authenticator, true);
    await page.getByRole('button', { name: CREATE_BUTTON }).click();
    await expect(notice(page)).toHaveText(CREATED);
    await logOut(page);
    await verifyUser(authenticator, false);
    await page.getByRole('button', { name: PASSKEY_BUTTON }).click();
    await expect(passkeyStatus(page)).toHaveText(LOGIN_CANCELLED);
    await expect(page.getByRole('button', { name: 'INICIAR SESIÓN' })).toBeVisible();
    // And when the member tries again, the touch logs in.
    await verifyUser(authenticator, true);
    await page.getByRole('button', { name: PASSKEY_BUTTON }).click();
    await expect(page.getByRole('heading', { name: `Hola, ${member.firstName}` })).toBeVisible();
  });

  test('la sugerencia del campo Usuario: el socio elige su llave y entra sin escribir nada', async ({
    page,
    context,
  }, testInfo) => {
    const member = passkeyMember('autofill', testInfo);
    await addAuthenticator(context, page);

    await page.goto('/');
    await expect(page.getByLabel('Usuario')).toHaveAttribute('autocomplete', 'username webauthn');
    // No passkey yet: the waiting suggestion says nothing.
    await expect(passkeyStatus(page)).toBeEmpty();
    await logIn(page, member);
    await openPasskeys(page);
    await page.getByRole('button', { name: CREATE_BUTTON }).click();
    await expect(notice(page)).toHaveText(CREATED);

    // Logging out lands on the login page, whose document field offers the
    // passkey; the virtual authenticator chooses it at once, as the member
    // would with one touch, and the home opens.
    await page.goto('/inicio');
    await page.getByRole('button', { name: 'Cerrar sesión' }).click();
    await expect(page.getByRole('heading', { name: `Hola, ${member.firstName}` })).toBeVisible();
    await expect(page).toHaveURL(/\/inicio$/);
  });

  test('sin JavaScript o sin WebAuthn: no hay botón, «Llaves de acceso» dice qué se necesita, y cambiar el nombre o eliminar funcionan igual', async ({
    page,
    context,
    browser,
  }, testInfo) => {
    const member = passkeyMember('noScript', testInfo);
    await addAuthenticator(context, page);
    await logIn(page, member);
    await openPasskeys(page);
    await page.getByRole('button', { name: CREATE_BUTTON }).click();
    await expect(notice(page)).toHaveText(CREATED);
    const session = await context.storageState();

    // Without JavaScript: the same session, plain forms.
    const noScript = await anotherBrowser(browser, testInfo, {
      javaScriptEnabled: false,
      storageState: session,
    });
    try {
      const plain = await noScript.newPage();
      await plain.goto('/mi-cuenta/llaves');
      await expect(plain.getByText(NEEDS_BROWSER)).toBeVisible();
      await expect(plain.getByRole('button', { name: CREATE_BUTTON })).toBeHidden();
      // (axe needs scripting: the same page is checked below, with JavaScript but no WebAuthn.)
      await lookAt(plain, 'passkeys-no-javascript');
      const items = passkeyItems(plain);
      await items.getByRole('textbox', { name: 'Nombre', exact: true }).fill('Computadora de casa');
      await items.getByRole('button', { name: /^Cambiar nombre/ }).click();
      await expect(notice(plain)).toHaveText(
        'La llave de acceso ahora se llama “Computadora de casa”.',
      );
      await items.getByRole('link', { name: /^Eliminar/ }).click();
      await expect(
        plain.getByText('¿Eliminar la llave de acceso “Computadora de casa”?'),
      ).toBeVisible();
      await plain.getByRole('button', { name: 'CONFIRMAR' }).click();
      await expect(notice(plain)).toHaveText(
        'Se eliminó la llave de acceso “Computadora de casa”.',
      );
      await expect(plain.getByText(NO_PASSKEYS)).toBeVisible();
      // The login page: the manual's form, no button.
      await noScript.clearCookies();
      await plain.goto('/');
      await expect(plain.getByRole('heading', { name: LOGIN_HEADING })).toBeVisible();
      await expect(plain.getByRole('button', { name: PASSKEY_BUTTON })).toBeHidden();
    } finally {
      await noScript.close();
    }

    // JavaScript, but a browser without WebAuthn.
    const old = await anotherBrowser(browser, testInfo, { storageState: session });
    try {
      await old.addInitScript(() => {
        delete (globalThis as { PublicKeyCredential?: unknown }).PublicKeyCredential;
      });
      const oldPage = await old.newPage();
      await oldPage.goto('/mi-cuenta/llaves');
      await expect(oldPage.getByText(NEEDS_BROWSER)).toBeVisible();
      await expect(oldPage.getByRole('button', { name: CREATE_BUTTON })).toBeHidden();
      await lookAt(oldPage, 'passkeys-no-webauthn');
      await expectNoAccessibilityViolations(oldPage);
      await old.clearCookies();
      await oldPage.goto('/');
      await expect(oldPage.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
      await expect(oldPage.getByRole('button', { name: PASSKEY_BUTTON })).toBeHidden();
    } finally {
      await old.close();
    }
  });
});

test.describe('Llaves de acceso en una dirección IP', () => {
  test('el portal en 127.0.0.1 no ofrece llaves de acceso, y «Llaves de acceso» lo dice', async ({
    page,
  }, testInfo) => {
    const member = passkeyMember('off', testInfo);
    await page.goto('/');
    await expect(page.getByRole('heading', { name: LOGIN_HEADING })).toBeVisible();
    await expect(page.getByRole('button', { name: PASSKEY_BUTTON })).toHaveCount(0);
    await expect(page.getByLabel('Usuario')).toHaveAttribute('autocomplete', 'username');
    await logIn(page, member);
    await openPasskeys(page);
    await expect(page.getByText(PASSKEYS_OFF)).toBeVisible();
    await expect(page.getByRole('button', { name: CREATE_BUTTON })).toHaveCount(0);
    await lookAt(page, 'passkeys-off');
    await expectNoAccessibilityViolations(page);
  });
});
