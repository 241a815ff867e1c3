// The operator's command `npm run audit -- --document 1234567 --since 24h`:
// prints the audit trail (newest first) as a table, or JSON lines.
import { parseArgs } from 'node:util';
import { type AuditRow, findAuditEvents, parseDuration } from '../audit/query.ts';
import { loadConfig } from '../config.ts';
import { loadOrCreateDevSecret } from '../dev-secret.ts';
import { describeStartupError } from '../startup-errors.ts';
import { documentOption, UsageError, withDatabase } from './common.ts';

const USAGE = `usage: npm run audit -- [--document N] [--since 24h] [--type login] [--limit 200] [--json]

  --document N   a document or member number (dots and dashes allowed)
  --since D      only events newer than D: 30m, 24h, 7d
  --type T       only one event type (login, logout, link_sent, code_sent,
                 code_verified, password_set, throttled, captcha_failed, ...)
  --limit N      at most N events (default 200)
  --json         one JSON object per line instead of a table`;

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig(process.env);
  const secret = config.appSecret ?? loadOrCreateDevSecret(config.dataDir);
  return withDatabase(config, async (db) => {
    const rows = await findAuditEvents(db, secret, {
      ...(parsed.identifier !== undefined ? { identifier: parsed.identifier } : {}),
      ...(parsed.sinceMs !== undefined ? { since: new Date(Date.now() - parsed.sinceMs) } : {}),
      ...(parsed.type ? { type: parsed.type } : {}),
      limit: parsed.limit,
    });
    if (parsed.json) {
      for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
    } else if (rows.length === 0) {
      process.stdout.write('No audit events match.\n');
    } else {
      process.stdout.write(`${formatTable(rows)}\n`);
    }
    return 0;
  });
}

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      document: { type: 'string' },
      since: { type: 'string' },
      type: { type: 'string' },
      limit: { type: 'string', default: '200' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const identifier = values.document === undefined ? undefined : documentOption(values.document);
  let sinceMs: number | undefined;
  if (values.since !== undefined) {
    const ms = parseDuration(values.since);
    if (ms === null)
      throw new Error(`--since expects a duration such as 30m, 24h or 7d (got "${values.since}")`);
    sinceMs = ms;
  }
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000)
    throw new Error(`--limit expects a whole number from 1 to 100000 (got "${values.limit}")`);
  return { identifier, sinceMs, type: values.type, limit, json: values.json, help: values.help };
}

function formatTable(rows: AuditRow[]): string {
  const lines = rows.map((r) => [
    r.at.toISOString(),
    r.type,
    r.outcome,
    r.channel ?? '-',
    r.ip ?? '-',
    r.memberId === null ? '-' : `member ${r.memberId}`,
    describeActor(r),
    r.detail ? JSON.stringify(r.detail) : '',
  ]);
  const header = ['time', 'type', 'outcome', 'channel', 'address', 'member', 'actor', 'detail'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [format(header), ...lines.map(format)].join('\n');
}

/** "member 42", "system cli:sessions", "anonymous": who caused the event. */
function describeActor(row: AuditRow): string {
  return row.actorId === null ? row.actorKind : `${row.actorKind} ${row.actorId}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof UsageError ? error.message : describeStartupError(error);
    process.stderr.write(`audit cannot run: ${message}\n`);
    process.exit(1);
  },
);
