// What the server forgets on a schedule: ended sessions (members' and staff's),
// used CAPTCHA solutions, passkey challenges never answered, and the records
// of links, codes and messages once no rule needs them (limits look back one
// day; a week leaves room for support), ended throttle windows, and audit events (and the desk's identity checks
// they name) past AUDIT_RETENTION_DAYS.

import { deleteOldAuditEvents } from '../audit/query.ts';
import type { Clock } from '../auth/clock.ts';
import { deleteExpiredSessions } from '../auth/sessions.ts';
import { deleteStaleThrottles } from '../auth/throttle.ts';
import type { Database } from '../db/schema.ts';
import { deleteExpiredStaffSessions } from '../staff/sessions.ts';

export const RECORD_RETENTION_DAYS = 7;

export async function runHousekeeping(
  db: Database,
  clock: Clock,
  options: { auditRetentionDays: number } = { auditRetentionDays: 400 },
): Promise<void> {
  const now = clock.now();
  const cutoff = new Date(now.getTime() - RECORD_RETENTION_DAYS * 24 * 60 * 60_000);
  await deleteExpiredSessions(db, clock);
  await deleteExpiredStaffSessions(db, clock);
  await db
    .deleteFrom('staff_enrolments')
    .where((eb) => eb.or([eb('expires_at', '<', cutoff), eb('used_at', '<', cutoff)]))
    .execute();
  await db.deleteFrom('captcha_solutions').where('expires_at', '<=', now).execute();
  await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).execute();
  await db.deleteFrom('one_time_secrets').where('expires_at', '<', cutoff).execute();
  await db
    .deleteFrom('outbox')
    .where('status', 'in', ['sent', 'abandoned'])
    .where('created_at', '<', cutoff)
    .execute();
  await db.deleteFrom('dev_mailbox').where('created_at', '<', cutoff).execute();
  await deleteStaleThrottles(db, clock);
  const auditCutoff = new Date(now.getTime() - options.auditRetentionDays * 24 * 60 * 60_000);
  await deleteOldAuditEvents(db, auditCutoff);
  // The desk's identity checks are what its audited actions name (visit_id):
  // kept as long as the audit.
  await db.deleteFrom('staff_visits').where('created_at', '<', auditCutoff).execute();
}
