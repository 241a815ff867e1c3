// The product for another provider: the second portal of playwright.config.ts
// runs with the five BRAND_* variables of brand-settings.ts. Everywhere a
// member looks (the login page, the app manifest, the emailed link) shows
// that provider and nothing of the default one; a colour nobody could read
// stops the start.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BRAND_ENV, BRAND_RGB, BRAND_URL } from './brand-settings.ts';
import {
  expect,
  expectNoAccessibilityViolations,
  lookAt,
  test,
  tickNotARobot,
} from './fixtures.ts';
import { Inbox } from './inbox.ts';
import { BRAND_MEMBERS, memberFor } from './members.ts';

/** What only the default brand says: its name, its colours, its number. */
const DEFAULT_BRAND = /Autogesti[oó]n|#a0102e|#7a0c23|a0102e|\b144\b/i;

test.use({ baseURL: BRAND_URL });

test.describe('Otra institución (BRAND_*)', () => {
  test('la página de ingreso lleva el nombre, el logo, el color y el CALL CENTER configurados', async ({
    page,
  }) => {
    await page.goto('/');
    await expect(page).toHaveTitle('Ingreso · Mutualista del Ejemplo');
    const header = page.getByRole('banner');
    await expect(header).toContainText(BRAND_ENV.BRAND_NAME);
    // The configured logo, drawn (not the default mark).
    const logo = header.locator('img.brand-logo');
    await expect(logo).toHaveJSProperty('complete', true);
    expect(await logo.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
    expect(await logo.getAttribute('src')).toMatch(/^\/assets\/logo\.[0-9a-f]{10}\.png$/);

    const callCenter = page.getByRole('link', { name: /CALL CENTER 0800\s1234/ });
    await expect(callCenter).toHaveAttribute('href', 'tel:08001234');
    const button = page.getByRole('button', { name: 'INICIAR SESIÓN' });
    expect(await button.evaluate((b) => getComputedStyle(b).backgroundColor)).toBe(BRAND_RGB);
    expect(await header.evaluate((h) => getComputedStyle(h).backgroundColor)).toBe(BRAND_RGB);
    await expect(page.locator('meta[name="theme-color"]')).toHaveAttribute('content', '#0b5394');
    expect(await page.content()).not.toMatch(DEFAULT_BRAND);
    await expect(page.getByRole('checkbox', { name: 'No soy un robot' })).toBeVisible();
    await lookAt(page, 'brand-login');
    await expectNoAccessibilityViolations(page);
  });

  test('el manifiesto de la app lleva la marca y sus íconos', async ({
    page,
    request,
    context,
  }) => {
    await page.goto('/');
    await page.evaluate(() => navigator.serviceWorker.ready);
    // What the browser's own install prompt needs is all there (a test
    // profile is incognito, the one reason Chromium may still name).
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(
      installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito'),
    ).toEqual([]);

    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    const manifest = await (await request.get(href as string)).json();
    expect(manifest).toMatchObject({
      name: 'Mutualista del Ejemplo · Portal del Socio',
      short_name: 'Ejemplo',
      start_url: '/',
      display: 'standalone',
      lang: 'es-UY',
      theme_color: '#0b5394',
    });
    expect(JSON.stringify(manifest)).not.toMatch(DEFAULT_BRAND);
    for (const icon of manifest.icons as { src: string }[]) {
      const file = await request.get(icon.src);
      expect(file.status(), icon.src).toBe(200);
      expect(file.headers()['content-type']).toBe('image/png');
    }
  });

  test('el email «Solicitud nueva contraseña» llega con la marca', async ({ page }, testInfo) => {
    const member = memberFor(BRAND_MEMBERS, testInfo.project.name);
    const mailbox = await Inbox.open(member.email);
    await page.goto('/olvide-mi-contrasena');
    await page.getByLabel('N° de Socio o Cédula de Identidad').fill(member.document);
    await page.getByLabel('Recibir vía email').check();
    await tickNotARobot(page);
    await page.getByRole('button', { name: 'CONFIRMAR' }).click();
    await expect(page.getByRole('status')).toBeVisible();

    const email = await mailbox.nextEmail('Solicitud nueva contraseña');
    expect(email.from).toContain('Mutualista del Ejemplo');
    for (const part of [email.text, email.html]) {
      expect(part).toContain('Atentamente, Mutualista del Ejemplo');
      expect(part).toContain('CALL CENTER 0800 1234');
      expect(part).not.toMatch(DEFAULT_BRAND);
    }
    expect(email.html).toContain('#0b5394');
    expect(email.html).toContain('href="tel:08001234"');
  });

  test('un color que no se puede leer impide el arranque, y el mensaje nombra la variable', async ({
    browserName,
  }, testInfo) => {
    test.skip(testInfo.project.name !== 'desktop', 'one start is enough');
    expect(browserName).toBe('chromium');
    const dataDir = mkdtempSync(join(tmpdir(), 'autogestion-brand-'));
    try {
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
        env: {
          ...process.env,
          PORT: '0',
          DATA_DIR: dataDir,
          NODE_ENV: 'development',
          DATABASE_URL: '',
          BRAND_PRIMARY_COLOR: '#ffcc00',
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status, run.stdout + run.stderr).toBe(1);
      expect(run.stderr).toContain('BRAND_PRIMARY_COLOR: #ffcc00 is unreadable');
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
