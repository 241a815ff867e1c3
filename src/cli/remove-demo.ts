// The operator's command `npm run members:remove-demo`: deletes the demo
// member of the embedded defaults (document 1234567, public password), its
// sessions, one-time secrets and unsent messages, and records it in the audit
// trail. Production refuses to start while it exists (ADR 013). Running it
// again finds nothing and exits 0.
import { systemActor } from '../audit/record.ts';
import { systemClock } from '../auth/clock.ts';
import { loadConfig } from '../config.ts';
import { type DemoRemoval, REMOVE_DEMO_COMMAND, removeDemoMembers } from '../members/demo.ts';
import { describeStartupError } from '../startup-errors.ts';
import { UsageError, withDatabase } from './common.ts';

const USAGE = `usage: ${REMOVE_DEMO_COMMAND}

  Deletes the demo member (document 1234567, password demo2026) with its
  sessions, one-time secrets and unsent messages; audited as a staff action.
  Uses the server's DATABASE_URL or DATA_DIR; on the embedded database, stop
  the server first (one process opens a data folder).`;

async function main(argv: string[]): Promise<number> {
  const args = argv.filter((arg) => arg !== '--');
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.length > 0) throw new UsageError(`unexpected argument ${args[0]}\n${USAGE}`);
  const config = loadConfig(process.env);
  return withDatabase(config, async (db) => {
    const actor = systemActor('cli:members:remove-demo');
    process.stdout.write(describeRemoval(await removeDemoMembers(db, systemClock, actor)));
    return 0;
  });
}

/** What was done, in one line for the operator. */
function describeRemoval(removal: DemoRemoval): string {
  if (removal.members === 0) return 'There is no demo member; nothing was removed.\n';
  const members = removal.members === 1 ? 'the demo member' : `${removal.members} demo members`;
  return `Removed ${members}: ${plural(removal.sessions, 'session')} ended, ${plural(removal.messages, 'unsent message')} deleted.\n`;
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof UsageError ? error.message : describeStartupError(error);
    process.stderr.write(`members:remove-demo cannot run: ${message}\n`);
    process.exit(1);
  },
);
