// An operator ends sessions: one member's (a stolen phone, a member's
// request at the branch) or everyone's (a suspected leak). Audited as a
// staff action; the member logs in again.
import { recordAudit } from '../audit/record.ts';
import type { Clock } from '../auth/clock.ts';
import type { Database } from '../db/schema.ts';

export type EndSessionsTarget = { identifier: string } | { all: true };

export type EndSessionsResult =
  | { found: true; ended: number; memberId: number | null }
  | { found: false };

export async function endSessions(
  db: Database,
  clock: Clock,
  target: EndSessionsTarget,
): Promise<EndSessionsResult> {
  return db.transaction().execute(async (trx) => {
    if ('all' in target) {
      const result = await trx.deleteFrom('sessions').executeTakeFirst();
      const ended = Number(result.numDeletedRows);
      await recordAudit(trx, clock, {
        type: 'staff_action',
        outcome: 'ok',
        detail: { action: 'end_sessions', scope: 'all', ended },
      });
      return { found: true, ended, memberId: null };
    }
    const { identifier } = target;
    const member = await trx
      .selectFrom('members')
      .select('id')
      .where((eb) => eb.or([eb('document', '=', identifier), eb('member_number', '=', identifier)]))
      .executeTakeFirst();
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
      detail: { action: 'end_sessions', scope: 'member', ended },
    });
    return { found: true, ended, memberId: member.id };
  });
}
