// A page of another site cannot use the member's browser to act on the
// portal: its form posts are refused, and the member's session lives on.
// The other site is served by the browser's router at http://evil.test.
import { DEMO_MEMBER, expect, fillLogin, test } from './fixtures.ts';

const EVIL = 'http://evil.test/';

function evilPage(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
    .join('');
  return `<!doctype html><html lang="en"><title>Win a prize</title>
<form method="post" action="${action}">${inputs}<button>Claim</button></form></html>`;
}

test.describe('Formularios desde otro sitio', () => {
  test('una página de otro sitio no puede cerrar la sesión del socio ni iniciar otra', async ({
    page,
    baseURL,
  }) => {
    await page.goto('/');
    await fillLogin(page, DEMO_MEMBER.document, DEMO_MEMBER.password);
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();
    await expect(
      page.getByRole('heading', { name: `Hola, ${DEMO_MEMBER.firstName}` }),
    ).toBeVisible();

    // The other site posts the logout form of the portal.
    await page.route(EVIL, (route) =>
      route.fulfill({ contentType: 'text/html', body: evilPage(`${baseURL}/salir`, {}) }),
    );
    await page.goto(EVIL);
    await page.getByRole('button', { name: 'Claim' }).click();
    await expect(page.getByRole('main')).toContainText('Por su seguridad');
    await page.goto('/inicio');
    await expect(
      page.getByRole('heading', { name: `Hola, ${DEMO_MEMBER.firstName}` }),
      'the session lives on',
    ).toBeVisible();

    // …and a login into another account (login CSRF) with a token it made up.
    await page.unroute(EVIL);
    await page.route(EVIL, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: evilPage(`${baseURL}/ingresar`, {
          document: '1111111',
          password: 'atacante1',
          _csrf: 'made-up',
        }),
      }),
    );
    await page.goto(EVIL);
    await page.getByRole('button', { name: 'Claim' }).click();
    await expect(page.getByRole('main')).toContainText('Por su seguridad');
    await page.goto('/inicio');
    await expect(
      page.getByRole('heading', { name: `Hola, ${DEMO_MEMBER.firstName}` }),
    ).toBeVisible();
  });

  test('un formulario abierto antes de borrar las cookies pide abrirlo de nuevo, con un botón', async ({
    page,
    context,
  }) => {
    await page.goto('/');
    await fillLogin(page, DEMO_MEMBER.document, DEMO_MEMBER.password);
    await context.clearCookies();
    await page.getByRole('button', { name: 'INICIAR SESIÓN' }).click();

    await expect(page.getByRole('main')).toContainText(
      'Por su seguridad, este formulario ya no es válido. Ábralo de nuevo y vuelva a intentar.',
    );
    await page.getByRole('link', { name: 'Abrir el formulario de nuevo' }).click();
    await expect(
      page.getByRole('heading', { name: 'Bienvenido al Portal del Socio' }),
    ).toBeVisible();
  });
});
