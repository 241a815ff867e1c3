// The durable intake of password requests (ADR 011): a request answered 202
// leaves a row here before its work is handed off after the answer; the work
// deletes the row in the transaction that does it. A row left behind (the
// process died in between) is taken over by any instance once retry_after
// has passed. Who asked is sealed (identifier, context): a dump of the
// database does not list the documents that asked, nor the device tokens.
// Frozen once landed: never import application code here.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed loosely on purpose
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('request_intake')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('flow', 'text', (c) => c.notNull().check(sql`flow in ('recovery', 'registration')`))
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel in ('email', 'sms')`))
    // The canonical document or member number, sealed.
    .addColumn('identifier', 'text', (c) => c.notNull())
    // Where the request came from (address, user agent, web or api, device token), sealed.
    .addColumn('context', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    // When another instance may take the request over (its work was not done by then).
    .addColumn('retry_after', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('request_intake_retry_idx')
    .on('request_intake')
    .column('retry_after')
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('request_intake').ifExists().execute();
}
