// Opens the database: PostgreSQL over `pg` when DATABASE_URL is set, else the
// embedded PGlite in DATA_DIR. Both speak the same SQL and share migrations.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type DatabaseConnection,
  type Dialect,
  type Driver,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import type { Schema } from './schema.ts';

export type DatabaseTarget = { kind: 'postgres'; url: string } | { kind: 'pglite'; dir?: string };

export async function connectDatabase(
  target: DatabaseTarget,
  options: { poolSize?: number } = {},
): Promise<Kysely<Schema>> {
  if (target.kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: target.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
    });
    // A client losing its server (a restart of PostgreSQL ends every
    // connection) must not crash the process. An idle one is the pool's to
    // report; a checked-out one fails its query, and the pool drops it when
    // it comes back, but pg also emits the error on the client itself,
    // where nobody listens while Kysely holds it: unheard, it would throw.
    pool.on('error', () => {});
    pool.on('connect', (client) => {
      client.on('error', () => {});
    });
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    pools.set(db, pool);
    return db;
  }
  let unlock = () => {};
  if (target.dir) {
    mkdirSync(target.dir, { recursive: true });
    unlock = lockDataDir(target.dir);
  }
  try {
    // Imported here, not above: a server on PostgreSQL never loads PGlite.
    const { openPGlite } = await import('./pglite.ts');
    const dialect = await openPGlite(target.dir ? join(target.dir, 'pglite') : undefined);
    return new Kysely<Schema>({ dialect: serialized(dialect, unlock) });
  } catch (error) {
    unlock();
    throw error;
  }
}

/** How many connections a PostgreSQL pool holds, read when asked (the metrics' gauges). */
export interface PoolStats {
  /** Open connections, busy or idle. */
  total: number;
  idle: number;
  /** Queries waiting for a connection (all `max` busy, or one being opened). */
  waiting: number;
  max: number;
}

/** The pg pool behind each database connectDatabase opened on PostgreSQL. */
const pools = new WeakMap<Kysely<Schema>, pg.Pool>();

/**
 * A reader of the pool behind `db`, or null when it has none (PGlite, or a
 * database this module did not open). Reading changes nothing.
 */
export function databasePoolStats(db: Kysely<Schema>): (() => PoolStats) | null {
  const pool = pools.get(db);
  if (!pool) return null;
  return () => ({
    total: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
    max: pool.options.max ?? 10,
  });
}

export class DataDirInUseError extends Error {
  constructor(dir: string, pid: number) {
    super(
      `DATA_DIR ${dir} is in use by process ${pid} (the server or an import). The embedded database serves one process at a time: stop that process first, or use PostgreSQL (DATABASE_URL).`,
    );
    this.name = 'DataDirInUseError';
  }
}

/**
 * The embedded database must never be opened by two processes at once (it
 * would be corrupted): a lock file with our pid guards the folder; a lock left
 * by a process that no longer runs is taken over.
 */
function lockDataDir(dir: string): () => void {
  const file = join(dir, 'pglite.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      return () => rmSync(file, { force: true });
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid)) {
        throw new DataDirInUseError(dir, pid);
      }
      rmSync(file, { force: true });
    }
  }
  throw new Error(`cannot lock ${file}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * PGlite is one connection. Its driver (pglite.ts) hands the same connection
 * to every caller, so two concurrent transactions would interleave their statements.
 * This wrapper lends the connection to one caller at a time (a transaction
 * keeps it until commit or rollback), which gives PGlite the isolation a
 * connection pool gives PostgreSQL.
 */
function serialized(inner: Dialect, onDestroy: () => void): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createDriver: () => new SerializedDriver(inner.createDriver(), onDestroy),
  };
}

/**
 * The PGlite driver passes PGlite's result through as is; Kysely reads the count
 * of changed rows from `numAffectedRows`, PGlite calls it `affectedRows`.
 */
function withAffectedRows(connection: DatabaseConnection): DatabaseConnection {
  return {
    async executeQuery(query) {
      const result = (await connection.executeQuery(query)) as QueryResult<unknown> & {
        affectedRows?: number;
      };
      if (result.numAffectedRows === undefined && typeof result.affectedRows === 'number') {
        return { ...result, numAffectedRows: BigInt(result.affectedRows) } as never;
      }
      return result as never;
    },
    streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
  };
}

class SerializedDriver implements Driver {
  #queue: Promise<void> = Promise.resolve();
  #release = new WeakMap<DatabaseConnection, () => void>();

  constructor(
    private readonly inner: Driver,
    private readonly onDestroy: () => void,
  ) {}

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.#queue;
    this.#queue = previous.then(() => turn);
    await previous;
    const connection = withAffectedRows(await this.inner.acquireConnection());
    this.#release.set(connection, release);
    return connection;
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.inner.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.inner.rollbackTransaction(connection);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await this.inner.releaseConnection(connection);
    this.#release.get(connection)?.();
    this.#release.delete(connection);
  }

  async destroy(): Promise<void> {
    try {
      await this.inner.destroy();
    } finally {
      this.onDestroy();
    }
  }
}
