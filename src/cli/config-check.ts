// The operator's check of a configuration, before a start or a deploy:
//   npm run config:check
// reads the environment exactly as the server does (src/config.ts), prints
// the effective configuration with every secret masked, and exits 0; or
// prints what is wrong, naming each variable, and exits 1. Nothing is
// connected to (no database, SMTP or gateway is tried).
import { type Config, ConfigError, loadConfig } from '../config.ts';

/** "set (48 characters)": a secret is never printed, only whether it is there. */
function secretState(value: string | undefined): string {
  return value ? `set (${value.length} characters)` : 'unset';
}

/** A URL with its password replaced: the host and user stay readable. */
export function maskUrl(raw: string | undefined): string | null {
  if (!raw) return null;
  try {
    const url = new URL(raw);
    if (url.password) url.password = '****';
    // Tokens in a query string are secrets too.
    for (const key of [...url.searchParams.keys()]) url.searchParams.set(key, '****');
    return url.toString();
  } catch {
    return '(not a URL)';
  }
}

/** The effective configuration, secrets masked, as the operator reads it. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    env: config.env,
    productionBecause: config.productionBecause,
    listen: `${config.host}:${config.port}`,
    publicUrl: config.publicUrl,
    secureCookies: config.secureCookies,
    database:
      config.database.kind === 'postgres'
        ? { kind: 'postgres', url: maskUrl(config.database.url) }
        : { kind: 'pglite', dataDir: config.dataDir },
    appSecret: config.appSecret
      ? secretState(config.appSecret)
      : `unset (a development secret kept in ${config.dataDir})`,
    smtp: maskUrl(config.smtpUrl) ?? 'unset (dev mailbox)',
    mailFrom: config.mailFrom,
    smsWebhook: maskUrl(config.smsWebhookUrl) ?? 'unset (dev mailbox)',
    devMailbox: config.devMailbox ? config.devMailboxChannels : false,
    demoMember: config.demoMember,
    captcha: {
      provider: config.captcha.provider,
      siteKey: config.captcha.siteKey ?? null,
      secret: secretState(config.captcha.secret),
      verifyUrl: maskUrl(config.captcha.verifyUrl),
      altchaCost: config.captcha.altchaCost,
    },
    trustedProxies: config.trustedProxies,
    session: config.session,
    passwordPolicy: config.passwordPolicy,
    passwordServiceWords: config.passwordServiceWords,
    brand: {
      name: config.brand.name,
      shortName: config.brand.shortName,
      primaryColor: config.brand.primaryColor,
      callCenter: config.brand.callCenter,
      logo: config.brand.logo ? 'set' : 'default',
    },
    passkeys: {
      rpId: config.passkeys.rpId ?? 'off (PUBLIC_URL is an IP address)',
      origins: config.passkeys.origins,
      appleAppIds: config.passkeys.appleAppIds,
    },
    logLevel: config.logLevel,
    metricsToken: secretState(config.metricsToken),
    management: config.management ?? null,
    auditRetentionDays: config.auditRetentionDays,
    backgroundQueueLimit: config.backgroundQueueLimit,
    limits: config.limits,
  };
}

function main(): number {
  try {
    const config = loadConfig(process.env);
    process.stdout.write(
      `Configuration OK (${config.env}).\n${JSON.stringify(describeConfig(config), null, 2)}\n`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 1;
  }
}

process.exitCode = main();
