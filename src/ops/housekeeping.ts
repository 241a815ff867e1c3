// What the server forgets on a schedule: ended sessions (members' and staff's),
// used CAPTCHA solutions, passkey challenges never answered, and the records
// of links, codes and messages once no rule needs them (limits look back one
// day; a week leaves room for support), ended throttle windows, and audit events (and the desk's identity checks
// they name) past AUDIT_RETENTION_DAYS, and password requests left in the
// intake for a day (their sweeper could not open them: APP_SECRET changed). The server runs it every few minutes;
// `npm run purge` runs it now and prints what it removed.

import { deleteOldAuditEvents } from '../audit/query.ts';
import type { Clock } from '../auth/clock.ts';
import { deleteExpiredSessions } from '../auth/sessions.ts';
import { deleteStaleThrottles } from '../auth/throttle.ts';
import type { Database } from '../db/schema.ts';
import { deleteExpiredStaffSessions } from '../staff/sessions.ts';

export const RECORD_RETENTION_DAYS = 7;
/** A request's intake row is taken over within a minute; one still there after a day never will be. */
export const INTAKE_RETENTION_HOURS = 24;

/** Rows one run deleted, by kind. */
export interface HousekeepingCounts {
  sessions: number;
  staffSessions: number;
  staffEnrolments: number;
  captchaSolutions: number;
  passkeyChallenges: number;
  oneTimeSecrets: number;
  /** Sent and abandoned messages past retention, and any message whose secret was deleted. */
  outboxMessages: number;
  devMailbox: number;
  auditEvents: number;
  staffVisits: number;
  /** Password requests left in the intake a day (src/flows/recovery/intake.ts): they could not be opened. */
  requestIntake: number;
}

export async function runHousekeeping(
  db: Database,
  clock: Clock,
  options: { auditRetentionDays: number } = { auditRetentionDays: 400 },
): Promise<HousekeepingCounts> {
  const now = clock.now();
  const cutoff = new Date(now.getTime() - RECORD_RETENTION_DAYS * 24 * 60 * 60_000);
  const deleted = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);
  const sessions = await deleteExpiredSessions(db, clock);
  const staffSessions = await deleteExpiredStaffSessions(db, clock);
  const staffEnrolments = deleted(
    await db
      .deleteFrom('staff_enrolments')
      .where((eb) => eb.or([eb('expires_at', '<', cutoff), eb('used_at', '<', cutoff)]))
      .executeTakeFirst(),
  );
  const captchaSolutions = deleted(
    await db.deleteFrom('captcha_solutions').where('expires_at', '<=', now).executeTakeFirst(),
  );
  const passkeyChallenges = deleted(
    await db.deleteFrom('webauthn_challenges').where('expires_at', '<=', now).executeTakeFirst(),
  );
  // Messages before the secrets they carry: deleting a secret would take its
  // messages with it (the foreign key cascades) uncounted. The same rows go
  // either way: finished messages past retention, and any message whose
  // secret goes now.
  const finishedMessages = deleted(
    await db
      .deleteFrom('outbox')
      .where('status', 'in', ['sent', 'abandoned'])
      .where('created_at', '<', cutoff)
      .executeTakeFirst(),
  );
  const messagesOfOldSecrets = deleted(
    await db
      .deleteFrom('outbox')
      .where('secret_id', 'in', (eb) =>
        eb.selectFrom('one_time_secrets').select('id').where('expires_at', '<', cutoff),
      )
      .executeTakeFirst(),
  );
  const outboxMessages = finishedMessages + messagesOfOldSecrets;
  const oneTimeSecrets = deleted(
    await db.deleteFrom('one_time_secrets').where('expires_at', '<', cutoff).executeTakeFirst(),
  );
  const devMailbox = deleted(
    await db.deleteFrom('dev_mailbox').where('created_at', '<', cutoff).executeTakeFirst(),
  );
  // Ended throttle windows and lockouts long past: not counted, as
  // deleteStaleThrottles does not say how many it removed.
  await deleteStaleThrottles(db, clock);
  const auditCutoff = new Date(now.getTime() - options.auditRetentionDays * 24 * 60 * 60_000);
  const auditEvents = await deleteOldAuditEvents(db, auditCutoff);
  // The desk's identity checks are what its audited actions name (visit_id):
  // kept as long as the audit.
  const staffVisits = deleted(
    await db.deleteFrom('staff_visits').where('created_at', '<', auditCutoff).executeTakeFirst(),
  );
  const requestIntake = deleted(
    await db
      .deleteFrom('request_intake')
      .where('created_at', '<', new Date(now.getTime() - INTAKE_RETENTION_HOURS * 60 * 60_000))
      .executeTakeFirst(),
  );
  return {
    sessions,
    staffSessions,
    staffEnrolments,
    captchaSolutions,
    passkeyChallenges,
    oneTimeSecrets,
    outboxMessages,
    devMailbox,
    auditEvents,
    staffVisits,
    requestIntake,
  };
}
