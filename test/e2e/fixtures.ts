// What every browser journey shares: the demo member, the CAPTCHA as a
// member ticks it, the accessibility check, and a watch on the browser
// console that fails a test on any script error or Content-Security-Policy
// violation.
import { AxeBuilder } from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';

export { expect };

/** Created by the server on first start with the embedded defaults. */
export const DEMO_MEMBER = {
  document: '1234567',
  password: 'demo2026',
  firstName: 'María',
  memberNumber: '100001',
} as const;

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

export const test = base.extend<{ consoleProblems: string[] }>({
  consoleProblems: [
    async ({ page }, use) => {
      const problems: string[] = [];
      // A page answered with 401 or 404 makes Chromium log "Failed to load
      // resource" for the document itself: expected, and not a problem.
      const failedDocuments = new Set<string>();
      page.on('response', (response) => {
        if (response.request().isNavigationRequest() && response.status() >= 400)
          failedDocuments.add(response.url());
      });
      page.on('console', (message) => {
        const text = message.text();
        const aboutCsp = /Content Security Policy|Refused to/i.test(text);
        if (message.type() !== 'error' && !aboutCsp) return;
        if (
          failedDocuments.has(message.location().url) &&
          text.startsWith('Failed to load resource')
        )
          return;
        problems.push(`${message.type()}: ${text} (${message.location().url})`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await use(problems);
      expect(problems, 'browser console errors or CSP violations').toEqual([]);
    },
    { auto: true },
  ],
});

/** Ticks «No soy un robot» and waits until the proof of work is done. */
export async function tickNotARobot(page: Page): Promise<void> {
  // The label is what a member clicks: an SVG check mark covers the box itself.
  await page.getByText('No soy un robot', { exact: true }).click();
  await expect(page.getByRole('checkbox', { name: 'Verificado' })).toBeChecked();
}

/** Fills in the login form and ticks the CAPTCHA, without sending it. */
export async function fillLogin(page: Page, document: string, password: string): Promise<void> {
  await page.getByLabel('Usuario').fill(document);
  await page.getByLabel('Contraseña', { exact: true }).fill(password);
  await tickNotARobot(page);
}

/** Runs axe with the WCAG 2.2 AA rule set and expects no violation. */
export async function expectNoAccessibilityViolations(page: Page): Promise<void> {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  const violations = results.violations.map(
    (v) =>
      `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`,
  );
  expect(violations, 'axe WCAG 2.2 AA violations').toEqual([]);
}

/**
 * Looks at the page as a person would: nothing may be wider than the screen,
 * and a full-page screenshot goes to .tmp/screenshots/<project>-<name>.png.
 */
export async function lookAt(page: Page, name: string): Promise<void> {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, 'the page is wider than the screen').toBeLessThanOrEqual(0);
  await page.screenshot({
    path: `.tmp/screenshots/${test.info().project.name}-${name}.png`,
    fullPage: true,
  });
}
