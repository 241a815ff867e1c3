// The branch desk (issue 13, SPEC §2.6) as an employee and a member live it:
// the operator's `npm run staff:create` (run by test/e2e/seed.ts before the
// server starts) printed an enrolment link; the employee opens it, adds the
// key of the QR code to an authenticator (here: the test computes the codes
// from that key, as the app would), chooses a password, logs in with a code,
// finds a member, records how identity was checked and prints an activation
// code. Then the member, in another browser, types that code on «Tengo un
// código de activación», chooses a password, logs in, and reads the branch's
// action in their activity. Every desk page is checked with axe and at
// 320 px, and saved to .tmp/screenshots/; the slip is also printed to PDF.
import { readFileSync } from 'node:fs';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { generateHOTP } from '@oslojs/otp';
import type { Browser, BrowserContext, Page, TestInfo } from '@playwright/test';
import QRCode from 'qrcode';
import {
  expect,
  expectNoAccessibilityViolations,
  fillLogin,
  lookAt,
  test,
  tickNotARobot,
} from './fixtures.ts';
import { Inbox } from './inbox.ts';
import {
  DESK_ENROLMENT_FILE,
  DESK_MEMBERS,
  DESK_STAFF,
  type E2eMember,
  type ProjectName,
} from './members.ts';

/** RFC 6238 as the authenticator apps use it: 6 digits every 30 seconds. */
const TOTP_SECONDS = 30;
const TOTP_DIGITS = 6;
/** The printed code: two groups of five from the unambiguous alphabet (no 0/O, 1/I/L). */
const ACTIVATION_CODE = /^[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}$/;
/** A6 in PDF points (105 × 148 mm). */
const A6_POINTS = { width: (105 / 25.4) * 72, height: (148 / 25.4) * 72 };
/** About an A6 sheet in CSS pixels (96 per inch), for a screenshot of the slip as printed. */
const A6_VIEWPORT = { width: 397, height: 559 };

/** The running project, 'phone' or 'desktop'. */
function projectOf(testInfo: TestInfo): ProjectName {
  const name = testInfo.project.name;
  if (name !== 'phone' && name !== 'desktop') throw new Error(`no desk journey for "${name}"`);
  return name;
}

/** The enrolment link `staff:create` printed for this project's employee. */
function enrolmentLink(project: ProjectName): string {
  const links = JSON.parse(readFileSync(DESK_ENROLMENT_FILE, 'utf8')) as Record<string, unknown>;
  const link = links[project];
  if (typeof link !== 'string') throw new Error(`no enrolment link for ${project}`);
  return link;
}

/** The authenticator's time step now. */
function stepNow(): number {
  return Math.floor(Date.now() / (TOTP_SECONDS * 1000));
}

/** The code an authenticator app shows during `step` for the key. */
function codeAt(key: Uint8Array, step: number): string {
  return generateHOTP(key, BigInt(step), TOTP_DIGITS);
}

/** The Key URI Format an authenticator reads from the QR code. */
function keyUri(issuer: string, account: string, secret: string): string {
  const params = new URLSearchParams({
    secret,
    issuer,
    algorithm: 'SHA1',
    digits: String(TOTP_DIGITS),
    period: String(TOTP_SECONDS),
  });
  return `otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(account)}?${params
    .toString()
    .replaceAll('+', '%20')}`;
}

/** The dark modules of a QR code SVG (the qrcode package draws them as one path). */
function modulesOf(svg: string): string {
  const path = /<path[^>]*stroke="#000000"[^>]*\sd="([^"]+)"/.exec(svg)?.[1];
  if (!path) throw new Error(`no QR code modules in: ${svg.slice(0, 200)}`);
  return path;
}

/** "4.500.051-8": a document as the identity card prints it, dots, hyphen and check digit. */
function asPrintedOnCard(document: string): string {
  const body = document.padStart(7, '0');
  const sum = [2, 9, 8, 7, 6, 3, 4].reduce(
    (total, weight, i) => total + weight * Number(body[i]),
    0,
  );
  const check = (10 - (sum % 10)) % 10;
  return `${body.slice(0, 1)}.${body.slice(1, 4)}.${body.slice(4)}-${check}`;
}

