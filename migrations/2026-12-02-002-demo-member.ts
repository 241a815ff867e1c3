// Marks the demo member of the embedded defaults (members.demo), so that
// production can refuse to start while it exists and the registry import can
// replace it instead of merging a real member into it (ADR 013).
// Frozen once landed: never import application code here.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed loosely on purpose
export async function up(db: Kysely<any>): Promise<void> {
  // A constant default: PostgreSQL adds the column without rewriting the table.
  await db.schema
    .alterTable('members')
    .addColumn('demo', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  // Nearly every row is false: a partial index answers "is there a demo
  // member?" (each production start, each import) without a scan.
  await db.schema
    .createIndex('members_demo_idx')
    .on('members')
    .column('id')
    .where(sql.ref('demo'), '=', true)
    .execute();
  // The demo member as the embedded defaults created it before this column
  // existed (src/members/demo.ts, DEMO_MEMBER): its document and its email,
  // copied here because a migration never imports application code. Both
  // must match: a real member who holds document 1234567 has another email.
  await db
    .updateTable('members')
    .set({ demo: true })
    .where('document', '=', '1234567')
    .where('email', '=', 'maria.rodriguez@example.org')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('members_demo_idx').execute();
  await db.schema.alterTable('members').dropColumn('demo').execute();
}
