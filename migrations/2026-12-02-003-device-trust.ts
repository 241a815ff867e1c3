// Known devices and login tries in flight (ADR 016):
// - account_lockouts.pending / pending_until: password checks in flight on a
//   key (an account, or a device's own budget); they hold a slot, they are
//   not failures, and they are forgotten when pending_until passes (a
//   process that died mid-check frees its slot);
// - known_device on one_time_secrets and outbox: a link or code asked for
//   from a device that logged in as the member before. Requests from
//   elsewhere neither count against those nor retire them.
// Frozen once landed: never import application code here.
import type { Kysely } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed loosely on purpose
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('account_lockouts')
    .addColumn('pending', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('account_lockouts')
    .addColumn('pending_until', 'timestamptz')
    .execute();
  await db.schema
    .alterTable('one_time_secrets')
    .addColumn('known_device', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
  await db.schema
    .alterTable('outbox')
    .addColumn('known_device', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute();
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox').dropColumn('known_device').execute();
  await db.schema.alterTable('one_time_secrets').dropColumn('known_device').execute();
  await db.schema.alterTable('account_lockouts').dropColumn('pending_until').execute();
  await db.schema.alterTable('account_lockouts').dropColumn('pending').execute();
}
