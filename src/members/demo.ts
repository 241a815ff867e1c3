// The demo member of the embedded defaults, so a newcomer can log in at once.
// Its password is public (README), so the row is marked (members.demo):
// production refuses to start while it exists, `npm run members:remove-demo`
// removes it, and the registry import replaces it rather than merging a real
// member into it (ADR 013).
import { type AuditActor, recordAudit } from '../audit/record.ts';
import type { Clock } from '../auth/clock.ts';
import type { PasswordHasher } from '../auth/passwords.ts';
import type { Database } from '../db/schema.ts';

export const DEMO_MEMBER = {
  document: '1234567',
  password: 'demo2026',
  memberNumber: '100001',
  firstName: 'María',
  lastName: 'Rodríguez',
  email: 'maria.rodriguez@example.org',
  mobile: '+59899123456',
} as const;

/** The operator command that removes the demo member (src/cli/remove-demo.ts). */
export const REMOVE_DEMO_COMMAND = 'npm run members:remove-demo';

/** Creates the demo member unless the document exists; true when created now. */
export async function ensureDemoMember(
  db: Database,
  hasher: PasswordHasher,
  clock: Clock,
): Promise<boolean> {
  const existing = await db
    .selectFrom('members')
    .select('id')
    .where('document', '=', DEMO_MEMBER.document)
    .executeTakeFirst();
  if (existing) return false;
  const now = clock.now();
  const inserted = await db
    .insertInto('members')
    .values({
      document: DEMO_MEMBER.document,
      member_number: DEMO_MEMBER.memberNumber,
      first_name: DEMO_MEMBER.firstName,
      last_name: DEMO_MEMBER.lastName,
      email: DEMO_MEMBER.email,
      mobile: DEMO_MEMBER.mobile,
      status: 'active',
      password_hash: await hasher.hash(DEMO_MEMBER.password),
      password_changed_at: now,
      demo: true,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/** Production found a demo member: an operator must remove it before the portal starts. */
export class DemoMemberPresentError extends Error {
  constructor() {
    super(
      `the database holds the demo member (document ${DEMO_MEMBER.document}, whose password ${DEMO_MEMBER.password} is public), which is refused in production. Remove it with "${REMOVE_DEMO_COMMAND}" (same DATABASE_URL or DATA_DIR; on the embedded database, while the server is stopped), then start again.`,
    );
    this.name = 'DemoMemberPresentError';
  }
}

/** True when a demo member exists (a partial index makes this one cheap lookup). */
export async function hasDemoMember(db: Database): Promise<boolean> {
  const row = await db
    .selectFrom('members')
    .select('id')
    .where('demo', '=', true)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The production start-up check: throws DemoMemberPresentError while a demo member exists. */
export async function assertNoDemoMember(db: Database): Promise<void> {
  if (await hasDemoMember(db)) throw new DemoMemberPresentError();
}

/**
 * Ends every way in for these members: deletes their sessions and retires
 * their unused one-time secrets (links, codes, set-password tokens).
 * Returns how many sessions were ended.
 */
export async function endAccessOf(db: Database, memberIds: number[], now: Date): Promise<number> {
  if (memberIds.length === 0) return 0;
  const ended = await db
    .deleteFrom('sessions')
    .where('member_id', 'in', memberIds)
    .executeTakeFirst();
  await db
    .updateTable('one_time_secrets')
    .set({ used_at: now })
    .where('member_id', 'in', memberIds)
    .where('used_at', 'is', null)
    .execute();
  return Number(ended.numDeletedRows);
}

export interface DemoRemoval {
  /** Demo members deleted (0 when there was none: nothing else happened). */
  members: number;
  sessions: number;
  /** Queued messages to the demo member's address and mobile, deleted unsent. */
  messages: number;
}

/**
 * Deletes the demo member(s), in one transaction: their sessions, their
 * one-time secrets (cascade) and their unsent messages go with them; their
 * audit events stay, without the member (the foreign key sets it null).
 * Audited as a staff action by `actor`. Running it again finds nothing and does nothing.
 */
export async function removeDemoMembers(
  db: Database,
  clock: Clock,
  actor: AuditActor,
): Promise<DemoRemoval> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .selectFrom('members')
      .select('id')
      .where('demo', '=', true)
      .forUpdate()
      .execute();
    const ids = rows.map((row) => row.id);
    if (ids.length === 0) return { members: 0, sessions: 0, messages: 0 };
    const sessions = await endAccessOf(trx, ids, clock.now());
    const unsent = await trx
      .deleteFrom('outbox')
      .where('member_id', 'in', ids)
      .where('status', 'in', ['queued', 'processing'])
      .executeTakeFirst();
    await trx.deleteFrom('members').where('id', 'in', ids).execute();
    const removal = { members: ids.length, sessions, messages: Number(unsent.numDeletedRows) };
    await recordAudit(trx, clock, {
      type: 'staff_action',
      outcome: 'ok',
      actor,
      detail: { action: 'remove_demo_member', ...removal },
    });
    return removal;
  });
}
