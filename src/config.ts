// The only reader of process.env. Parses and validates the environment once
// into a typed, frozen object; a bad value becomes a ConfigError whose lines
// name the variable and what it expects (English: operators read them).
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  type PasskeyParty,
  parseAndroidApps,
  parseAppleAppIds,
  passkeyParty,
} from './auth/passkey-party.ts';
import { DEFAULT_BACKGROUND_QUEUE_LIMIT } from './flows/background.ts';
import { type Brand, brandFromEnv, DEFAULT_BRAND_NAME } from './site/brand.ts';

export const CAPTCHA_PROVIDERS = ['altcha', 'recaptcha', 'hcaptcha', 'turnstile', 'none'] as const;
export type CaptchaProviderName = (typeof CAPTCHA_PROVIDERS)[number];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const emptyToUndefined = (value: unknown) =>
  typeof value === 'string' && value.trim() === '' ? undefined : value;

const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

const integer = (min: number, max: number, fallback: number) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d+$/, { message: `expected a whole number between ${min} and ${max}` })
      .transform(Number)
      .pipe(
        z
          .number()
          .min(min, { message: `expected a whole number between ${min} and ${max}` })
          .max(max, { message: `expected a whole number between ${min} and ${max}` }),
      )
      .default(fallback),
  );

const url = (protocols: string[], what: string) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .refine(
        (value) => {
          try {
            return protocols.includes(new URL(value).protocol);
          } catch {
            return false;
          }
        },
        { message: `expected ${what}` },
      )
      .optional(),
  );

const booleanFlag = z.preprocess(
  emptyToUndefined,
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
    .transform((value) => value === 'true' || value === '1' || value === 'yes')
    .optional(),
);

const cidrList = z.preprocess(
  emptyToUndefined,
  z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .refine((parts) => parts.every(isCidr), {
      message: 'expected a comma-separated list of IP addresses or CIDR ranges (e.g. 10.0.0.0/8)',
    })
    .optional(),
);

function isCidr(value: string): boolean {
  const [address, prefix, extra] = value.split('/');
  if (extra !== undefined || !address) return false;
  const version = isIP(address);
  if (version === 0) return false;
  const max = version === 4 ? 32 : 128;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= max);
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "N/15m": N events per window (s, m, h or d). */
const rate = (fallback: string) =>
  z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d{1,7}\/\d{1,4}[smhd]$/, {
        message:
          'expected a count (1 to 9999999) per window (up to 4 digits and a unit s, m, h or d) such as 100/15m',
      })
      .default(fallback)
      .transform((value) => {
        const [count, window] = value.split('/') as [string, string];
        const unit = window.slice(-1);
        return {
          limit: Number(count),
          windowMs: Number(window.slice(0, -1)) * (UNIT_MS[unit] as number),
        };
      })
      .refine((r) => r.limit > 0 && r.windowMs > 0, {
        message: 'expected a count and a window above zero, such as 100/15m',
      }),
  );

/** The outbox's waits before try 2, 3, …: 7 tries over about 38 minutes. */
export const DEFAULT_OUTBOX_RETRY_DELAYS = '30s,1m,2m,5m,10m,20m';

/** PASSWORD_SERVICE_WORDS by default: the provider of the manual and the portal's own words. */
export const DEFAULT_PASSWORD_SERVICE_WORDS: readonly string[] = [
  'casmu',
  'autogestion',
  'portal',
  'socio',
];

