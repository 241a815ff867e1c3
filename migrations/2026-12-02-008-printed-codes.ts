// One more kind of one-time secret: the activation code a branch prints for a
// member (issue 13): 10 characters, single use, 24 h, stored as a keyed hash.
// Frozen once landed: never import application code here.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed loosely on purpose
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table one_time_secrets drop constraint if exists one_time_secrets_kind_check`.execute(
    db,
  );
  await sql`alter table one_time_secrets add constraint one_time_secrets_kind_check check (kind in ('email_link', 'sms_code', 'set_password', 'printed_code'))`.execute(
    db,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.deleteFrom('one_time_secrets').where('kind', '=', 'printed_code').execute();
  await sql`alter table one_time_secrets drop constraint if exists one_time_secrets_kind_check`.execute(
    db,
  );
  await sql`alter table one_time_secrets add constraint one_time_secrets_kind_check check (kind in ('email_link', 'sms_code', 'set_password'))`.execute(
    db,
  );
}
