// `npm run config:check` (src/cli/config-check.ts) as an operator runs it: a
// real process, the environment it is given, its exit code and its output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';

const SECRET = 'an-app-secret-of-forty-characters-123456';

function check(env: Record<string, string>) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/config-check.ts'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
  });
  return { code: run.status, out: run.stdout, err: run.stderr };
}

describe('npm run config:check', () => {
  it('prints the effective configuration with every secret masked, and exits 0', () => {
    const { code, out, err } = check({
      NODE_ENV: 'production',
      PUBLIC_URL: 'https://portal.example.org',
      APP_SECRET: SECRET,
      DATABASE_URL: 'postgres://portal:db-password-1@db.internal:5432/portal',
      SMTP_URL: 'smtp://mailer:smtp-password-2@smtp.internal:587',
      SMS_WEBHOOK_URL: 'https://sms.example/send?token=sms-token-3',
      METRICS_TOKEN: 'metrics-token-4',
      CAPTCHA_PROVIDER: 'turnstile',
      CAPTCHA_SITE_KEY: 'site-key',
      CAPTCHA_SECRET: 'captcha-secret-5',
    });
    assert.equal(code, 0, err);
    assert.match(out, /^Configuration OK \(production\)\./);
    const shown = JSON.parse(out.slice(out.indexOf('{')));
    assert.equal(shown.publicUrl, 'https://portal.example.org');
    assert.equal(shown.database.url, 'postgres://portal:****@db.internal:5432/portal');
    assert.equal(shown.smtp, 'smtp://mailer:****@smtp.internal:587');
    assert.equal(shown.appSecret, `set (${SECRET.length} characters)`);
    assert.equal(shown.passkeys.rpId, 'portal.example.org');
    for (const secret of [
      SECRET,
      'db-password-1',
      'smtp-password-2',
      'sms-token-3',
      'metrics-token-4',
      'captcha-secret-5',
    ])
      assert.ok(!out.includes(secret) && !err.includes(secret), `${secret} is not printed`);
  });

  it('names every problem it finds and exits 1', () => {
    const { code, out, err } = check({
      NODE_ENV: 'production',
      PUBLIC_URL: 'http://portal.example.org',
      CAPTCHA_PROVIDER: 'none',
    });
    assert.equal(code, 1);
    assert.equal(out, '');
    assert.match(err, /^Invalid configuration:/);
    for (const variable of ['APP_SECRET', 'PUBLIC_URL', 'CAPTCHA_PROVIDER', 'SMTP_URL'])
      assert.match(err, new RegExp(`- ${variable}: `), variable);
    assert.doesNotMatch(err, /at .*\.ts:\d+/, 'no stack trace');
  });
});