const schema = z.object({
  NODE_ENV: z.preprocess(
    emptyToUndefined,
    z
      .enum(['production', 'development', 'test'], {
        message: 'expected production, development or test',
      })
      .default('development'),
  ),
  PORT: integer(0, 65535, 3000),
  HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  PUBLIC_URL: z.preprocess(
    emptyToUndefined,
    url(
      ['http:', 'https:'],
      'an http:// or https:// address such as https://portal.example.org',
    ).transform((value) => value?.replace(/\/+$/, '')),
  ),
  DATABASE_URL: url(
    ['postgres:', 'postgresql:'],
    'a postgres:// connection address (leave it unset for the embedded database)',
  ),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  SMTP_URL: url(
    ['smtp:', 'smtps:'],
    'an smtp:// or smtps:// address such as smtp://user:pass@host:587',
  ),
  MAIL_FROM: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^(?:[^<>]*<[^<>\s]+@[^<>\s]+>|[^<>\s]+@[^<>\s]+)$/, {
        message: 'expected an address such as "Autogestión <no-reply@example.org>"',
      })
      .optional(),
  ),
  SMS_WEBHOOK_URL: url(['http:', 'https:'], 'an http:// or https:// address of the SMS gateway'),
  CAPTCHA_PROVIDER: z.preprocess(
    emptyToUndefined,
    z
      .enum(CAPTCHA_PROVIDERS, { message: `expected one of ${CAPTCHA_PROVIDERS.join(', ')}` })
      .default('altcha'),
  ),
  CAPTCHA_SITE_KEY: optionalString,
  CAPTCHA_SECRET: optionalString,
  CAPTCHA_VERIFY_URL: url(['http:', 'https:'], 'an http:// or https:// verify endpoint'),
  ALTCHA_COST: integer(1, 10_000_000, 5000),
  APP_SECRET: z.preprocess(
    emptyToUndefined,
    z.string().min(32, { message: 'expected at least 32 characters' }).optional(),
  ),
  TRUSTED_PROXIES: cidrList,
  SESSION_IDLE_MINUTES: integer(1, 24 * 60, 30),
  SESSION_MAX_HOURS: integer(1, 24 * 30, 12),
  PASSWORD_POLICY: z.preprocess(
    emptyToUndefined,
    z.enum(['manual', 'asvs'], { message: 'expected manual or asvs' }).default('manual'),
  ),
  PASSWORD_SERVICE_WORDS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .transform((value) =>
        value
          .split(',')
          .map((word) => word.trim())
          .filter((word) => word !== ''),
      )
      .refine((words) => words.every((word) => word.length >= 4 && word.length <= 40), {
        message: 'expected comma-separated words of 4 to 40 characters',
      })
      .optional(),
  ),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        message: 'expected fatal, error, warn, info, debug, trace or silent',
      })
      .default('info'),
  ),
  METRICS_TOKEN: optionalString,
  // Native apps that share the portal's passkeys (src/auth/passkey-party.ts).
  PASSKEY_ANDROID_APPS: optionalString,
  PASSKEY_APPLE_APP_IDS: optionalString,
  // Checked together by brandFromEnv (src/site/brand.ts), after the schema.
  BRAND_NAME: optionalString,
  BRAND_SHORT_NAME: optionalString,
  BRAND_LOGO: optionalString,
  BRAND_PRIMARY_COLOR: optionalString,
  BRAND_CALL_CENTER: optionalString,
  MANAGEMENT_PORT: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^\d+$/, { message: 'expected a port number between 1 and 65535' })
      .transform(Number)
      .pipe(
        z
          .number()
          .min(1, { message: 'expected a port number between 1 and 65535' })
          .max(65535, { message: 'expected a port number between 1 and 65535' }),
      )
      .optional(),
  ),
  MANAGEMENT_HOST: z.preprocess(emptyToUndefined, z.string().default('127.0.0.1')),
  DEMO_MEMBER: booleanFlag,
  DEV_MAILBOX: booleanFlag,
  LOGIN_FREE_FAILURES: integer(1, 100, 4),
  LOGIN_WAIT_FIRST_SECONDS: integer(1, 86_400, 60),
  LOGIN_WAIT_MAX_SECONDS: integer(1, 86_400, 900),
  LOGIN_FAILURES_PER_ADDRESS: rate('100/15m'),
  LOGIN_FAILURES_GLOBAL: rate('10000/15m'),
  PASSWORD_REQUESTS_PER_ADDRESS: rate('30/1h'),
  CAPTCHA_CHALLENGES_PER_ADDRESS: rate('600/15m'),
  CAPTCHA_FAILURES_PER_ADDRESS: rate('30/15m'),
  SMS_CODE_FAILURES_PER_ADDRESS: rate('30/1h'),
  DEVICE_FREE_FAILURES: integer(1, 100, 4),
  MESSAGES_PER_MEMBER_PER_HOUR: integer(1, 1000, 5),
  SMS_PER_NUMBER_PER_HOUR: integer(1, 1000, 3),
  SMS_PER_NUMBER_PER_DAY: integer(1, 10_000, 10),
  SMS_HOURLY_BUDGET: integer(0, 10_000_000, 500),
  AUDIT_RETENTION_DAYS: integer(1, 3650, 400),
  BACKGROUND_QUEUE_LIMIT: integer(1, 1_000_000, DEFAULT_BACKGROUND_QUEUE_LIMIT),
  OUTBOX_RETRY_DELAYS: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .default(DEFAULT_OUTBOX_RETRY_DELAYS)
      .transform((value) => value.split(',').map((part) => part.trim()))
      .refine(
        (parts) => parts.length >= 1 && parts.length <= 20 && parts.every((p) => DURATION.test(p)),
        {
          message:
            'expected 1 to 20 comma-separated waits, each a number and a unit s, m or h, such as 30s,1m,2m,5m,10m,20m',
        },
      )
      .transform((parts) => parts.map(durationMs)),
  ),
  SHUTDOWN_GRACE_SECONDS: integer(1, 600, 10),
});

