// The installed portal without a network (public/sw.js): after the first
// visit its service worker is active; a page that cannot be reached shows
// the Spanish offline page with the call centre; and a page with a member's
// data is never kept: log out, go offline, go back, and nothing of the
// member is there.
import { expect, expectNoAccessibilityViolations, fillLogin, lookAt, test } from './fixtures.ts';
import { memberFor, OFFLINE_MEMBERS } from './members.ts';

test.describe('Sin conexión (la app instalada)', () => {
  test('después de la primera visita, sin red se ve la página «Sin conexión» con el CALL CENTER', async ({
    page,
    context,
  }) => {
    await page.goto('/');
    const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
    expect(scope).toBe(new URL('/', page.url()).href);
    await expect
      .poll(() => page.evaluate(async () => (await navigator.serviceWorker.ready).active?.state))
      .toBe('activated');
    // What the browser's own install prompt needs is all there (a test
    // profile is incognito, the one reason Chromium may still name).
    const cdp = await context.newCDPSession(page);
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    expect(
      installabilityErrors.map((e) => e.errorId).filter((id) => id !== 'in-incognito'),
    ).toEqual([]);

    await context.setOffline(true);
    try {
      await page.goto('/olvide-mi-contrasena');
      await expect(page.getByRole('heading', { name: 'Sin conexión', level: 1 })).toBeVisible();
      await expect(page.getByRole('link', { name: 'CALL CENTER 144' }).first()).toHaveAttribute(
        'href',
        'tel:144',
      );
      await expect(page.getByRole('link', { name: 'Volver a intentar' })).toBeVisible();
      await lookAt(page, 'offline');
      await expectNoAccessibilityViolations(page);
    } finally {
      await context.setOffline(false);
    }
    // Back online, the same address is the real page again.
    await page.goto('/olvide-mi-contrasena');
    await expect(page.getByRole('heading', { name: '¿Olvidaste tu contraseña?' })).toBeVisible();
  });

  test('una página con datos del socio nunca queda guardada: salir, sin red, volver atrás', async ({
    page,
    context,
  }, testInfo) => {
    const member = memberFor(OFFLINE_MEMBERS, testInfo.project.name);
    await page.goto('/');
    await page.evaluate(() => navigator.serviceWorker.ready);
    // The worker controls the page from the next navigation on.
    await page.reload();
    expect(await page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);

    await fillLogin(page, member.document, member.password as string);
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
    await expect(page.getByRole('heading', { name: `Hola, ${member.firstName}` })).toBeVisible();
    await expect(page.getByText(member.memberNumber)).toBeVisible();
    await page.getByRole('button', { name: 'Cerrar sesión' }).click();
    await expect(page.getByText('Cerró su sesión. ¡Hasta pronto!')).toBeVisible();

    await context.setOffline(true);
    try {
      await page.goBack();
      await expect(page.getByRole('heading', { name: 'Sin conexión', level: 1 })).toBeVisible();
      const shown = await page.locator('body').textContent();
      expect(shown).not.toContain(member.firstName);
      expect(shown).not.toContain(member.memberNumber);
      expect(shown).not.toContain(member.document);
      await page.goBack();
      await expect(page.getByText(`Hola, ${member.firstName}`)).toHaveCount(0);
    } finally {
      await context.setOffline(false);
    }

    // What the worker keeps: the offline page and its files, no page and no API answer.
    const kept = await page.evaluate(async () => {
      const urls: string[] = [];
      for (const name of await caches.keys()) {
        for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
      }
      return urls.map((url) => new URL(url).pathname);
    });
    expect(kept.length).toBeGreaterThan(0);
    for (const path of kept) expect(path).toMatch(/^\/assets\/[a-z0-9-]+\.[0-9a-f]{10}\.[a-z]+$/);
  });
});
