// The second portal of the browser journeys: the same product configured for
// another provider (playwright.config.ts starts it; brand.spec.ts walks it).
export const BRAND_PORT = 3918;
export const BRAND_URL = `http://127.0.0.1:${BRAND_PORT}`;

/** The five brand variables, as an operator sets them. */
export const BRAND_ENV = {
  BRAND_NAME: 'Mutualista del Ejemplo',
  BRAND_SHORT_NAME: 'Ejemplo',
  BRAND_LOGO: 'test/e2e/brand/logo.svg',
  BRAND_PRIMARY_COLOR: '#0b5394',
  BRAND_CALL_CENTER: '0800 1234',
} as const;

/** BRAND_PRIMARY_COLOR as the browser computes it. */
export const BRAND_RGB = 'rgb(11, 83, 148)';