const DURATION = /^\d{1,5}[smh]$/;
/** "30s", "2m", "1h" in milliseconds (already checked against DURATION). */
function durationMs(value: string): number {
  return Number(value.slice(0, -1)) * (UNIT_MS[value.slice(-1)] as number);
}

export interface Config {
  readonly env: 'production' | 'development' | 'test';
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
  /** The relying party of passkeys (WebAuthn), from PUBLIC_URL and the native apps. */
  readonly passkeys: PasskeyParty;
  /** True when PUBLIC_URL is https: Secure, __Host- cookies and HSTS. */
  readonly secureCookies: boolean;
  readonly database:
    | { readonly kind: 'postgres'; readonly url: string }
    | { readonly kind: 'pglite' };
  readonly dataDir: string;
  readonly smtpUrl: string | undefined;
  readonly mailFrom: string;
  readonly smsWebhookUrl: string | undefined;
  readonly captcha: {
    readonly provider: CaptchaProviderName;
    readonly siteKey: string | undefined;
    readonly secret: string | undefined;
    readonly verifyUrl: string | undefined;
    readonly altchaCost: number;
  };
  /** Unset outside production means "generate once into DATA_DIR" (see server.ts). */
  readonly appSecret: string | undefined;
  readonly trustedProxies: readonly string[];
  readonly session: { readonly idleMinutes: number; readonly maxHours: number };
  readonly passwordPolicy: 'manual' | 'asvs';
  /** Words of the provider and the service no password may contain. */
  readonly passwordServiceWords: readonly string[];
  /** BRAND_*: the provider's name, label, logo, colour and call centre. */
  readonly brand: Brand;
  readonly logLevel: string;
  readonly metricsToken: string | undefined;
  /**
   * A second listener for /metrics, /healthz and /readyz only (bound to
   * loopback by default); when set, the public port serves no /metrics.
   */
  readonly management: { readonly port: number; readonly host: string } | undefined;
  /** Create and announce the demo member 1234567 / demo2026. */
  readonly demoMember: boolean;
  /** Keep email and SMS in the dev mailbox page instead of sending them. */
  readonly devMailbox: boolean;
  /** The channels the dev mailbox shows: those without a real transport. */
  readonly devMailboxChannels: readonly ('email' | 'sms')[];
  /** Why env is production when NODE_ENV did not say so (an https PUBLIC_URL), for the start banner. */
  readonly productionBecause: 'NODE_ENV' | 'https PUBLIC_URL' | null;
  /** Audit events older than this are deleted by housekeeping. */
  readonly auditRetentionDays: number;
  /** Password requests waiting for their after-the-answer work; past it: 503. */
  readonly backgroundQueueLimit: number;
  /** The outbox's waits before try 2, 3, … (tries = waits + 1). */
  readonly outboxRetryDelaysMs: readonly number[];
  /** How long SIGTERM waits for requests in flight before the process gives up (exit 1). */
  readonly shutdownGraceMs: number;
  /** SPEC §3's default limits table, every value configurable. */
  readonly limits: {
    readonly loginFreeFailures: number;
    readonly loginWaitFirstMs: number;
    readonly loginWaitMaxMs: number;
    readonly loginFailuresPerAddress: { readonly limit: number; readonly windowMs: number };
    /** Failed logins on every instance together; past it: an alert and harder CAPTCHAs. */
    readonly loginFailuresGlobal: { readonly limit: number; readonly windowMs: number };
    readonly passwordRequestsPerAddress: { readonly limit: number; readonly windowMs: number };
    readonly captchaChallengesPerAddress: { readonly limit: number; readonly windowMs: number };
    /** Failed or missing CAPTCHAs: past it, only the failing requests of that address get 429. */
    readonly captchaFailuresPerAddress: { readonly limit: number; readonly windowMs: number };
    /** Wrong SMS codes per address (counted apart from password requests). */
    readonly smsCodeFailuresPerAddress: { readonly limit: number; readonly windowMs: number };
    /** Failed logins a known device may make before its own wait starts. */
    readonly deviceFreeFailures: number;
    readonly messagesPerMemberPerHour: number;
    readonly smsPerNumberPerHour: number;
    readonly smsPerNumberPerDay: number;
    readonly smsHourlyBudget: number;
  };
}

