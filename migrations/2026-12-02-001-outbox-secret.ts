// Links a queued message to the one-time secret it carries (the emailed link,
// the SMS code), so the dispatcher can refuse to deliver a secret that was
// retired or expired while the message waited.
// Frozen once landed: never import application code here.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed loosely on purpose
export async function up(db: Kysely<any>): Promise<void> {
  // On delete cascade, not set null: a null secret_id means "carries no
  // secret" and would make the message deliverable again. Housekeeping deletes
  // a secret only a week after it expired, when its finished message is due
  // for deletion too; a message still waiting by then must never be sent.
  await db.schema
    .alterTable('outbox')
    .addColumn('secret_id', 'bigint', (c) =>
      c.references('one_time_secrets.id').onDelete('cascade'),
    )
    .execute();
  // Deleting a secret looks up its messages.
  await db.schema.createIndex('outbox_secret_idx').on('outbox').column('secret_id').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('outbox_secret_idx').execute();
  await db.schema.alterTable('outbox').dropColumn('secret_id').execute();
}
