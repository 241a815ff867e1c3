// Writing messages to the outbox. Flows call this inside their own
// transaction, so a message exists exactly when its token or code does.
import { sql } from 'kysely';
import type { Clock } from '../auth/clock.ts';
import { sealText } from '../auth/secrets.ts';
import type { Database } from '../db/schema.ts';
import type { OutgoingMessage } from './message.ts';

export const OUTBOX_SEAL = 'outbox';

export interface EnqueueOptions {
  /**
   * The one_time_secrets row whose link or code the message carries: the
   * dispatcher delivers the message only while that secret is unused and
   * unexpired.
   */
  secretId?: string;
  /** Asked for from a device that logged in as the member before (ADR 016). */
  knownDevice?: boolean;
}

export async function enqueueMessage(
  db: Database,
  clock: Clock,
  secret: string,
  message: OutgoingMessage,
  memberId: number | null,
  options: EnqueueOptions = {},
): Promise<string> {
  const now = clock.now();
  const row = await db
    .insertInto('outbox')
    .values({
      channel: message.channel,
      template: message.template,
      member_id: memberId,
      recipient: message.to,
      payload: sealText(secret, OUTBOX_SEAL, JSON.stringify(message)),
      next_attempt_at: now,
      created_at: now,
      secret_id: options.secretId ?? null,
      known_device: options.knownDevice ?? false,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/**
 * Messages of the given templates queued for a member since `since`, both
 * channels, asked for from a known device or from elsewhere (each has its own
 * budget: requests from elsewhere cannot spend a known device's, ADR 016).
 */
export async function countMemberMessages(
  db: Database,
  memberId: number,
  since: Date,
  templates: readonly string[],
  knownDevice = false,
): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('member_id', '=', memberId)
    .where('template', 'in', templates)
    .where('created_at', '>', since)
    .where('known_device', '=', knownDevice)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Holds, until the transaction ends, a lock on one destination, so that
 * counting its messages and queuing one more is one step even when several
 * members share the number (PostgreSQL's read-committed counts would
 * otherwise let concurrent requests all pass the limit).
 */
export async function lockDestination(
  trx: Database,
  channel: 'email' | 'sms',
  recipient: string,
): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`outbox:${channel}:${recipient}`}, 0))`.execute(
    trx,
  );
}

/** SMS queued to one number since `since`, asked for from a known device or from elsewhere. */
export async function countSmsTo(
  db: Database,
  number: string,
  since: Date,
  knownDevice = false,
): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('channel', '=', 'sms')
    .where('recipient', '=', number)
    .where('created_at', '>', since)
    .where('known_device', '=', knownDevice)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
