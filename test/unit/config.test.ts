import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from '../../src/config.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What a production operator sets at the least. */
const PRODUCTION = {
  NODE_ENV: 'production',
  APP_SECRET: 'a-production-secret-of-32-chars!',
  PUBLIC_URL: 'https://portal.example.org',
  DATABASE_URL: 'postgres://autogestion@db.example.org/autogestion',
  SMTP_URL: 'smtp://mailer:secret@smtp.example.org:587',
  SMS_WEBHOOK_URL: 'https://sms.example.org/send',
} as const;

/** The ConfigError that loading `env` throws (fails the test when none is thrown). */
function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

/** Asserts that `env` is refused with a problem line that starts with `variable`. */
function assertRefused(env: Record<string, string | undefined>, variable: string): string {
  const problems = problemsOf(env);
  const line = problems.find((p) => p.startsWith(`${variable}`));
  assert.ok(line, `expected a problem naming ${variable}, got ${JSON.stringify(problems)}`);
  return line;
}

describe('configuration', () => {
  it('uses the defaults of the specification when nothing is set', () => {
    const config = loadConfig({});
    assert.equal(config.env, 'development');
    assert.equal(config.port, 3000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.secureCookies, false);
    assert.deepEqual(config.database, { kind: 'pglite' });
    assert.equal(config.dataDir, './data');
    assert.equal(config.smtpUrl, undefined);
    assert.equal(config.mailFrom, 'Autogestión <no-reply@localhost>');
    assert.equal(config.smsWebhookUrl, undefined);
    assert.equal(config.captcha.provider, 'altcha');
    assert.equal(config.captcha.siteKey, undefined);
    assert.equal(config.captcha.secret, undefined);
    assert.equal(config.captcha.altchaCost, 5000);
    assert.equal(config.appSecret, undefined);
    assert.deepEqual(config.trustedProxies, []);
    assert.deepEqual(config.session, { idleMinutes: 30, maxHours: 12 });
    assert.equal(config.passwordPolicy, 'manual');
    assert.equal(config.logLevel, 'info');
    assert.equal(config.metricsToken, undefined);
    // Embedded defaults outside production: the demo member and the dev mailbox.
    assert.equal(config.demoMember, true);
    assert.equal(config.devMailbox, true);
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({
      PORT: '',
      PUBLIC_URL: ' ',
      CAPTCHA_PROVIDER: '',
      DATABASE_URL: '',
    });
    assert.equal(config.port, 3000);
    assert.equal(config.publicUrl, 'http://localhost:3000');
    assert.equal(config.captcha.provider, 'altcha');
    assert.deepEqual(config.database, { kind: 'pglite' });
  });

  it('reads the values an operator sets', () => {
    const config = loadConfig({
      NODE_ENV: 'development',
      PORT: '8080',
      HOST: '0.0.0.0',
      PUBLIC_URL: 'https://portal.example.org/',
      DATABASE_URL: 'postgresql://u@h/db',
      TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.7 ,::1,fd00::/8',
      SESSION_IDLE_MINUTES: '15',
      SESSION_MAX_HOURS: '8',
      PASSWORD_POLICY: 'asvs',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.publicUrl, 'https://portal.example.org', 'the trailing slash is dropped');
    assert.equal(config.secureCookies, true);
    assert.deepEqual(config.database, { kind: 'postgres', url: 'postgresql://u@h/db' });
    assert.deepEqual(config.trustedProxies, ['10.0.0.0/8', '192.168.1.7', '::1', 'fd00::/8']);
    assert.deepEqual(config.session, { idleMinutes: 15, maxHours: 8 });
    assert.equal(config.passwordPolicy, 'asvs');
    assert.equal(config.demoMember, false, 'no demo member on an external database');
  });

  it('defaults PUBLIC_URL to this machine on PORT, so PORT=8080 prints and mails :8080', () => {
    assert.equal(loadConfig({ PORT: '8080' }).publicUrl, 'http://localhost:8080');
    assert.equal(loadConfig({ PORT: '8080', PUBLIC_URL: '' }).publicUrl, 'http://localhost:8080');
    assert.equal(
      loadConfig({ PORT: '8080', PUBLIC_URL: 'http://portal.example.org' }).publicUrl,
      'http://portal.example.org',
      'a PUBLIC_URL that is set wins',
    );
    // PORT=0 lets the system pick a port at listen, after links are fixed:
    // the documented fallback is 3000 (set PUBLIC_URL with PORT=0).
    assert.equal(loadConfig({ PORT: '0' }).publicUrl, 'http://localhost:3000');
  });

  it('bounds the after-the-answer work with BACKGROUND_QUEUE_LIMIT', () => {
    assert.equal(loadConfig({}).backgroundQueueLimit, 1000);
    assert.equal(loadConfig({ BACKGROUND_QUEUE_LIMIT: '50' }).backgroundQueueLimit, 50);
    assert.equal(loadConfig({ BACKGROUND_QUEUE_LIMIT: '' }).backgroundQueueLimit, 1000);
  });

  it('reads the outbox retry waits and the shutdown grace period', () => {
    assert.deepEqual(
      loadConfig({}).outboxRetryDelaysMs,
      [30_000, 60_000, 120_000, 300_000, 600_000, 1_200_000],
    );
    assert.deepEqual(
      loadConfig({ OUTBOX_RETRY_DELAYS: '1s, 2s,1m,1h' }).outboxRetryDelaysMs,
      [1000, 2000, 60_000, 3_600_000],
    );
    assert.equal(loadConfig({}).shutdownGraceMs, 10_000);
    assert.equal(loadConfig({ SHUTDOWN_GRACE_SECONDS: '30' }).shutdownGraceMs, 30_000);
  });

  it('is frozen', () => {
    const config = loadConfig({});
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.captcha));
    assert.ok(Object.isFrozen(config.session));
  });

  describe('refuses a bad value with a ConfigError naming the variable', () => {
    const cases: [string, Record<string, string>][] = [
      ['PORT', { PORT: 'abc' }],
      ['PORT', { PORT: '65536' }],
      ['PUBLIC_URL', { PUBLIC_URL: 'ftp://x' }],
      ['PUBLIC_URL', { PUBLIC_URL: 'not a url' }],
      ['DATABASE_URL', { DATABASE_URL: 'mysql://u@h/db' }],
      ['CAPTCHA_PROVIDER', { CAPTCHA_PROVIDER: 'foo' }],
      ['TRUSTED_PROXIES', { TRUSTED_PROXIES: 'notanip' }],
      ['TRUSTED_PROXIES', { TRUSTED_PROXIES: '10.0.0.0/33' }],
      ['TRUSTED_PROXIES', { TRUSTED_PROXIES: 'a:b' }],
      ['TRUSTED_PROXIES', { TRUSTED_PROXIES: '10.0.0.1, 300.1.1.1' }],
      ['SESSION_IDLE_MINUTES', { SESSION_IDLE_MINUTES: '0' }],
      ['SESSION_MAX_HOURS', { SESSION_MAX_HOURS: '1.5' }],
      ['APP_SECRET', { APP_SECRET: 'too-short-secret' }],
      ['NODE_ENV', { NODE_ENV: 'prod' }],
      ['SMTP_URL', { SMTP_URL: 'http://mail.example.org' }],
      ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
      ['PASSWORD_SERVICE_WORDS', { PASSWORD_SERVICE_WORDS: 'casmu,ab' }],
      ['BACKGROUND_QUEUE_LIMIT', { BACKGROUND_QUEUE_LIMIT: '0' }],
      ['BACKGROUND_QUEUE_LIMIT', { BACKGROUND_QUEUE_LIMIT: '1000001' }],
      ['BACKGROUND_QUEUE_LIMIT', { BACKGROUND_QUEUE_LIMIT: 'many' }],
      ['OUTBOX_RETRY_DELAYS', { OUTBOX_RETRY_DELAYS: '30s,,1m' }],
      ['OUTBOX_RETRY_DELAYS', { OUTBOX_RETRY_DELAYS: '30 seconds' }],
      ['OUTBOX_RETRY_DELAYS', { OUTBOX_RETRY_DELAYS: '1d' }],
      ['SHUTDOWN_GRACE_SECONDS', { SHUTDOWN_GRACE_SECONDS: '0' }],
    ];
    for (const [variable, env] of cases) {
      it(`${variable}=${Object.values(env)[0]}`, () => {
        const line = assertRefused(env, variable);
        assert.match(line, /expected/, 'the line says what is expected');
      });
    }

    it('says how large a rate may be when it is too large', () => {
      const line = assertRefused(
        { LOGIN_FAILURES_PER_ADDRESS: '100000000/1m' },
        'LOGIN_FAILURES_PER_ADDRESS',
      );
      assert.match(line, /1 to 9999999/);
      assert.match(line, /up to 4 digits/);
    });

    it('lists every bad variable at once, in English, one per line', () => {
      const problems = problemsOf({ PORT: 'abc', CAPTCHA_PROVIDER: 'foo' });
      assert.equal(problems.length, 2);
      try {
        loadConfig({ PORT: 'abc', CAPTCHA_PROVIDER: 'foo' });
      } catch (error) {
        assert.match(String((error as Error).message), /^Invalid configuration:\n {2}- PORT: /);
        assert.match(String((error as Error).message), /\n {2}- CAPTCHA_PROVIDER: /);
      }
    });
  });

  describe('with NODE_ENV=production', () => {
    it('starts with a secret, an https address, SMTP and an SMS gateway', () => {
      const config = loadConfig(PRODUCTION);
      assert.equal(config.env, 'production');
      assert.equal(config.secureCookies, true);
      assert.equal(config.demoMember, false);
      assert.equal(config.devMailbox, false);
    });

    it('requires APP_SECRET', () => {
      assertRefused({ ...PRODUCTION, APP_SECRET: undefined }, 'APP_SECRET');
    });

    it('requires APP_SECRET of 32 characters or more', () => {
      assertRefused({ ...PRODUCTION, APP_SECRET: 'x'.repeat(31) }, 'APP_SECRET');
      assert.equal(loadConfig({ ...PRODUCTION, APP_SECRET: 'x'.repeat(32) }).appSecret?.length, 32);
    });

    it('requires an https PUBLIC_URL', () => {
      const line = assertRefused(
        { ...PRODUCTION, PUBLIC_URL: 'http://portal.example.org' },
        'PUBLIC_URL',
      );
      assert.match(line, /https:\/\//);
    });

    it('refuses CAPTCHA_PROVIDER=none', () => {
      assertRefused({ ...PRODUCTION, CAPTCHA_PROVIDER: 'none' }, 'CAPTCHA_PROVIDER');
    });

    it('refuses the dev mailbox', () => {
      assertRefused({ ...PRODUCTION, DEV_MAILBOX: 'true' }, 'DEV_MAILBOX');
      assertRefused({ ...PRODUCTION, SMTP_URL: undefined }, 'SMTP_URL');
      assertRefused({ ...PRODUCTION, SMS_WEBHOOK_URL: undefined }, 'SMS_WEBHOOK_URL');
    });

    it('refuses the demo member', () => {
      assertRefused({ ...PRODUCTION, DEMO_MEMBER: 'true' }, 'DEMO_MEMBER');
    });
  });

  describe('a hosted CAPTCHA', () => {
    for (const provider of ['recaptcha', 'hcaptcha', 'turnstile']) {
      it(`${provider} needs a site key and a secret`, () => {
        assertRefused({ CAPTCHA_PROVIDER: provider }, 'CAPTCHA_SITE_KEY and CAPTCHA_SECRET');
        assertRefused(
          { CAPTCHA_PROVIDER: provider, CAPTCHA_SITE_KEY: 'site' },
          'CAPTCHA_SITE_KEY and CAPTCHA_SECRET',
        );
        assertRefused(
          { CAPTCHA_PROVIDER: provider, CAPTCHA_SECRET: 'secret' },
          'CAPTCHA_SITE_KEY and CAPTCHA_SECRET',
        );
        const config = loadConfig({
          CAPTCHA_PROVIDER: provider,
          CAPTCHA_SITE_KEY: 'site',
          CAPTCHA_SECRET: 'secret',
        });
        assert.equal(config.captcha.provider, provider);
        assert.equal(config.captcha.siteKey, 'site');
        assert.equal(config.captcha.secret, 'secret');
      });
    }
  });

  describe('an https PUBLIC_URL (a deployment)', () => {
    it('applies the production rules when NODE_ENV is unset, saying why first', () => {
      const problems = problemsOf({ PUBLIC_URL: 'https://portal.example.org' });
      assert.match(problems[0] ?? '', /^NODE_ENV: unset with an https PUBLIC_URL/);
      assert.ok(problems.some((p) => p.startsWith('APP_SECRET')));
      assert.ok(problems.some((p) => p.startsWith('SMTP_URL')));
      assert.ok(problems.some((p) => p.startsWith('SMS_WEBHOOK_URL')));
    });

    it('runs as production when NODE_ENV is unset and the production settings are there', () => {
      const { NODE_ENV: _unset, ...rest } = PRODUCTION;
      const config = loadConfig(rest);
      assert.equal(config.env, 'production');
      assert.equal(config.productionBecause, 'https PUBLIC_URL');
      assert.equal(config.devMailbox, false);
      assert.equal(config.demoMember, false);
    });

    it('keeps the dev mailbox and the demo member off even with NODE_ENV=development', () => {
      const config = loadConfig({
        NODE_ENV: 'development',
        PUBLIC_URL: 'https://dev.example.org',
      });
      assert.equal(config.env, 'development');
      assert.equal(config.devMailbox, false);
      assert.deepEqual(config.devMailboxChannels, []);
      assert.equal(config.demoMember, false);
      assertRefused(
        { NODE_ENV: 'development', PUBLIC_URL: 'https://dev.example.org', DEV_MAILBOX: 'true' },
        'DEV_MAILBOX',
      );
      assertRefused(
        { NODE_ENV: 'development', PUBLIC_URL: 'https://dev.example.org', DEMO_MEMBER: 'true' },
        'DEMO_MEMBER',
      );
    });
  });

  it('shows in the dev mailbox only the channels without a real transport', () => {
    assert.deepEqual(loadConfig({}).devMailboxChannels, ['email', 'sms']);
    assert.deepEqual(loadConfig({ SMTP_URL: 'smtp://mail.example.org:25' }).devMailboxChannels, [
      'sms',
    ]);
    assert.deepEqual(loadConfig({ SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms' }).devMailboxChannels, [
      'email',
    ]);
    const both = loadConfig({
      SMTP_URL: 'smtp://mail.example.org:25',
      SMS_WEBHOOK_URL: 'http://127.0.0.1:9/sms',
    });
    assert.equal(both.devMailbox, false);
  });

  it('opens a management listener for metrics only when MANAGEMENT_PORT is set', () => {
    assert.equal(loadConfig({}).management, undefined);
    assert.deepEqual(loadConfig({ MANAGEMENT_PORT: '9000' }).management, {
      port: 9000,
      host: '127.0.0.1',
    });
    assertRefused({ MANAGEMENT_PORT: '0' }, 'MANAGEMENT_PORT');
    assertRefused({ MANAGEMENT_PORT: 'metrics' }, 'MANAGEMENT_PORT');
  });

  it('stops the server with exit code 1 and one clear message when the environment is bad', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: 'abc' };
    delete env.NODE_OPTIONS;
    delete env.NODE_TEST_CONTEXT;
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 1, `exit code (stderr: ${result.stderr})`);
    assert.match(result.stderr, /Autogestión cannot start/);
    assert.match(result.stderr, /PORT: expected a whole number between 0 and 65535/);
    assert.doesNotMatch(result.stderr, /^ {4}at /m, 'no stack trace');
    assert.equal(result.stdout, '', 'nothing was announced as listening');
  });
});