/**
 * PUBLIC_URL when unset: this machine on the port the server listens on.
 * PORT=0 (a port the system picks at listen, for tests) cannot be known
 * here, when links and the form origin are fixed: set PUBLIC_URL with it;
 * unset, it falls back to port 3000.
 */
function defaultPublicUrl(port: number): string {
  return `http://localhost:${port === 0 ? 3000 : port}`;
}

export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map(
        (issue) => `${String(issue.path[0] ?? 'environment')}: ${issue.message}`,
      ),
    );
  }
  const v = parsed.data;
  const publicUrl = v.PUBLIC_URL ?? defaultPublicUrl(v.PORT);
  const https = publicUrl.startsWith('https://');
  // An https PUBLIC_URL is a deployment: without NODE_ENV it gets the
  // production rules rather than development defaults (ADR 014).
  const nodeEnvSet = emptyToUndefined(env.NODE_ENV) !== undefined;
  const production = v.NODE_ENV === 'production' || (!nodeEnvSet && https);
  const embedded = v.DATABASE_URL === undefined;
  const problems: string[] = [];
  const brand = brandFromEnv(v, problems);
  const passkeys = passkeyParty(
    publicUrl,
    parseAndroidApps(v.PASSKEY_ANDROID_APPS, problems),
    parseAppleAppIds(v.PASSKEY_APPLE_APP_IDS, problems),
  );

  const hostedCaptcha = ['recaptcha', 'hcaptcha', 'turnstile'].includes(v.CAPTCHA_PROVIDER);
  if (hostedCaptcha && (!v.CAPTCHA_SITE_KEY || !v.CAPTCHA_SECRET)) {
    problems.push(
      `CAPTCHA_SITE_KEY and CAPTCHA_SECRET: required when CAPTCHA_PROVIDER=${v.CAPTCHA_PROVIDER}`,
    );
  }
  // The dev mailbox shows the channels that have no real transport, and never
  // on an https address (a deployment: SMS codes would be shown to the internet).
  const withoutTransport = [
    ...(v.SMTP_URL ? [] : (['email'] as const)),
    ...(v.SMS_WEBHOOK_URL ? [] : (['sms'] as const)),
  ];
  const devMailbox = v.DEV_MAILBOX ?? (!production && !https && withoutTransport.length > 0);
  const demoMember = v.DEMO_MEMBER ?? (!production && !https && embedded);
  if (!production && https && devMailbox)
    problems.push(
      'DEV_MAILBOX: the dev mailbox is refused with an https PUBLIC_URL (a deployment); set SMTP_URL and SMS_WEBHOOK_URL',
    );
  if (!production && https && demoMember)
    problems.push(
      'DEMO_MEMBER: the demo member (public password) is refused with an https PUBLIC_URL (a deployment)',
    );
  if (production) {
    if (!v.APP_SECRET)
      problems.push('APP_SECRET: required when NODE_ENV=production (32 characters or more)');
    if (!publicUrl.startsWith('https://'))
      problems.push('PUBLIC_URL: must be an https:// address when NODE_ENV=production');
    if (v.CAPTCHA_PROVIDER === 'none')
      problems.push(
        'CAPTCHA_PROVIDER: "none" is for tests only and refused when NODE_ENV=production',
      );
    if (!v.SMTP_URL)
      problems.push('SMTP_URL: required when NODE_ENV=production (the dev mailbox is refused)');
    if (!v.SMS_WEBHOOK_URL)
      problems.push(
        'SMS_WEBHOOK_URL: required when NODE_ENV=production (the dev mailbox is refused)',
      );
    if (devMailbox)
      problems.push('DEV_MAILBOX: the dev mailbox is refused when NODE_ENV=production');
    if (demoMember)
      problems.push('DEMO_MEMBER: the demo member is refused when NODE_ENV=production');
  }
  if (problems.length > 0 && production && !nodeEnvSet)
    problems.unshift(
      'NODE_ENV: unset with an https PUBLIC_URL, so the production rules below apply (set NODE_ENV=production to say so, or NODE_ENV=development for a development server on https)',
    );
  if (problems.length > 0) throw new ConfigError(problems);

  return Object.freeze({
    env: production ? 'production' : v.NODE_ENV,
    port: v.PORT,
    host: v.HOST,
    publicUrl,
    secureCookies: publicUrl.startsWith('https://'),
    database: embedded
      ? ({ kind: 'pglite' } as const)
      : ({ kind: 'postgres', url: v.DATABASE_URL as string } as const),
    dataDir: v.DATA_DIR,
    smtpUrl: v.SMTP_URL,
    // The sender's display name is the brand's unless MAIL_FROM says otherwise.
    mailFrom: v.MAIL_FROM ?? `${brand.name.replace(/["\\<>]/g, '')} <no-reply@localhost>`,
    smsWebhookUrl: v.SMS_WEBHOOK_URL,
    captcha: Object.freeze({
      provider: v.CAPTCHA_PROVIDER,
      siteKey: v.CAPTCHA_SITE_KEY,
      secret: v.CAPTCHA_SECRET,
      verifyUrl: v.CAPTCHA_VERIFY_URL,
      altchaCost: v.ALTCHA_COST,
    }),
    appSecret: v.APP_SECRET,
    trustedProxies: Object.freeze(v.TRUSTED_PROXIES ?? []),
    session: Object.freeze({ idleMinutes: v.SESSION_IDLE_MINUTES, maxHours: v.SESSION_MAX_HOURS }),
    passwordPolicy: v.PASSWORD_POLICY,
    // The brand's words join the defaults; a list that is set is taken as it is.
    passwordServiceWords: Object.freeze(
      v.PASSWORD_SERVICE_WORDS ?? [...new Set([...DEFAULT_PASSWORD_SERVICE_WORDS, ...brand.words])],
    ),
    brand,
    passkeys,
    logLevel: v.LOG_LEVEL,
    metricsToken: v.METRICS_TOKEN,
    management:
      v.MANAGEMENT_PORT === undefined
        ? undefined
        : Object.freeze({ port: v.MANAGEMENT_PORT, host: v.MANAGEMENT_HOST }),
    demoMember,
    devMailbox,
    devMailboxChannels: Object.freeze(devMailbox ? withoutTransport : []),
    productionBecause: production ? (nodeEnvSet ? 'NODE_ENV' : 'https PUBLIC_URL') : null,
    auditRetentionDays: v.AUDIT_RETENTION_DAYS,
    backgroundQueueLimit: v.BACKGROUND_QUEUE_LIMIT,
    outboxRetryDelaysMs: Object.freeze(v.OUTBOX_RETRY_DELAYS),
    shutdownGraceMs: v.SHUTDOWN_GRACE_SECONDS * 1000,
    limits: Object.freeze({
      loginFreeFailures: v.LOGIN_FREE_FAILURES,
      loginWaitFirstMs: v.LOGIN_WAIT_FIRST_SECONDS * 1000,
      loginWaitMaxMs: v.LOGIN_WAIT_MAX_SECONDS * 1000,
      loginFailuresPerAddress: Object.freeze(v.LOGIN_FAILURES_PER_ADDRESS),
      loginFailuresGlobal: Object.freeze(v.LOGIN_FAILURES_GLOBAL),
      passwordRequestsPerAddress: Object.freeze(v.PASSWORD_REQUESTS_PER_ADDRESS),
      captchaChallengesPerAddress: Object.freeze(v.CAPTCHA_CHALLENGES_PER_ADDRESS),
      captchaFailuresPerAddress: Object.freeze(v.CAPTCHA_FAILURES_PER_ADDRESS),
      smsCodeFailuresPerAddress: Object.freeze(v.SMS_CODE_FAILURES_PER_ADDRESS),
      deviceFreeFailures: v.DEVICE_FREE_FAILURES,
      messagesPerMemberPerHour: v.MESSAGES_PER_MEMBER_PER_HOUR,
      smsPerNumberPerHour: v.SMS_PER_NUMBER_PER_HOUR,
      smsPerNumberPerDay: v.SMS_PER_NUMBER_PER_DAY,
      smsHourlyBudget: v.SMS_HOURLY_BUDGET,
    }),
  });
}

