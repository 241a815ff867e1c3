// The operator's command to end sessions:
//   npm run sessions -- end --document 1234567
//   npm run sessions -- end --all
import { parseArgs } from 'node:util';
import { systemClock } from '../auth/clock.ts';
import { loadConfig } from '../config.ts';
import { type EndSessionsTarget, endSessions } from '../ops/end-sessions.ts';
import { describeStartupError } from '../startup-errors.ts';
import { documentOption, UsageError, withDatabase } from './common.ts';

const USAGE = `usage: npm run sessions -- end --document N
       npm run sessions -- end --all

  end --document N   end every session of one member (document or member number;
                     dots and dashes allowed): they must log in again
  end --all          end every session of every member`;

async function main(argv: string[]): Promise<number> {
  let target: EndSessionsTarget | 'help';
  try {
    target = parseTarget(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (target === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig(process.env);
  return withDatabase(config, async (db) => {
    const result = await endSessions(db, systemClock, target);
    if (!result.found) {
      process.stderr.write('No member has that document or member number; nothing was ended.\n');
      return 1;
    }
    const sessions = result.ended === 1 ? '1 session' : `${result.ended} sessions`;
    process.stdout.write(
      'all' in target
        ? `Ended ${sessions} of every member.\n`
        : `Ended ${sessions} of member ${result.memberId}.\n`,
    );
    return 0;
  });
}

function parseTarget(argv: string[]): EndSessionsTarget | 'help' {
  const { values, positionals } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      document: { type: 'string' },
      all: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';
  if (positionals.length !== 1 || positionals[0] !== 'end')
    throw new Error(`expected the action "end" (got "${positionals.join(' ')}")`);
  if (values.all && values.document !== undefined)
    throw new Error('give either --document or --all, not both');
  if (values.all) return { all: true };
  if (values.document === undefined) throw new Error('give --document N or --all');
  return { identifier: documentOption(values.document) };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof UsageError ? error.message : describeStartupError(error);
    process.stderr.write(`sessions cannot run: ${message}\n`);
    process.exit(1);
  },
);
