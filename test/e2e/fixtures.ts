// What every browser journey shares: the demo member, the CAPTCHA as a
// member ticks it, the accessibility check, and a watch on the browser
// console that fails a test on any script error or Content-Security-Policy
// violation.
import { AxeBuilder } from '@axe-core/playwright';
import { test as base, expect, type Locator, type Page } from '@playwright/test';

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
 * Looks at the page as a person would: nothing may be wider than the screen
 * (nor than a 320 px one), no placeholder may be cut off,
 * and a full-page screenshot goes to .tmp/screenshots/<project>-<name>.png.
 */
export async function lookAt(page: Page, name: string): Promise<void> {
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, 'the page is wider than the screen').toBeLessThanOrEqual(0);
  // Reflow (WCAG 1.4.10): at 320 CSS px, the narrowest phone, nothing scrolls sideways either.
  const size = page.viewportSize();
  if (size && size.width !== 320) {
    await page.setViewportSize({ width: 320, height: size.height });
    const narrow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    await page.setViewportSize(size);
    expect(narrow, 'the page is wider than 320 CSS px').toBeLessThanOrEqual(0);
  }
  // The manual's placeholders ("Ingrese el código que le enviamos") are read
  // whole: none may be cut off by its field (or by the eye toggle).
  const cutPlaceholders = await page.evaluate(() => {
    const context = document.createElement('canvas').getContext('2d');
    if (!context) return ['no canvas to measure with'];
    return [...document.querySelectorAll<HTMLInputElement>('input[placeholder]')]
      .filter((input) => input.offsetParent !== null)
      .flatMap((input) => {
        const style = getComputedStyle(input);
        const placeholder = getComputedStyle(input, '::placeholder');
        context.font = `${placeholder.fontStyle} ${placeholder.fontWeight} ${placeholder.fontSize} ${placeholder.fontFamily}`;
        const room =
          input.clientWidth -
          Number.parseFloat(style.paddingLeft) -
          Number.parseFloat(style.paddingRight);
        const width = context.measureText(input.placeholder).width;
        return width > room
          ? [`«${input.placeholder}» needs ${Math.ceil(width)} px, has ${Math.floor(room)}`]
          : [];
      });
  });
  expect(cutPlaceholders, 'placeholders cut off by their field').toEqual([]);
  await page.screenshot({
    path: `.tmp/screenshots/${test.info().project.name}-${name}.png`,
    fullPage: true,
  });
}

/** The text is red, as the manual describes the email notice: red clearly dominates. */
export async function expectRed(locator: Locator): Promise<void> {
  const color = await locator.evaluate((e) => getComputedStyle(e).color);
  const [r = 0, g = 0, b = 0] = (color.match(/\d+(\.\d+)?/g) ?? []).map(Number);
  expect({ color, red: r >= 150 && g <= 80 && b <= 80 }, 'a red text').toEqual({
    color,
    red: true,
  });
}

/** A pattern matching text that contains `text` literally (for accessible names and descriptions). */
export function containing(text: string): RegExp {
  return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}
