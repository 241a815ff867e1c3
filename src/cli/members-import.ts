// The operator's command `npm run members:import -- FILE.csv`: reads the same
// environment as the server, applies pending migrations, imports the registry
// and prints every rejected line and the final counts. Exit 0 when the file
// was read to the end (rejected lines included), 1 when the import could not
// run or stopped, 130 when interrupted with Ctrl-C.
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { sql } from 'kysely';
import { loadConfig } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { Database } from '../db/schema.ts';
import { type ImportCounts, ImportError, importMembers } from '../members/import.ts';
import { describeStartupError } from '../startup-errors.ts';

const USAGE = 'usage: npm run members:import -- FILE.csv';
const PROGRESS_EVERY_ROWS = 50_000;
const EXIT_INTERRUPTED = 130;

/** A problem the operator can fix, already phrased for them. */
class UsageError extends Error {}

async function main(args: string[]): Promise<number> {
  const file = parseArguments(args);
  if (file === null) {
    process.stdout.write(
      `${USAGE}\n\nImports the member registry (CSV with the header\ndocument,member_number,first_name,last_name,email,mobile,status).\n`,
    );
    return 0;
  }
  await checkReadableFile(file);
  const config = loadConfig(process.env);
  const db = await connectDatabase(
    config.database.kind === 'postgres' ? config.database : { kind: 'pglite', dir: config.dataDir },
    { poolSize: 1 },
  );
  try {
    await checkReachable(db);
    await migrateToLatest(db);
    return await runImport(db, file);
  } finally {
    await db.destroy();
  }
}

/** The file to import, or null when help was asked for. */
function parseArguments(given: string[]): string | null {
  // `--` may reach us when the command is run without npm.
  const args = given.filter((arg) => arg !== '--');
  if (args.includes('--help') || args.includes('-h')) return null;
  const unknown = args.find((arg) => arg.startsWith('-'));
  if (unknown) throw new UsageError(`unknown option ${unknown}\n${USAGE}`);
  if (args.length === 0) throw new UsageError(`missing the CSV file to import\n${USAGE}`);
  if (args.length > 1) throw new UsageError(`expected one CSV file, got ${args.length}\n${USAGE}`);
  return args[0] as string;
}

/** Fails before the database is opened, which can take seconds. */
async function checkReadableFile(file: string): Promise<void> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(file);
  } catch {
    throw new UsageError(`file not found: ${file}`);
  }
  if (info.isDirectory()) throw new UsageError(`${file} is a folder, not a CSV file`);
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new UsageError(`cannot read ${file} (permission denied)`);
  }
}

/** One trivial query, so an unreachable server is named as such, not as a failed migration. */
async function checkReachable(db: Database): Promise<void> {
  await sql`select 1`.execute(db);
}

async function runImport(db: Database, file: string): Promise<number> {
  const startedAt = performance.now();
  const progress = new ProgressLine();
  let lastCounts: ImportCounts | undefined;
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(EXIT_INTERRUPTED);
    progress.clear();
    process.stderr.write('Stopping after the current batch (Ctrl-C again to quit at once)…\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const counts = await importMembers(db, file, {
      signal: interrupt.signal,
      onReject: ({ line, reason }) => {
        progress.clear();
        process.stdout.write(`line ${line}: rejected: ${reason}\n`);
      },
      onProgress: (counts) => {
        lastCounts = counts;
        progress.update(counts);
      },
    });
    progress.clear();
    process.stdout.write(formatSummary(file, counts, performance.now() - startedAt));
    return 0;
  } catch (error) {
    progress.clear();
    if (!(error instanceof ImportError)) throw error;
    process.stderr.write(
      `\nmembers:import stopped: ${error.message}\n${describeWritten(lastCounts)}\n`,
    );
    return error.code === 'interrupted' ? EXIT_INTERRUPTED : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** One line on the terminal, rewritten in place; nothing when stderr is not a terminal. */
class ProgressLine {
  #shown = false;
  #nextAt = PROGRESS_EVERY_ROWS;

  update(counts: ImportCounts): void {
    if (!process.stderr.isTTY || counts.rows < this.#nextAt) return;
    this.#nextAt = (Math.floor(counts.rows / PROGRESS_EVERY_ROWS) + 1) * PROGRESS_EVERY_ROWS;
    process.stderr.write(
      `\r\x1b[2K${formatNumber(counts.rows)} lines read: ${formatNumber(counts.inserted)} inserted, ${formatNumber(counts.updated)} updated, ${formatNumber(counts.unchanged)} unchanged, ${formatNumber(counts.rejected)} rejected`,
    );
    this.#shown = true;
  }

  clear(): void {
    if (!this.#shown) return;
    process.stderr.write('\r\x1b[2K');
    this.#shown = false;
  }
}

function formatSummary(file: string, counts: ImportCounts, elapsedMs: number): string {
  const rows: [string, number][] = [
    ['inserted', counts.inserted],
    ['updated', counts.updated],
    ['unchanged', counts.unchanged],
    ['rejected', counts.rejected],
  ];
  const width = Math.max(...rows.map(([, n]) => formatNumber(n).length));
  const seconds = (elapsedMs / 1000).toFixed(1);
  return [
    `Imported ${file} in ${seconds} s: ${formatNumber(counts.rows)} lines read.`,
    ...rows.map(([label, n]) => `  ${`${label}:`.padEnd(11)}${formatNumber(n).padStart(width)}`),
    '',
  ].join('\n');
}

/** What stays in the database when the import stops part-way. */
function describeWritten(counts: ImportCounts | undefined): string {
  const written = counts ? counts.inserted + counts.updated : 0;
  if (written === 0) return 'Nothing was written to the database.';
  return `The batches before the stop were written (${formatNumber(counts?.inserted ?? 0)} inserted, ${formatNumber(counts?.updated ?? 0)} updated); running the import again after fixing the file is safe.`;
}

function formatNumber(n: number): string {
  return n.toLocaleString('en-US');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const message = error instanceof UsageError ? error.message : describeStartupError(error);
    process.stderr.write(`\nmembers:import cannot run: ${message}\n\n`);
    process.exitCode = 1;
  },
);
