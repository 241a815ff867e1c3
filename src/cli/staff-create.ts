// The operator's command to create a staff user of the branch desk (the first
// admin, typically):
//   npm run staff:create -- --email ana@example.org --name "Ana Pérez" --role admin
// It prints a one-time enrolment link (24 h) where that person chooses a
// password and sets up the second factor (ADR 023).
import { parseArgs } from 'node:util';
import { recordAudit, systemActor } from '../audit/record.ts';
import { systemClock } from '../auth/clock.ts';
import { loadConfig } from '../config.ts';
import { createStaff, ENROLMENT_HOURS, STAFF_ROLES, StaffError } from '../staff/accounts.ts';
import { describeStartupError } from '../startup-errors.ts';
import { DESK_PATHS } from '../views/pages/desk.ts';
import { UsageError, withDatabase } from './common.ts';

const USAGE = `usage: npm run staff:create -- --email EMAIL --name "NAME" --role ${STAFF_ROLES.join('|')}

  creates a staff user of the branch desk and prints a one-time enrolment link
  (valid ${ENROLMENT_HOURS} h) where they choose a password and set up their second factor`;

async function main(argv: string[]): Promise<number> {
  let options: { email: string; name: string; role: string } | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig(process.env);
  return withDatabase(config, async (db) => {
    try {
      const { staff, enrolment } = await createStaff(db, systemClock, {
        ...options,
        createdBy: 'cli:staff:create',
      });
      await recordAudit(db, systemClock, {
        type: 'staff_action',
        outcome: 'ok',
        channel: 'desk',
        actor: systemActor('cli:staff:create'),
        detail: { action: 'staff_created', staff_id: staff.id, role: staff.role },
      });
      const link = `${config.publicUrl}${DESK_PATHS.enrolment}?token=${enrolment.token}`;
      process.stdout.write(
        `Created ${staff.role} ${staff.name} <${staff.email}> (staff user ${staff.id}).\n` +
          `Enrolment link, valid until ${enrolment.expiresAt.toISOString()} and usable once:\n\n  ${link}\n\n` +
          'Give it to that person only: whoever opens it chooses the password and the second factor.\n',
      );
      return 0;
    } catch (error) {
      if (!(error instanceof StaffError)) throw error;
      process.stderr.write(`staff:create refused: ${error.detail}\n`);
      return 1;
    }
  });
}

function parseOptions(argv: string[]): { email: string; name: string; role: string } | 'help' {
  const { values, positionals } = parseArgs({
    args: argv.filter((a) => a !== '--'),
    options: {
      email: { type: 'string' },
      name: { type: 'string' },
      role: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  const missing = (['email', 'name', 'role'] as const).filter((k) => values[k] === undefined);
  if (missing.length > 0) throw new Error(`missing ${missing.map((k) => `--${k}`).join(', ')}`);
  return {
    email: values.email as string,
    name: values.name as string,
    role: values.role as string,
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const message = error instanceof UsageError ? error.message : describeStartupError(error);
    process.stderr.write(`staff:create cannot run: ${message}\n`);
    process.exit(1);
  },
);
