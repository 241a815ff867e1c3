// The operator's view of the outbox, and the way to send abandoned messages again:
//   npm run outbox -- status [--json] [--limit N]
//   npm run outbox -- retry --abandoned
//   npm run outbox -- retry --id ID [--id ID ...]
// Never prints a message's content, link or code, nor a whole address or
// number. A usage mistake exits 2, a failure 1.
import { parseArgs } from 'node:util';
import { systemClock } from '../auth/clock.ts';
import { loadConfig } from '../config.ts';
import {
  type AbandonedMessage,
  describeOutbox,
  OUTBOX_CHANNELS,
  OUTBOX_STATUSES,
  type OutboxReport,
  type RetryResult,
  type RetryStanding,
  retryAbandonedMessages,
} from '../courier/outbox.ts';
import { RECORD_RETENTION_DAYS } from '../ops/housekeeping.ts';
import { describeStartupError } from '../startup-errors.ts';
import { UsageError, withDatabase } from './common.ts';

const USAGE = `usage: npm run outbox -- status [--json] [--limit N]
       npm run outbox -- retry --abandoned [--json]
       npm run outbox -- retry --id ID [--id ID ...] [--json]

  status              messages by status and channel, the oldest one not yet
                      delivered, and the abandoned ones (newest first, at most
                      --limit, default 50), recipients masked
  retry --abandoned   queue every abandoned message again, due now, with a full
                      set of tries; the running server delivers it. A message
                      whose link or code expired or was used is not sent again
  retry --id ID       the same for the named messages only (repeat --id)
  --json              one JSON object instead of text`;

/** Exit status of a mistake in the command line (1 is a failure to do the work). */
const EXIT_USAGE = 2;

type Command =
  | { action: 'help' }
  | { action: 'status'; json: boolean; limit: number }
  | { action: 'retry'; json: boolean; target: { all: true } | { ids: string[] } };

