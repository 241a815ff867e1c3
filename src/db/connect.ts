// Opens the database: PostgreSQL over `pg` when DATABASE_URL is set, else the
// embedded PGlite in DATA_DIR. Both speak the same SQL and share migrations.
import { mkdirSync } from 'node:fs';
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
  type TransactionSettings,
} from 'kysely';
import { KyselyPGlite } from 'kysely-pglite';
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
    // An idle client losing its server must not crash the process.
    pool.on('error', () => {});
    return new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  }
  if (target.dir) mkdirSync(target.dir, { recursive: true });
  const { dialect } = await KyselyPGlite.create(
    target.dir ? join(target.dir, 'pglite') : undefined,
  );
  return new Kysely<Schema>({ dialect: serialized(dialect) });
}

/**
 * PGlite is one connection. kysely-pglite hands the same connection to every
 * caller, so two concurrent transactions would interleave their statements.
 * This wrapper lends the connection to one caller at a time (a transaction
 * keeps it until commit or rollback), which gives PGlite the isolation a
 * connection pool gives PostgreSQL.
 */
function serialized(inner: Dialect): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createQueryCompiler: () => new PostgresQueryCompiler(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createDriver: () => new SerializedDriver(inner.createDriver()),
  };
}

class SerializedDriver implements Driver {
  #queue: Promise<void> = Promise.resolve();
  #release = new WeakMap<DatabaseConnection, () => void>();

  constructor(private readonly inner: Driver) {}

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
    const connection = await this.inner.acquireConnection();
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

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
