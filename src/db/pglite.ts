// The embedded database (PGlite), sized for a small server: what PGlite
// holds in memory and why is in docs/decisions/020-server-memory.md.
// Loaded by connect.ts only when DATABASE_URL is unset, so a server on
// PostgreSQL never loads PGlite.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from 'kysely';

/**
 * PostgreSQL settings PGlite starts with, on top of its own. PGlite's
 * postgresql.conf asks for PostgreSQL's default 128 MB of shared buffers,
 * all of which PGlite touches at start (the process grows by that much) and
 * keeps for its life. The portal reads a few index pages and rows per
 * request; the rest of the data stays in the operating system's file cache,
 * outside our process.
 */
export const PGLITE_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '8MB',
};

/** PGlite's start parameters with PGLITE_SETTINGS (each a `-c name=value`). */
function pgliteStartParams(): string[] {
  const settings = Object.entries(PGLITE_SETTINGS).flatMap(([name, value]) => [
    '-c',
    `${name}=${value}`,
  ]);
  return [...PGlite.defaultStartParams, ...settings];
}

/**
 * Opens PGlite in `dataDir` (a new folder is created first), or in memory,
 * and answers a Kysely dialect over it.
 */
export async function openPGlite(dataDir?: string): Promise<Dialect> {
  useBaselineWasmCompiler();
  const options: PGliteOptions = { startParams: pgliteStartParams() };
  if (dataDir) {
    await createDatabaseFolder(dataDir);
    options.dataDir = dataDir;
  }
  const client = await PGlite.create(options);
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new PGliteDriver(client),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}

/**
 * V8 flag for PGlite's 9 MB of WebAssembly: compile it once, with the
 * baseline compiler (Liftoff), and never recompile its hot functions with
 * the optimizing one (TurboFan). Those recompilations run on background
 * threads while the server serves, and leave ~60 MB resident (their code,
 * and the memory the compiler threads allocated); on 2 cores they also take
 * CPU from the requests. Liftoff code runs queries ~15 % slower than
 * TurboFan's once that has finished: a small part of a login, which is
 * mostly argon2id.
 */
const WASM_COMPILATION_FLAGS = ['--liftoff-only'];

/**
 * Sets WASM_COMPILATION_FLAGS before PGlite compiles its module; they apply
 * to WebAssembly compiled from then on in this process (PGlite's, and Node's
 * own HTTP parser of fetch). A V8 that no longer knows the flag says so on
 * stderr and compiles as by default.
 */
function useBaselineWasmCompiler(): void {
  for (const flag of WASM_COMPILATION_FLAGS) setFlagsFromString(flag);
}

/** The one-off program that creates a database folder (see createDatabaseFolder). */
const CREATE_FOLDER_PROGRAM = `
const [pgliteUrl, options] = process.argv.slice(1);
const { PGlite } = await import(pgliteUrl);
const pglite = await PGlite.create(JSON.parse(options));
await pglite.close();
`;

/**
 * Creates the database in a folder that has none, in a short-lived process
 * of its own, as PostgreSQL's initdb is a program of its own. In-process,
 * PGlite's initdb runs a second PGlite and the initdb program, each with its
 * own WebAssembly memory, and copies the new folder through memory: the
 * server would start at ~800 MB and give it back only over minutes (and
 * never all of it). The folder is created where PGlite itself would create
 * it, with the same settings, so the result is the same.
 */
async function createDatabaseFolder(dataDir: string): Promise<void> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return;
  const options = JSON.stringify({ dataDir, startParams: pgliteStartParams() });
  const pgliteUrl = import.meta.resolve('@electric-sql/pglite');
  await new Promise<void>((resolve, reject) => {
    execFile(
      process.execPath,
      [
        ...WASM_COMPILATION_FLAGS,
        '--input-type=module',
        '-e',
        CREATE_FOLDER_PROGRAM,
        pgliteUrl,
        options,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return resolve();
        const detail = stderr.trim().split('\n').slice(-5).join('\n') || error.message;
        reject(new Error(`creating the embedded database in ${dataDir} failed: ${detail}`));
      },
    );
  });
}

/**
 * Kysely over a PGlite client, which is a single connection: every caller
 * gets the same one (connect.ts lends it to one caller at a time).
 */
class PGliteDriver implements Driver {
  readonly #connection: PGliteConnection;

  constructor(private readonly client: PGlite) {
    this.#connection = new PGliteConnection(client);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    await this.client.close();
  }
}

class PGliteConnection implements DatabaseConnection {
  constructor(private readonly client: PGlite) {}

  /** PGlite's result as it is (rows, fields, affectedRows); connect.ts maps affectedRows. */
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return (await this.client.query<R>(query.sql, [...query.parameters])) as QueryResult<R>;
  }

  // biome-ignore lint/correctness/useYield: PGlite cannot stream; the generator only refuses.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite does not stream query results');
  }
}
