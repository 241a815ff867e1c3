// Session public ids and audit actors (ADR 017):
// - sessions.public_id: a random, non-secret name for a session, so a member
//   can list their sessions and end one (the key, id_hash, is the hash of the
//   secret token and never leaves the server). The application draws 16
//   random bytes as base64url (22 characters); rows that exist now get the
//   same shape from gen_random_uuid() (122 random bits, PostgreSQL 13+).
// - audit_events.actor_kind / actor_id: who caused the event ('member',
//   'staff', 'system' or 'anonymous'). Existing rows are filled by the rules
//   recordAudit applies from now on (every staff action so far came from an
//   operator command).
// Frozen once landed: never import application code here.
import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed loosely on purpose
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('public_id', 'text').execute();
  await sql`
    update sessions
    set public_id = translate(rtrim(encode(uuid_send(gen_random_uuid()), 'base64'), '='), '+/', '-_')
  `.execute(db);
  await db.schema
    .alterTable('sessions')
    .alterColumn('public_id', (c) => c.setNotNull())
    .execute();
  await db.schema
    .createIndex('sessions_public_id_idx')
    .on('sessions')
    .column('public_id')
    .unique()
    .execute();

  await db.schema
    .alterTable('audit_events')
    .addColumn('actor_kind', 'text', (c) =>
      c
        .notNull()
        .defaultTo('system')
        .check(sql`actor_kind in ('member', 'staff', 'system', 'anonymous')`),
    )
    .execute();
  await db.schema.alterTable('audit_events').addColumn('actor_id', 'text').execute();
  await sql`
    update audit_events
    set
      actor_kind = case
        when type in ('staff_action', 'login_failures_surge', 'sms_budget_exhausted', 'session_expired')
          then 'system'
        when outcome = 'ok'
          and type in ('login', 'logout', 'password_rehashed', 'code_verified', 'password_set')
          then 'member'
        else 'anonymous'
      end,
      actor_id = case
        when type = 'staff_action' then case detail->>'action'
          when 'end_sessions' then 'cli:sessions'
          when 'remove_demo_member' then 'cli:members:remove-demo'
          when 'replace_demo_member' then 'cli:members:import'
        end
        when outcome = 'ok'
          and type in ('login', 'logout', 'password_rehashed', 'code_verified', 'password_set')
          then member_id::text
      end
  `.execute(db);
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('audit_events').dropColumn('actor_id').execute();
  await db.schema.alterTable('audit_events').dropColumn('actor_kind').execute();
  await db.schema.dropIndex('sessions_public_id_idx').execute();
  await db.schema.alterTable('sessions').dropColumn('public_id').execute();
}
