// One-time secrets become generic over what they are for (ADR 008, amended):
// `flow` becomes `purpose`, which also allows contact verification and branch
// activation, and a secret may carry a sealed payload (e.g. the new email or
// mobile number being proven, sealed with a key derived from APP_SECRET).
// Frozen once landed: never import application code here.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed loosely on purpose
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table one_time_secrets drop constraint if exists one_time_secrets_flow_check`.execute(
    db,
  );
  await db.schema.alterTable('one_time_secrets').renameColumn('flow', 'purpose').execute();
  await sql`alter table one_time_secrets add constraint one_time_secrets_purpose_check check (purpose in ('recovery', 'registration', 'contact', 'activation'))`.execute(
    db,
  );
  await db.schema.alterTable('one_time_secrets').addColumn('payload', 'text').execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('one_time_secrets').dropColumn('payload').execute();
  await db
    .deleteFrom('one_time_secrets')
    .where('purpose', 'not in', ['recovery', 'registration'])
    .execute();
  await sql`alter table one_time_secrets drop constraint if exists one_time_secrets_purpose_check`.execute(
    db,
  );
  await db.schema.alterTable('one_time_secrets').renameColumn('purpose', 'flow').execute();
  await sql`alter table one_time_secrets add constraint one_time_secrets_flow_check check (flow in ('recovery', 'registration'))`.execute(
    db,
  );
}
