// Applies pending migrations with Kysely's Migrator. On PostgreSQL the
// Migrator takes an advisory lock, so instances starting together do not race.
import { type Kysely, type MigrationResultSet, Migrator } from 'kysely';
import { migrations } from '../../migrations/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: the migrator works on any schema
function migratorFor(db: Kysely<any>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
}

export class MigrationError extends Error {
  constructor(
    message: string,
    override readonly cause: unknown,
  ) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** Brings the schema up to date; returns the names applied now. */
// biome-ignore lint/suspicious/noExplicitAny: see migratorFor
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const result: MigrationResultSet = await migratorFor(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`database migration ${failed} failed`, result.error);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when every known migration has been applied (used by /readyz). */
// biome-ignore lint/suspicious/noExplicitAny: see migratorFor
export async function isSchemaCurrent(db: Kysely<any>): Promise<boolean> {
  const list = await migratorFor(db).getMigrations();
  return list.every((m) => m.executedAt !== undefined);
}
