// Issue 12, "Light pages": the login page and everything it loads move at
// most 60 KB over the wire on a cold cache and 8 KB on a warm one, counted in
// Chromium by the same measurement as `npm run weight`
// (scripts/weight/measure.ts). The table is printed in the test output; only
// bytes are asserted, never timings (the slow-4G figure is `npm run weight`'s).
import { formatWeight, measureVisits, TARGETS } from '../../scripts/weight/measure.ts';
import { expect, test } from './fixtures.ts';

test('la página de ingreso y todo lo que carga pesan ≤ 60 KB sin caché y ≤ 8 KB con caché', async ({
  browser,
  baseURL,
}, testInfo) => {
  // Bytes do not depend on the screen: measured once.
  test.skip(testInfo.project.name !== 'desktop', 'measured in the desktop project only');
  if (!baseURL) throw new Error('playwright.config.ts sets no baseURL');
  const use = testInfo.project.use;
  const visits = await measureVisits(
    () =>
      browser.newContext({
        locale: use.locale,
        timezoneId: use.timezoneId,
        viewport: use.viewport,
      }),
    baseURL,
  );
  console.log(formatWeight({ ...visits, usable: null }));

  expect
    .soft(visits.cold.bytes, 'bytes on the wire, cold cache')
    .toBeLessThanOrEqual(TARGETS.coldBytes);
  expect
    .soft(visits.warm.bytes, 'bytes on the wire, warm cache')
    .toBeLessThanOrEqual(TARGETS.warmBytes);
});