/** "Héctor C., documento ***052": whose account a page or slip is about, masked. */
function maskedHolder(member: E2eMember): string {
  return `${member.firstName} ${member.lastName.charAt(0)}., documento ***${member.document.slice(-3)}`;
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

/** The fixture's console watch, for a page of another browser context. */
function watchConsole(page: Page, problems: string[]): void {
  page.on('console', (message) => {
    const text = message.text();
    if (message.type() === 'error' || /Content Security Policy|Refused to/i.test(text))
      problems.push(`${message.type()}: ${text} (${message.location().url})`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
}

/** Pages of PDF `pdf` and the size of the first one, in points. */
function pdfPages(pdf: Buffer): { count: number; width: number; height: number } {
  const text = pdf.toString('latin1');
  const count = text.match(/\/Type\s*\/Page(?![a-zA-Z])/g)?.length ?? 0;
  const box = /\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/.exec(text);
  return { count, width: Number(box?.[1] ?? 0), height: Number(box?.[2] ?? 0) };
}

test.describe('Mesa de atención (issue 13)', () => {
  test('alta con el QR, ingreso con TOTP, ficha, verificación de identidad y código impreso; el socio lo usa en otro navegador', async ({
    page,
    browser,
    baseURL,
    consoleProblems,
  }, testInfo) => {
    // Enrolment and login hash passwords with argon2id, two CAPTCHAs are
    // solved, and the login waits for the authenticator's next code.
    test.setTimeout(240_000);
    const project = projectOf(testInfo);
    const staff = DESK_STAFF[project];
    const member = DESK_MEMBERS[project];
    const memberName = `${member.firstName} ${member.lastName}`;

    // --- Enrolment: the link of `npm run staff:create` --------------------------
    await page.goto(enrolmentLink(project));
    // The token leaves the address bar at once.
    await expect(page).toHaveURL(`${baseURL}/mesa/alta`);
    await expect(page.getByRole('heading', { name: 'Alta en la mesa de atención' })).toBeVisible();
    await expect(page.getByRole('main')).toContainText(staff.name);
    const qr = page.getByRole('img', {
      name: `Código QR para agregar la cuenta ${staff.email} a la aplicación de autenticación`,
    });
    await expect(qr).toBeVisible();
    const manualKey = (await page.locator('#clave-manual').textContent())?.trim() ?? '';
    expect(manualKey, 'the key for manual entry, base32 in groups').toMatch(
      /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/,
    );
    const secret = manualKey.replaceAll(' ', '');
    const key = decodeBase32IgnorePadding(secret);
    expect(key.length, 'a key of 160 bits at least (RFC 4226)').toBeGreaterThanOrEqual(20);
    // What an authenticator scans is that same key: the QR code is the one of
    // the Key URI with this secret, the provider's name and the employee's email.
    const issuer = (await page.locator('.brand-name').textContent())?.trim() ?? '';
    const expectedQr = await QRCode.toString(keyUri(issuer, staff.email, secret), {
      type: 'svg',
      errorCorrectionLevel: 'M',
    });
    expect(modulesOf(await qr.evaluate((svg) => svg.outerHTML)), 'the QR code').toBe(
      modulesOf(expectedQr),
    );
    await lookAt(page, 'desk-enrolment');
    await expectNoAccessibilityViolations(page);

    await page.getByLabel('Contraseña', { exact: true }).fill(staff.password);
    await page.getByLabel('Repita la contraseña', { exact: true }).fill(staff.password);
    const enrolledStep = stepNow();
    await page
      .getByLabel('Código de la aplicación', { exact: true })
      .fill(codeAt(key, enrolledStep));
    await page.getByRole('button', { name: 'Completar el alta' }).click();
    await expect(page.getByRole('heading', { name: 'Alta completa', level: 1 })).toBeVisible();
    await expect(page.getByRole('status')).toHaveText(
      'Su contraseña y su aplicación de autenticación quedaron registradas.',
    );
    const recoveryCodes = page.locator('#codigos-de-recuperacion li');
    await expect(recoveryCodes).toHaveCount(10);
    const codes = await recoveryCodes.allTextContents();
    expect(new Set(codes).size, 'ten different recovery codes').toBe(10);
    await lookAt(page, 'desk-enrolment-done');
    await expectNoAccessibilityViolations(page);

    // --- Login with the authenticator's code -------------------------------------
    await page.getByRole('link', { name: 'Ingresar a la mesa' }).click();
    await expect(page).toHaveURL(`${baseURL}/mesa/ingresar`);
    await expect(
      page.getByRole('heading', { name: 'Ingreso a la mesa de atención' }),
    ).toBeVisible();
    await lookAt(page, 'desk-login');
    await expectNoAccessibilityViolations(page);
    await page.getByLabel('Email', { exact: true }).fill(staff.email);
    await page.getByLabel('Contraseña', { exact: true }).fill(staff.password);
    // A code is good once: the enrolment spent this step's, so the employee
    // types the one the app shows next.
    await expect
      .poll(stepNow, {
        message: "waiting for the authenticator's next code",
        timeout: (TOTP_SECONDS + 5) * 1000,
        intervals: [500],
      })
      .toBeGreaterThan(enrolledStep);
    await page
      .getByLabel('Código de la aplicación o código de recuperación', { exact: true })
      .fill(codeAt(key, stepNow()));
    await page.getByRole('button', { name: 'Ingresar', exact: true }).click();
    await expect(page).toHaveURL(`${baseURL}/mesa`);
    await expect(page.getByRole('heading', { name: 'Mesa de atención', level: 1 })).toBeVisible();
    await expect(page.getByRole('main')).toContainText(staff.name);
    await expect(page.getByRole('main')).toContainText('Administración');
    await lookAt(page, 'desk-home');
    await expectNoAccessibilityViolations(page);

    // --- Find a member -------------------------------------------------------------
    const search = page.getByLabel('Documento o N° de socio', { exact: true });
    await search.fill('8.765.432');
    await page.getByRole('button', { name: 'Buscar' }).click();
    await expect(page.getByRole('heading', { name: 'Buscar socio', level: 1 })).toBeVisible();
    await expect(search).toHaveAttribute('aria-invalid', 'true');
    await expect(search).toHaveAccessibleDescription(
      /No hay ningún socio con ese documento o número/,
    );
    await lookAt(page, 'desk-search-not-found');
    await expectNoAccessibilityViolations(page);

    // The document as the identity card prints it: dots, hyphen and check digit.
    await search.fill(asPrintedOnCard(member.document));
    await page.getByRole('button', { name: 'Buscar' }).click();
    await expect(page.getByRole('heading', { name: `Socio: ${memberName}` })).toBeVisible();
    const card = page.url();
    const main = page.getByRole('main');
    await expect(main).toContainText(member.memberNumber);
    await expect(main).toContainText('Todavía no creó su contraseña');
    // Contacts are masked: the employee confirms them with the member, never reads them out.
    await expect(main).not.toContainText(member.email);
    await expect(main).not.toContainText(member.mobile.slice(-6));
    await expect(page.getByRole('button', { name: 'Generar e imprimir el código' })).toHaveCount(0);
    await lookAt(page, 'desk-member');
    await expectNoAccessibilityViolations(page);

    // --- The identity check ----------------------------------------------------------
    await page.getByRole('radio', { name: 'Cédula de identidad' }).check();
    await page.getByLabel('Nota', { exact: true }).fill('Cédula vigente, vino sin acompañante');
    await page.getByRole('button', { name: 'Registrar la verificación' }).click();
    await expect(page.getByRole('note')).toContainText(
      'Identidad verificada con Cédula de identidad',
    );
    await expect(page.getByRole('note')).toContainText('Cédula vigente, vino sin acompañante');
    await lookAt(page, 'desk-member-verified');
    await expectNoAccessibilityViolations(page);

    // --- The printed activation code -------------------------------------------------
    await page.getByRole('button', { name: 'Generar e imprimir el código' }).click();
    await expect(
      page.getByRole('heading', { name: 'Código de activación impreso', level: 1 }),
    ).toBeVisible();
    const slip = page.locator('.activation-slip');
    const printed = (await page.locator('#codigo-de-activacion').textContent())?.trim() ?? '';
    expect(printed, 'the code as printed').toMatch(ACTIVATION_CODE);
    await expect(slip).toContainText(`Para ${maskedHolder(member)}`);
    await expect(slip).not.toContainText(member.document);
    await expect(slip).toContainText(`${baseURL}/codigo-de-activacion`);
    await expect(slip).toContainText('Vale hasta el');
    await lookAt(page, 'desk-slip');
    await expectNoAccessibilityViolations(page);

    // On paper: the slip alone, on one A6 sheet.
    await page.emulateMedia({ media: 'print' });
    await expect(slip).toBeVisible();
    await expect(page.locator('#codigo-de-activacion')).toBeVisible();
    await expect(page.locator('header.brand-bar')).toBeHidden();
    await expect(page.locator('footer.site-footer')).toBeHidden();
    await expect(page.getByRole('heading', { name: 'Código de activación impreso' })).toBeHidden();
    await expect(page.getByRole('link', { name: 'Volver a la ficha del socio' })).toBeHidden();
    const screen = page.viewportSize();
    await page.setViewportSize(A6_VIEWPORT);
    await page.screenshot({
      path: `.tmp/screenshots/${project}-desk-slip-print.png`,
      fullPage: true,
    });
    if (screen) await page.setViewportSize(screen);
    const pdf = await page.pdf({
      path: `.tmp/screenshots/${project}-desk-slip.pdf`,
      preferCSSPageSize: true,
    });
    const sheets = pdfPages(pdf);
    expect(sheets.count, 'printed pages').toBe(1);
    expect(Math.abs(sheets.width - A6_POINTS.width), `page width ${sheets.width} pt`).toBeLessThan(
      1,
    );
    expect(
      Math.abs(sheets.height - A6_POINTS.height),
      `page height ${sheets.height} pt`,
    ).toBeLessThan(1);
    await page.emulateMedia({ media: null });

    // --- The member's timeline ----------------------------------------------------
    await page.getByRole('link', { name: 'Volver a la ficha del socio' }).click();
    await expect(page.getByRole('heading', { name: `Socio: ${memberName}` })).toBeVisible();
    await page.getByRole('link', { name: 'Ver el historial del socio' }).click();
    await expect(
      page.getByRole('heading', { name: `Historial de ${memberName}`, level: 1 }),
    ).toBeVisible();
    const timeline = page.getByRole('table', { name: 'Eventos de la cuenta' });
    await expect(timeline).toContainText('Imprimió un código de activación');
    await expect(timeline).toContainText('Verificó la identidad');
    await expect(timeline).toContainText(`Personal: ${staff.name}`);
    await lookAt(page, 'desk-timeline');
    await expectNoAccessibilityViolations(page);

    // --- The admin's pages, from the desk's home -----------------------------------------
    await page.goto('/mesa');
    await page.getByRole('link', { name: 'Auditoría del personal' }).click();
    await expect(
      page.getByRole('heading', { name: 'Auditoría del personal', level: 1 }),
    ).toBeVisible();
    await expect(page.getByRole('main')).toContainText('Imprimió un código de activación');
    await lookAt(page, 'desk-audit');
    await expectNoAccessibilityViolations(page);

    await page.goto('/mesa');
    await page.getByRole('link', { name: 'Personal de la mesa' }).click();
    await expect(
      page.getByRole('heading', { name: 'Personal de la mesa', level: 1 }),
    ).toBeVisible();
    await expect(page.getByRole('main')).toContainText(staff.email);
    await lookAt(page, 'desk-staff');
    await expectNoAccessibilityViolations(page);

    // --- The member, at home, in another browser -------------------------------------
    const home = await anotherBrowser(browser, testInfo);
    try {
      const memberPage = await home.newPage();
      watchConsole(memberPage, consoleProblems);
      const mailbox = await Inbox.open(member.email);

      await memberPage.goto('/');
      await memberPage.getByRole('link', { name: 'Tengo un código de activación' }).click();
      await expect(
        memberPage.getByRole('heading', { name: 'Tengo un código de activación' }),
      ).toBeVisible();
      await lookAt(memberPage, 'activation-code');
      await expectNoAccessibilityViolations(memberPage);
      await memberPage.getByLabel('N° de Socio o Cédula de Identidad').fill(member.document);
      await memberPage.getByLabel('Código de activación', { exact: true }).fill(printed);
      await tickNotARobot(memberPage);
      await memberPage.getByRole('button', { name: 'CONFIRMAR' }).click();

      await expect(memberPage).toHaveURL(`${baseURL}/cambiar-contrasena`);
      await expect(memberPage.getByRole('heading', { name: 'Cambiar contraseña' })).toBeVisible();
      await expect(memberPage.getByText('Está cambiando la contraseña de')).toContainText(
        maskedHolder(member),
      );
      await memberPage.getByLabel('Nueva contraseña', { exact: true }).fill(member.newPassword);
      await memberPage.getByLabel('Repita contraseña', { exact: true }).fill(member.newPassword);
      await tickNotARobot(memberPage);
      await memberPage.getByRole('button', { name: 'CONFIRMAR' }).click();
      await expect(memberPage.getByRole('status')).toHaveText(
        'Contraseña modificada correctamente',
      );
      const notice = await mailbox.nextEmail('Su contraseña fue modificada');
      expect(notice.text).toContain('con la ayuda de un centro de atención');

      await memberPage.getByRole('link', { name: 'VOLVER' }).click();
      await fillLogin(memberPage, member.document, member.newPassword);
      await memberPage.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
      await expect(
        memberPage.getByRole('heading', { name: `Hola, ${member.firstName}` }),
      ).toBeVisible();
      await memberPage
        .getByRole('navigation', { name: 'Opciones de su cuenta' })
        .getByRole('link', { name: 'Actividad reciente' })
        .click();
      await expect(
        memberPage.getByRole('heading', { name: 'Actividad reciente', level: 1 }),
      ).toBeVisible();
      await expect(memberPage.getByRole('main')).toContainText(
        'Código de activación entregado en un centro de atención',
      );
    } finally {
      await home.close();
    }

    // Back at the desk, the card now says the member has a password.
    await page.goto(card);
    await expect(page.getByRole('heading', { name: `Socio: ${memberName}` })).toBeVisible();
    await expect(page.getByRole('main')).toContainText('Creada; último cambio el');
  });
});
