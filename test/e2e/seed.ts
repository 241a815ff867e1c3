// Puts the journeys' members (test/e2e/members.ts) into the e2e database
// before the server opens it, the way an operator would: a registry CSV
// through `members:import`, then, for the members who already have one, a
// password (the import never sets passwords). Run by playwright.config.ts's
// webServer command with the server's environment; the embedded database
// serves one process at a time, so this must end before the server starts.
// For the default portal only (E2E_DESK_ENROLMENT_FILE set), it also creates
// the branch desk's employees with `staff:create`, as an operator starts the
// desk, and leaves their enrolment links where desk.spec.ts reads them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { systemClock } from '../../src/auth/clock.ts';
import { PasswordHasher } from '../../src/auth/passwords.ts';
import { loadConfig } from '../../src/config.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import { DESK_STAFF, E2E_MEMBERS } from './members.ts';

const HEADER = 'document,member_number,first_name,last_name,email,mobile,status';

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'autogestion-e2e-'));
  const csv = join(folder, 'members.csv');
  try {
    const rows = E2E_MEMBERS.map((m) =>
      [m.document, m.memberNumber, m.firstName, m.lastName, m.email, m.mobile, 'active'].join(','),
    );
    writeFileSync(csv, `${[HEADER, ...rows].join('\n')}\n`, 'utf8');
    execFileSync(process.execPath, ['--import', 'tsx', 'src/cli/members-import.ts', csv], {
      stdio: 'inherit',
      env: process.env,
    });
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }

  const config = loadConfig(process.env);
  const db = await connectDatabase(
    config.database.kind === 'postgres' ? config.database : { kind: 'pglite', dir: config.dataDir },
    { poolSize: 1 },
  );
  try {
    const hasher = new PasswordHasher();
    const now = systemClock.now();
    for (const member of E2E_MEMBERS) {
      // The import exits 0 even when it rejects a line: check every row arrived as written.
      const row = await db
        .selectFrom('members')
        .select(['member_number', 'first_name', 'email', 'mobile', 'status'])
        .where('document', '=', member.document)
        .executeTakeFirst();
      const expected = {
        member_number: member.memberNumber,
        first_name: member.firstName,
        email: member.email,
        mobile: member.mobile,
        status: 'active',
      };
      if (JSON.stringify(row) !== JSON.stringify(expected))
        throw new Error(
          `member ${member.document} was not imported as expected: ${JSON.stringify(row)}`,
        );
      await db
        .updateTable('members')
        .set({
          password_hash: member.password === null ? null : await hasher.hash(member.password),
          password_changed_at: member.password === null ? null : now,
          updated_at: now,
        })
        .where('document', '=', member.document)
        .execute();
    }
  } finally {
    await db.destroy();
  }
  process.stdout.write(`e2e seed: ${E2E_MEMBERS.length} members ready\n`);

  const enrolmentFile = process.env.E2E_DESK_ENROLMENT_FILE;
  if (enrolmentFile) createDeskStaff(enrolmentFile, config.dataDir);
}

/**
 * `npm run staff:create` for each project's employee (after the database
 * above is closed: it opens it itself); the link it prints, by project, goes
 * to `file` as JSON.
 */
function createDeskStaff(file: string, dataDir: string): void {
  // Inside DATA_DIR, which playwright.config.ts empties before each run: a
  // link of an earlier run, already used, is never read.
  const inside = relative(resolve(dataDir), resolve(file));
  if (inside.startsWith('..') || inside === '')
    throw new Error(`E2E_DESK_ENROLMENT_FILE must be inside DATA_DIR (${dataDir}): ${file}`);
  const links: Record<string, string> = {};
  for (const [project, staff] of Object.entries(DESK_STAFF)) {
    const printed = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/staff-create.ts',
        '--email',
        staff.email,
        '--name',
        staff.name,
        '--role',
        'admin',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
    );
    const link = /https?:\/\/\S+\/mesa\/alta\?token=\S+/.exec(printed)?.[0];
    if (!link) throw new Error(`staff:create printed no enrolment link:\n${printed}`);
    links[project] = link;
  }
  writeFileSync(file, `${JSON.stringify(links, null, 2)}\n`, { encoding: 'utf8', mode: 0o600 });
  process.stdout.write(`e2e seed: ${Object.keys(links).length} desk employees to enrol\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`e2e seed failed: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
