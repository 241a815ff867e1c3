// Browser journeys (test/e2e) against the real server, started as a newcomer
// would (`node --import tsx src/server.ts`) on a fresh embedded database with
// the demo member and the real ALTCHA widget, after the journeys' members
// were imported (test/e2e/seed.ts). Email and SMS really leave the server:
// to the mail catcher (test/support/mail-catcher.ts), a real SMTP server and
// SMS gateway whose HTTP side lets the tests read what arrived. Chromium
// comes from Debian.
import { defineConfig } from '@playwright/test';
import { BRAND_ENV, BRAND_PORT } from './test/e2e/brand-settings.ts';
import { MAIL_CATCHER_HTTP_PORT, MAIL_CATCHER_SMTP_PORT } from './test/e2e/inbox.ts';
import { DESK_ENROLMENT_FILE, PASSKEYS_PORT, PASSKEYS_URL } from './test/e2e/members.ts';

const PORT = 3917;
const BASE_URL = `http://127.0.0.1:${PORT}`;
const DATA_DIR = '.tmp/e2e-data';
const BRAND_DATA_DIR = '.tmp/e2e-brand-data';
const PASSKEYS_DATA_DIR = '.tmp/e2e-passkeys-data';

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
  webServer: [
    // The branch desk's journeys (desk.spec.ts) use this portal only: its
    // seed also creates their employees and leaves their enrolment links here.
    portal(PORT, DATA_DIR, { E2E_DESK_ENROLMENT_FILE: DESK_ENROLMENT_FILE }),
    // The same product for another provider: the brand journeys (brand.spec.ts).
    portal(BRAND_PORT, BRAND_DATA_DIR, BRAND_ENV),
    // Passkeys want a host name, not an IP address: this one is addressed as
    // localhost (a secure context), so its passkeys are on (passkeys.spec.ts).
    portal(PASSKEYS_PORT, PASSKEYS_DATA_DIR, { PUBLIC_URL: PASSKEYS_URL }),
    {
      command: 'node --import tsx test/support/mail-catcher.ts',
      url: `http://127.0.0.1:${MAIL_CATCHER_HTTP_PORT}/healthz`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: {
        MAIL_CATCHER_SMTP_PORT: String(MAIL_CATCHER_SMTP_PORT),
        MAIL_CATCHER_HTTP_PORT: String(MAIL_CATCHER_HTTP_PORT),
      },
    },
  ],
});

/** One portal: a fresh embedded database with the journeys' members, then the server. */
function portal(port: number, dataDir: string, settings: Record<string, string>) {
  return {
    // A fresh embedded database each run: the journeys' members are
    // imported first (the embedded database serves one process at a time),
    // then the server starts and creates the demo member.
    command: `rm -rf ${dataDir} && node --import tsx test/e2e/seed.ts && node --import tsx src/server.ts`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
    env: {
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // The defaults a newcomer gets, whatever the calling shell exports
      // (embedded database, demo member, the real ALTCHA widget, the
      // manual's password policy, SPEC §3's limits), except that email and
      // SMS go out for real, to the mail catcher; with both set, the dev
      // mailbox is off by default.
      NODE_ENV: 'development',
      DATABASE_URL: '',
      SMTP_URL: `smtp://127.0.0.1:${MAIL_CATCHER_SMTP_PORT}`,
      SMS_WEBHOOK_URL: `http://127.0.0.1:${MAIL_CATCHER_HTTP_PORT}/sms`,
      MAIL_FROM: '',
      DEV_MAILBOX: '',
      APP_SECRET: '',
      DEMO_MEMBER: 'true',
      CAPTCHA_PROVIDER: 'altcha',
      ALTCHA_COST: '',
      PASSWORD_POLICY: '',
      TRUSTED_PROXIES: '',
      LOGIN_FREE_FAILURES: '',
      LOGIN_WAIT_FIRST_SECONDS: '',
      LOGIN_WAIT_MAX_SECONDS: '',
      LOGIN_FAILURES_PER_ADDRESS: '',
      PASSWORD_REQUESTS_PER_ADDRESS: '',
      MESSAGES_PER_MEMBER_PER_HOUR: '',
      SMS_PER_NUMBER_PER_HOUR: '',
      SMS_PER_NUMBER_PER_DAY: '',
      SMS_HOURLY_BUDGET: '',
      BRAND_NAME: '',
      BRAND_SHORT_NAME: '',
      BRAND_LOGO: '',
      BRAND_PRIMARY_COLOR: '',
      BRAND_CALL_CENTER: '',
      E2E_DESK_ENROLMENT_FILE: '',
      ...settings,
    },
  };
}
