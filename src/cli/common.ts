// What the operator commands share: their usage errors, the database the
// server uses, and a --document option read as the flows read a document.
import { canonicalIdentifier } from '../auth/documents.ts';
import type { Config } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrate.ts';
import type { Database } from '../db/schema.ts';

/** A mistake in the command line: its message ends with the usage. */
export class UsageError extends Error {}

/** Opens the server's database (DATABASE_URL or DATA_DIR), migrated, for `work`; closes it after. */
export async function withDatabase<T>(
  config: Config,
  work: (db: Database) => Promise<T>,
): Promise<T> {
  const db = await connectDatabase(
    config.database.kind === 'postgres' ? config.database : { kind: 'pglite', dir: config.dataDir },
    { poolSize: 1 },
  );
  try {
    await migrateToLatest(db);
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/**
 * --document: a document or member number, digits (dots, dashes and spaces
 * allowed); returned in canonical form, without leading zeros (ADR 018).
 */
export function documentOption(value: string): string {
  const identifier = canonicalIdentifier(value);
  if (!identifier) throw new Error(`--document expects digits (got "${value}")`);
  return identifier;
}