/**
 * The operator's reference of every variable the schema reads, from which
 * scripts/config-reference.ts prints docs/configuration.md. A record beside
 * the schema rather than `.describe()` on each field: the default an
 * operator sees is often not the schema's (PUBLIC_URL, MAIL_FROM, DEMO_MEMBER
 * and DEV_MAILBOX are worked out in loadConfig from other variables), and the
 * parsing lines stay untouched. Its keys are the schema's keys, so a
 * variable added to the schema without an entry (or an entry left behind
 * by a removed one) does not compile; test/unit/config-reference.test.ts
 * also checks that writing each `value` changes nothing.
 */
export type ConfigGroup =
  | 'server'
  | 'database'
  | 'email and SMS'
  | 'CAPTCHA'
  | 'sessions and passwords'
  | 'limits'
  | 'brand'
  | 'passkeys'
  | 'operations';

export interface ConfigReferenceEntry {
  readonly group: ConfigGroup;
  /** One line of English (Markdown inline code allowed): what the variable sets. */
  readonly meaning: string;
  /** The default when it is one value, written as the operator would write it. */
  readonly value?: string;
  /** What an unset variable means, when there is no single value (or a remark on it). */
  readonly unset?: string;
}

export const CONFIG_REFERENCE: { readonly [K in keyof typeof schema.shape]: ConfigReferenceEntry } =
  {
    NODE_ENV: {
      group: 'server',
      meaning:
        '`production`, `development` or `test`; production requires `APP_SECRET`, an https `PUBLIC_URL`, `SMTP_URL` and `SMS_WEBHOOK_URL`, and refuses the dev mailbox, the demo member and CAPTCHA `none`',
      value: 'development',
      unset:
        'with an https `PUBLIC_URL`, the production rules ([ADR 014](decisions/014-production-detection.md))',
    },
    PORT: {
      group: 'server',
      meaning: 'the port the server listens on (`0`: one the system picks; then set `PUBLIC_URL`)',
      value: '3000',
    },
    HOST: {
      group: 'server',
      meaning:
        'the address the server listens on (`0.0.0.0`: every interface, for a proxy on another machine)',
      value: '127.0.0.1',
    },
    PUBLIC_URL: {
      group: 'server',
      meaning:
        'the address members see, the only base of absolute links (cookie security: https turns on `Secure`, `__Host-` cookies and HSTS)',
      unset: '`http://localhost:<PORT>` (`PORT=0`: set it; unset, `:3000`)',
    },
    APP_SECRET: {
      group: 'server',
      meaning:
        'key for cookies and keyed hashes, ≥ 32 characters; required when `NODE_ENV=production`; the same on every instance, and kept with the backups',
      unset: 'outside production: generated once into `DATA_DIR/app-secret`',
    },
    TRUSTED_PROXIES: {
      group: 'server',
      meaning:
        'comma-separated IPs/CIDRs of proxies whose `X-Forwarded-For`, `X-Forwarded-Proto` and `X-Request-Id` are believed',
      unset: 'none',
    },
    DATABASE_URL: {
      group: 'database',
      meaning: '`postgres://…` for PostgreSQL',
      unset: 'embedded PGlite in `DATA_DIR`',
    },
    DATA_DIR: {
      group: 'database',
      meaning:
        'folder for the embedded database and the generated development secret (one process at a time)',
      value: './data',
    },
    DEMO_MEMBER: {
      group: 'database',
      meaning:
        'create the demo member 1234567 / demo2026 (`true`/`false`; refused in production and with an https `PUBLIC_URL`)',
      unset: '`true` on the embedded database outside production',
    },
    SMTP_URL: {
      group: 'email and SMS',
      meaning: '`smtp://user:pass@host:port` (or `smtps://`) of the mail server',
      unset: 'messages go to the dev mailbox',
    },
    MAIL_FROM: {
      group: 'email and SMS',
      meaning: 'sender address and name, such as `Autogestión <no-reply@example.org>`',
      unset: '`<BRAND_NAME> <no-reply@localhost>`',
    },
    SMS_WEBHOOK_URL: {
      group: 'email and SMS',
      meaning: 'HTTP endpoint of the SMS gateway',
      unset: 'messages go to the dev mailbox',
    },
    DEV_MAILBOX: {
      group: 'email and SMS',
      meaning:
        'keep email and SMS in a dev mailbox page, for the channels without a transport, answered to direct local clients only (refused in production and with an https `PUBLIC_URL`)',
      unset: '`true` outside production, on http, when `SMTP_URL` or `SMS_WEBHOOK_URL` is unset',
    },
    OUTBOX_RETRY_DELAYS: {
      group: 'email and SMS',
      meaning:
        'the waits before a failed email or SMS is tried again (tries = waits + 1), each a number and `s`, `m` or `h`; after the last try the message is abandoned (`npm run outbox -- status`)',
      value: DEFAULT_OUTBOX_RETRY_DELAYS,
    },
    CAPTCHA_PROVIDER: {
      group: 'CAPTCHA',
      meaning:
        '`altcha` (self-hosted proof of work), `recaptcha`, `hcaptcha`, `turnstile`; `none` for tests and benchmarks (refused in production)',
      value: 'altcha',
    },
    CAPTCHA_SITE_KEY: {
      group: 'CAPTCHA',
      meaning: 'site key of a hosted CAPTCHA (required with `recaptcha`, `hcaptcha`, `turnstile`)',
      unset: 'none',
    },
    CAPTCHA_SECRET: {
      group: 'CAPTCHA',
      meaning:
        'secret key of a hosted CAPTCHA (required with `recaptcha`, `hcaptcha`, `turnstile`)',
      unset: 'none',
    },
    CAPTCHA_VERIFY_URL: {
      group: 'CAPTCHA',
      meaning: "override of the hosted provider's verify endpoint (tests, proxies)",
      unset: "the provider's",
    },
    ALTCHA_COST: {
      group: 'CAPTCHA',
      meaning: 'PBKDF2 iterations per ALTCHA guess ([ADR 005](decisions/005-altcha-captcha.md))',
      value: '5000',
    },
    SESSION_IDLE_MINUTES: {
      group: 'sessions and passwords',
      meaning: 'a member session ends after this many minutes without a request',
      value: '30',
    },
    SESSION_MAX_HOURS: {
      group: 'sessions and passwords',
      meaning: 'a member session ends this many hours after the login, however active',
      value: '12',
    },
    PASSWORD_POLICY: {
      group: 'sessions and passwords',
      meaning: '`manual` (6–10 letters/digits, ≥ 1 digit) or `asvs` (8–64 printable characters)',
      value: 'manual',
    },
    PASSWORD_SERVICE_WORDS: {
      group: 'sessions and passwords',
      meaning:
        'words of the provider and the service no password may contain (comma-separated, 4–40 characters each; case and accents ignored)',
      unset: `\`${DEFAULT_PASSWORD_SERVICE_WORDS.join(',')}\` and the words of \`BRAND_NAME\` and \`BRAND_SHORT_NAME\` (4+ letters)`,
    },
    LOGIN_FREE_FAILURES: {
      group: 'limits',
      meaning: 'failed logins of one account before the first wait',
      value: '4',
      unset: 'the 5th failure starts a wait',
    },
    LOGIN_WAIT_FIRST_SECONDS: {
      group: 'limits',
      meaning: "an account's first wait after its free failures, doubling with each failure",
      value: '60',
    },
    LOGIN_WAIT_MAX_SECONDS: {
      group: 'limits',
      meaning: "the longest an account's wait grows",
      value: '900',
    },
    LOGIN_FAILURES_PER_ADDRESS: {
      group: 'limits',
      meaning: 'failed logins per client address (tries with a solved CAPTCHA only)',
      value: '100/15m',
    },
    LOGIN_FAILURES_GLOBAL: {
      group: 'limits',
      meaning:
        'failed logins on all instances together; past it an `ALERT` line, a `login_failures_surge` audit event, and CAPTCHA challenges three times the work until the window ends (nobody is refused)',
      value: '10000/15m',
    },
    PASSWORD_REQUESTS_PER_ADDRESS: {
      group: 'limits',
      meaning: 'password requests per client address (with a solved CAPTCHA only)',
      value: '30/1h',
    },
    CAPTCHA_CHALLENGES_PER_ADDRESS: {
      group: 'limits',
      meaning:
        'new ALTCHA challenges per client address (each costs the server a key derivation); past it the address gets one of 16 kept for it, never 429',
      value: '600/15m',
    },
    CAPTCHA_FAILURES_PER_ADDRESS: {
      group: 'limits',
      meaning:
        "failed or missing CAPTCHAs per client address; past it only that address's failing requests get 429 (audited once per window)",
      value: '30/15m',
    },
    SMS_CODE_FAILURES_PER_ADDRESS: {
      group: 'limits',
      meaning:
        'wrong SMS codes per client address, counted before the check (a known device does not spend it)',
      value: '30/1h',
    },
    DEVICE_FREE_FAILURES: {
      group: 'limits',
      meaning:
        'failed logins of a known device before its own wait ([ADR 016](decisions/016-device-cookies.md))',
      value: '4',
    },
    MESSAGES_PER_MEMBER_PER_HOUR: {
      group: 'limits',
      meaning: 'request emails and SMS per member',
      value: '5',
    },
    SMS_PER_NUMBER_PER_HOUR: {
      group: 'limits',
      meaning: 'SMS to one number per hour',
      value: '3',
    },
    SMS_PER_NUMBER_PER_DAY: {
      group: 'limits',
      meaning: 'SMS to one number per day',
      value: '10',
    },
    SMS_HOURLY_BUDGET: {
      group: 'limits',
      meaning:
        'SMS sent in total per hour; reaching it logs an `ALERT` and stops SMS (never email)',
      value: '500',
    },
    AUDIT_RETENTION_DAYS: {
      group: 'limits',
      meaning: 'audit events older than this are deleted',
      value: '400',
    },
    BACKGROUND_QUEUE_LIMIT: {
      group: 'limits',
      meaning:
        'password requests waiting for their after-the-answer work, per process; past it a request answers 503 `SERVICE_BUSY` with `Retry-After: 5`',
      value: String(DEFAULT_BACKGROUND_QUEUE_LIMIT),
    },
    BRAND_NAME: {
      group: 'brand',
      meaning:
        "the provider's name on pages, titles, emails, SMS (without accents) and the app manifest; 1–40 characters",
      value: DEFAULT_BRAND_NAME,
    },
    BRAND_SHORT_NAME: {
      group: 'brand',
      meaning: "the label under the icon on a phone's home screen, ≤ 12 characters",
      unset:
        '`BRAND_NAME` when it fits, else its first words that fit (or the first word cut to 12)',
    },
    BRAND_LOGO: {
      group: 'brand',
      meaning:
        'path to an SVG or PNG logo (≤ 1 MB; a PNG ≥ 192 px each side): the page header, the favicon and the app icons are made from it at start',
      unset: 'the default mark (a white cross on `BRAND_PRIMARY_COLOR`)',
    },
    BRAND_PRIMARY_COLOR: {
      group: 'brand',
      meaning:
        '`#rrggbb` of the header, buttons and links; refused at start when white text on it, or it as text on the page background (`#f3f1ef`), is below 4.5:1 (WCAG AA)',
      value: '#a0102e',
    },
    BRAND_CALL_CENTER: {
      group: 'brand',
      meaning:
        'the help number as members dial it (text and `tel:` link on every page, email and SMS), up to 20 digits, spaces, `+ * # ( ) . -`',
      value: '144',
    },
    PASSKEY_ANDROID_APPS: {
      group: 'passkeys',
      meaning:
        "Android apps that share the portal's passkeys: `package=SHA256_FINGERPRINT` (the signing certificate's, `AA:BB:…`), comma-separated; served as `/.well-known/assetlinks.json` and their answers accepted ([ADR 025](decisions/025-passkeys.md))",
      unset: 'no file',
    },
    PASSKEY_APPLE_APP_IDS: {
      group: 'passkeys',
      meaning:
        'iOS apps that share them: `TEAMID.bundle.id`, comma-separated; served as `/.well-known/apple-app-site-association`',
      unset: 'no file',
    },
    LOG_LEVEL: {
      group: 'operations',
      meaning: 'pino level of the JSON log lines on stdout (`fatal` … `trace`, `silent`)',
      value: 'info',
    },
    METRICS_TOKEN: {
      group: 'operations',
      meaning: 'bearer token a scraper must send to read `/metrics` on the public port',
      unset: 'only a direct local client (loopback, no forwarding header) may read it',
    },
    MANAGEMENT_PORT: {
      group: 'operations',
      meaning:
        'a second listener with `/metrics`, `/healthz`, `/readyz` only; the public port then has no `/metrics` ([ADR 015](decisions/015-metrics-access-and-management-port.md))',
      unset: 'none',
    },
    MANAGEMENT_HOST: {
      group: 'operations',
      meaning: 'the address the management listener binds to',
      value: '127.0.0.1',
    },
    SHUTDOWN_GRACE_SECONDS: {
      group: 'operations',
      meaning:
        'on SIGTERM, how long the process waits for the requests in flight before it gives up and exits 1',
      value: '10',
    },
  };
