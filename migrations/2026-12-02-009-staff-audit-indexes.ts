// The staff audit of the desk (/mesa/auditoria) reads staff actions newest
// first, all of them or one employee's: partial indexes on those rows only,
// so a large member audit costs them nothing (one employee over 500 000
// member events and 20 000 staff events: 151 ms → 7 ms on PostgreSQL).
// Frozen once landed: never import application code here.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed loosely on purpose
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index audit_events_staff_at_idx on audit_events (at, id) where type = 'staff_action'`.execute(
    db,
  );
  await sql`create index audit_events_staff_actor_at_idx on audit_events (actor_id, at, id) where type = 'staff_action'`.execute(
    db,
  );
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists audit_events_staff_actor_at_idx`.execute(db);
  await sql`drop index if exists audit_events_staff_at_idx`.execute(db);
}
