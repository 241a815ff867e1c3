// Several writes in one round trip: PostgreSQL runs data-modifying
// statements placed in a WITH clause exactly once, with the main statement,
// in one transaction (PGlite alike). The login path uses it so that a login
// costs two statements and its hash, not nine statements (ADR 019).
import type { Compilable, QueryCreator } from 'kysely';
import type { Database, Schema } from './schema.ts';

/**
 * A query creator whose next statement also runs `statements` (inserts,
 * updates or deletes, unexecuted). Their effects are not visible to each
 * other or to the main statement (one snapshot): use it for writes that do
 * not depend on one another.
 */
export function together(db: Database, statements: readonly Compilable[]): QueryCreator<Schema> {
  let creator = db as QueryCreator<Schema>;
  statements.forEach((statement, index) => {
    creator = creator.with(`along_${index}`, () => statement as never) as QueryCreator<Schema>;
  });
  return creator;
}
