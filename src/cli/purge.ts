// The operator's command to run housekeeping now: npm run purge [-- --json]
// Deletes what the server deletes every few minutes (src/ops/housekeeping.ts):
// ended sessions, expired and used links and codes past their retention,
// finished messages, old audit events; prints how many of each it removed.
import { parseArgs } from 'node:util';
import { systemClock } from '../auth/clock.ts';
import { loadConfig } from '../config.ts';
import { type HousekeepingCounts, runHousekeeping } from '../ops/housekeeping.ts';
import { describeStartupError } from '../startup-errors.ts';
import { UsageError, withDatabase } from './common.ts';

const USAGE = `usage: npm run purge [-- --json]

  Deletes now what the server deletes every few minutes, and prints how many
  rows of each kind it removed.
  --json   one JSON object instead of text`;

/** Exit status of a mistake in the command line (1 is a failure to do the work). */
const EXIT_USAGE = 2;

/** What each count is, as the operator reads it. */
const KINDS: Record<keyof HousekeepingCounts, string> = {
  sessions: 'member sessions ended (idle or past their limit)',
  staffSessions: 'staff sessions ended',
  staffEnrolments: 'staff enrolment links past retention',
  captchaSolutions: 'CAPTCHA solutions expired',
  passkeyChallenges: 'passkey challenges never answered',
  oneTimeSecrets: 'links and codes past retention',
  outboxMessages: 'messages past retention',
  devMailbox: 'dev mailbox messages past retention',
  auditEvents: 'audit events past AUDIT_RETENTION_DAYS',
  staffVisits: 'desk identity checks past AUDIT_RETENTION_DAYS',
  requestIntake: 'password requests left in the intake a day (could not be opened)',
};

async function main(argv: string[]): Promise<number> {
  let options: { json: boolean; help: boolean };
  try {
    const { values } = parseArgs({
      args: argv.filter((a) => a !== '--'),
      options: {
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    options = values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig(process.env);
  return withDatabase(config, async (db) => {
    const counts = await runHousekeeping(db, systemClock, {
      auditRetentionDays: config.auditRetentionDays,
    });
    process.stdout.write(
      options.json ? `${JSON.stringify(counts)}\n` : `${formatCounts(counts)}\n`,
    );
    return 0;
  });
}

function formatCounts(counts: HousekeepingCounts): string {
  const entries = Object.entries(KINDS) as [keyof HousekeepingCounts, string][];
  const total = entries.reduce((sum, [kind]) => sum + counts[kind], 0);
  const width = Math.max(...entries.map(([kind]) => String(counts[kind]).length));
  return [
    total === 0 ? 'Nothing to remove.' : `Removed ${total} rows:`,
    ...entries.map(([kind, text]) => `  ${String(counts[kind]).padStart(width)}  ${text}`),
    'Ended throttle windows and lockouts long past were removed too (not counted).',
  ].join('\n');
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const usage = error instanceof UsageError;
    const message = usage ? error.message : describeStartupError(error);
    process.stderr.write(`purge cannot run: ${message}\n`);
    process.exit(usage ? EXIT_USAGE : 1);
  },
);
