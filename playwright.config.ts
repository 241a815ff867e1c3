// Browser journeys (test/e2e) against the real server, started as a newcomer
// would (`node --import tsx src/server.ts`) on a fresh embedded database with
// the demo member and the real ALTCHA widget. Chromium comes from Debian.
import { defineConfig } from '@playwright/test';

const PORT = 3917;
const BASE_URL = `http://127.0.0.1:${PORT}`;
const DATA_DIR = '.tmp/e2e-data';

export default defineConfig({
  testDir: 'test/e2e',
  outputDir: '.tmp/test-results/e2e-artifacts',
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  workers: 2,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [
    ['list'],
    ['json', { outputFile: process.env.PW_JSON ?? '.tmp/test-results/e2e.json' }],
  ],
  use: {
    baseURL: BASE_URL,
    locale: 'es-UY',
    timezoneId: 'America/Montevideo',
    screenshot: 'only-on-failure',
    trace: 'off',
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  projects: [
    {
      name: 'phone',
      use: {
        viewport: { width: 360, height: 780 },
        isMobile: true,
        hasTouch: true,
        deviceScaleFactor: 2,
      },
    },
    {
      name: 'desktop',
      use: { viewport: { width: 1280, height: 800 } },
    },
  ],
  webServer: {
    // A fresh embedded database each run; the server creates the demo member.
    command: `rm -rf ${DATA_DIR} && node --import tsx src/server.ts`,
    url: `${BASE_URL}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      PORT: String(PORT),
      HOST: '127.0.0.1',
      PUBLIC_URL: BASE_URL,
      DATA_DIR,
      LOG_LEVEL: 'warn',
      // The defaults a newcomer gets, whatever the calling shell exports:
      // embedded database, dev mailbox, demo member, the real ALTCHA widget.
      NODE_ENV: 'development',
      DATABASE_URL: '',
      SMTP_URL: '',
      SMS_WEBHOOK_URL: '',
      APP_SECRET: '',
      DEMO_MEMBER: '',
      CAPTCHA_PROVIDER: 'altcha',
      ALTCHA_COST: '',
    },
  },
});
