// Prints docs/configuration.md from CONFIG_REFERENCE in src/config.ts, so the
// reference cannot drift from what the server reads:
//   node --import tsx scripts/config-reference.ts > docs/configuration.md
// test/unit/config-reference.test.ts fails when the committed file differs
// from this output.
import { CONFIG_REFERENCE, type ConfigGroup, type ConfigReferenceEntry } from '../src/config.ts';

/** The sections, in order, each with a sentence an operator needs before its table. */
const GROUPS: readonly { group: ConfigGroup; title: string; intro?: string }[] = [
  {
    group: 'server',
    title: 'Server',
    intro:
      'Behind a proxy, `PUBLIC_URL` is the https address members type and `TRUSTED_PROXIES` names the proxy, so that limits count the real client address ([deploy guide](deploy.md)).',
  },
  {
    group: 'database',
    title: 'Database',
    intro:
      'One of the two: PostgreSQL (`DATABASE_URL`, any number of instances) or the embedded PGlite in `DATA_DIR` (one process).',
  },
  {
    group: 'email and SMS',
    title: 'Email and SMS',
    intro:
      '`NODE_ENV=production` requires both `SMTP_URL` and `SMS_WEBHOOK_URL`. Messages wait in the outbox (in the database) until delivered.',
  },
  { group: 'CAPTCHA', title: 'CAPTCHA' },
  { group: 'sessions and passwords', title: 'Sessions and passwords' },
  {
    group: 'limits',
    title: 'Limits',
    intro:
      'SPEC §3 and [ADR 009](decisions/009-throttling.md). Windows are written `N/15m` (N from 1 to 9999999; the window up to 4 digits and a unit `s`, `m`, `h`, `d`). Counters live in the database, so every instance shares them.',
  },
  {
    group: 'brand',
    title: 'Brand',
    intro:
      'Another provider is a matter of these five settings ([ADR 022](decisions/022-light-pages-pwa-and-brand.md)); a bad value stops the start naming the variable.',
  },
  { group: 'passkeys', title: 'Passkeys' },
  { group: 'operations', title: 'Operations' },
];

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

function defaultCell(entry: ConfigReferenceEntry): string {
  const value = entry.value === undefined ? undefined : `\`${entry.value}\``;
  return [value, entry.unset].filter(Boolean).join('; ');
}

export function renderConfigReference(): string {
  const entries = Object.entries(CONFIG_REFERENCE) as [string, ConfigReferenceEntry][];
  const out: string[] = [
    '<!-- Generated from CONFIG_REFERENCE in src/config.ts: do not edit by hand. Regenerate with',
    '     node --import tsx scripts/config-reference.ts > docs/configuration.md -->',
    '',
    '# Configuration reference',
    '',
    'Every environment variable the portal reads, generated from `src/config.ts` (the only reader of',
    'the environment), so this page lists exactly what the server reads. To change it, edit',
    '`CONFIG_REFERENCE` there and run `node --import tsx scripts/config-reference.ts >',
    'docs/configuration.md`; a unit test fails while the two differ.',
    '',
    'Everything is read once, at start-up. A bad value stops the start with a message naming the',
    'variable, and exit code 1. `npm run config:check` reads the environment exactly as the server',
    'would and prints the effective configuration with secrets masked. An empty value counts as',
    'unset.',
    '',
    `${entries.length} variables:`,
    '',
  ];
  for (const { group, title, intro } of GROUPS) {
    const rows = entries.filter(([, entry]) => entry.group === group);
    if (rows.length === 0) continue;
    out.push(`## ${title}`, '');
    if (intro) out.push(intro, '');
    out.push('| variable | meaning | default |', '| --- | --- | --- |');
    for (const [name, entry] of rows) {
      out.push(`| \`${name}\` | ${cell(entry.meaning)} | ${cell(defaultCell(entry))} |`);
    }
    out.push('');
  }
  out.push(
    '## Read by Node.js, not by the portal',
    '',
    '| variable | meaning | default |',
    '| --- | --- | --- |',
    "| `UV_THREADPOOL_SIZE` | libuv's thread pool, where argon2id runs: password checks at once are `min(cores + 1, UV_THREADPOOL_SIZE − 1)` ([ADR 019](decisions/019-login-path-performance.md)); raise it on a machine with more than 2 cores | `4` |",
    '',
  );
  return out.join('\n');
}

process.stdout.write(renderConfigReference());
