// An operator ends sessions: one member's (a stolen phone, a member's
// request at the branch) or everyone's (a suspected leak). Audited as a
// staff action, with the command (or, later, the staff user) as its actor;
// the member logs in again.
import { type AuditActor, recordAudit, systemActor } from '../audit/record.ts';
import type { Clock } from '../auth/clock.ts';
import type { Database } from '../db/schema.ts';
import { findMemberByIdentifier } from '../members/find.ts';

/** The actor of `npm run sessions -- end` (src/cli/sessions.ts). */
export const END_SESSIONS_COMMAND_ACTOR: AuditActor = systemActor('cli:sessions');

/** `identifier`: a document or member number, digits (found as in recovery, ADR 018). */
export type EndSessionsTarget = { identifier: string } | { all: true };

export type EndSessionsResult =
  | { found: true; ended: number; memberId: number | null }
  | { found: false };

export async function endSessions(
  db: Database,
  clock: Clock,
  target: EndSessionsTarget,
  actor: AuditActor = END_SESSIONS_COMMAND_ACTOR,
): Promise<EndSessionsResult> {
  return db.transaction().execute(async (trx) => {
    if ('all' in target) {
      const result = await trx.deleteFrom('sessions').executeTakeFirst();
      const ended = Number(result.numDeletedRows);
      await recordAudit(trx, clock, {
        type: 'staff_action',
        outcome: 'ok',
        actor,
        detail: { action: 'end_sessions', scope: 'all', ended },
      });
      return { found: true, ended, memberId: null };
    }
    const { identifier } = target;
    const member = await findMemberByIdentifier(trx, identifier);
    if (!member) return { found: false };
    const result = await trx
      .deleteFrom('sessions')
      .where('member_id', '=', member.id)
      .executeTakeFirst();
    const ended = Number(result.numDeletedRows);
    await recordAudit(trx, clock, {
      type: 'staff_action',
      outcome: 'ok',
      memberId: member.id,
      actor,
      detail: { action: 'end_sessions', scope: 'member', ended },
    });
    return { found: true, ended, memberId: member.id };
  });
}