async function main(argv: string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (command.action === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig(process.env);
  return withDatabase(config, async (db) => {
    if (command.action === 'status') {
      const report = await describeOutbox(db, systemClock, { limit: command.limit });
      process.stdout.write(
        command.json ? `${JSON.stringify(report)}\n` : `${formatReport(report)}\n`,
      );
      return 0;
    }
    const result = await retryAbandonedMessages(db, systemClock, command.target);
    process.stdout.write(command.json ? `${JSON.stringify(result)}\n` : `${formatRetry(result)}\n`);
    return result.notAbandoned.length > 0 ? 1 : 0;
  });
}

function parseCommand(argv: string[]): Command {
  const { values, positionals } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      abandoned: { type: 'boolean', default: false },
      id: { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
      limit: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return { action: 'help' };
  const [action, ...extra] = positionals;
  if (action === undefined) throw new Error('give an action: status or retry');
  if (extra.length > 0) throw new Error(`unexpected argument "${extra[0]}"`);
  if (action === 'status') {
    if (values.abandoned || values.id)
      throw new Error('--abandoned and --id go with retry, not status');
    const limit = Number(values.limit ?? '50');
    if (!Number.isInteger(limit) || limit < 0 || limit > 10_000)
      throw new Error(`--limit expects a whole number from 0 to 10000 (got "${values.limit}")`);
    return { action: 'status', json: values.json, limit };
  }
  if (action === 'retry') {
    if (values.limit !== undefined) throw new Error('--limit goes with status, not retry');
    const ids = values.id ?? [];
    if (values.abandoned && ids.length > 0)
      throw new Error('give either --abandoned or --id, not both');
    if (values.abandoned) return { action: 'retry', json: values.json, target: { all: true } };
    if (ids.length === 0) throw new Error('give --abandoned (all of them) or --id ID');
    for (const id of ids) {
      if (!/^[1-9]\d{0,17}$/.test(id))
        throw new Error(`--id expects a message id as status lists it (got "${id}")`);
    }
    return { action: 'retry', json: values.json, target: { ids: [...new Set(ids)] } };
  }
  throw new Error(`unknown action "${action}" (expected status or retry)`);
}

function formatReport(report: OutboxReport): string {
  const lines = [`Outbox at ${report.at.toISOString()}`, ''];
  const table: string[][] = [['status', ...OUTBOX_CHANNELS, 'note']];
  for (const status of OUTBOX_STATUSES) {
    const counts = report.counts[status];
    let note = '';
    if (status === 'queued' && report.waitingForRetry > 0)
      note = `${report.waitingForRetry} waiting for a retry after a failed try`;
    if (status === 'processing' && report.leaseRunOut > 0)
      note = `${report.leaseRunOut} held by an instance that stopped answering (due again)`;
    table.push([status, ...OUTBOX_CHANNELS.map((channel) => String(counts[channel])), note]);
  }
  lines.push(formatTable(table, [false, true, true, false]), '');
  const oldest = report.oldestUndelivered;
  lines.push(
    oldest
      ? `Oldest not yet delivered: message ${oldest.id} (${oldest.channel}), queued ${oldest.createdAt.toISOString()}, ${formatAge(oldest.ageSeconds)} ago.`
      : 'Nothing is waiting for delivery.',
  );
  const total = report.counts.abandoned.email + report.counts.abandoned.sms;
  if (total === 0) {
    lines.push('No abandoned messages.');
    return lines.join('\n');
  }
  const shown = report.abandoned.length;
  lines.push(
    '',
    shown < total
      ? `Abandoned messages (${total}; the newest ${shown} shown):`
      : `Abandoned messages (${total}, newest first):`,
  );
  if (shown > 0) lines.push(formatAbandoned(report.abandoned));
  const retriable = report.abandoned.filter((m) => m.retry === 'retriable').length;
  if (retriable > 0)
    lines.push(
      '',
      'Send again those marked "yes" once the channel works: npm run outbox -- retry --abandoned',
    );
  return lines.join('\n');
}

const RETRY_COLUMN: Record<RetryStanding, string> = {
  retriable: 'yes',
  'secret-expired': 'no: link or code expired',
  'secret-used': 'no: link or code used or replaced',
  'content-wiped': 'no: content not kept',
};

function formatAbandoned(messages: AbandonedMessage[]): string {
  const header = [
    'id',
    'channel',
    'template',
    'recipient',
    'tries',
    'last error',
    'queued',
    'last try',
    'retry',
  ];
  const rows = messages.map((m) => [
    m.id,
    m.channel,
    m.template,
    m.recipient,
    String(m.attempts),
    m.errorClass,
    m.createdAt.toISOString(),
    m.lastTryAt.toISOString(),
    RETRY_COLUMN[m.retry],
  ]);
  return formatTable([header, ...rows], [true, false, false, false, true]);
}

const SKIP_REASONS: Record<keyof RetryResult['skipped'], string> = {
  'secret-expired': 'its link or code expired, so it would not work',
  'secret-used': 'its link or code was used, or replaced by a newer one',
  'content-wiped': 'its content was not kept when it was abandoned: nothing left to send',
};

function formatRetry(result: RetryResult): string {
  const messages = (n: number) => (n === 1 ? '1 message' : `${n} messages`);
  const skipped = Object.values(result.skipped).reduce((sum, n) => sum + n, 0);
  const lines = [
    result.requeued === 0
      ? skipped === 0 && result.notAbandoned.length === 0
        ? 'No abandoned messages: nothing to queue again.'
        : 'No message was queued again.'
      : `Queued ${messages(result.requeued)} again, due now: the running server delivers ${result.requeued === 1 ? 'it' : 'them'} within seconds (with the embedded database, once it starts).`,
  ];
  for (const [reason, text] of Object.entries(SKIP_REASONS)) {
    const n = result.skipped[reason as keyof RetryResult['skipped']];
    if (n > 0) lines.push(`Not sent again: ${messages(n)}, because ${text}.`);
  }
  if (result.notAbandoned.length > 0)
    lines.push(
      `Not abandoned messages (unknown, removed after ${RECORD_RETENTION_DAYS} days, sent, or queued): ${result.notAbandoned.join(', ')}.`,
    );
  return lines.join('\n');
}

/** "3d 4h", "2h 5m", "4m 10s", "12s". */
function formatAge(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Columns padded to their widest cell; `right[i]` aligns column i to the right. */
function formatTable(rows: string[][], right: boolean[]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((cells) =>
      cells
        .map((cell, i) => {
          if (i === cells.length - 1) return cell;
          const width = widths[i] ?? 0;
          return right[i] ? cell.padStart(width) : cell.padEnd(width);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError;
    const message = usage ? error.message : describeStartupError(error);
    process.stderr.write(`outbox cannot run: ${message}\n`);
    process.exit(usage ? EXIT_USAGE : 1);
  },
);
