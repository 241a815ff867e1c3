// Writing messages to the outbox. Flows call this inside their own
// transaction, so a message exists exactly when its token or code does.
import { sql } from 'kysely';
import type { Clock } from '../auth/clock.ts';
import { sealText } from '../auth/secrets.ts';
import type { Database } from '../db/schema.ts';
import type { OutgoingMessage } from './message.ts';

export const OUTBOX_SEAL = 'outbox';

export async function enqueueMessage(
  db: Database,
  clock: Clock,
  secret: string,
  message: OutgoingMessage,
  memberId: number | null,
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
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** Messages of the given templates queued for a member since `since`, both channels. */
export async function countMemberMessages(
  db: Database,
  memberId: number,
  since: Date,
  templates: readonly string[],
): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('member_id', '=', memberId)
    .where('template', 'in', templates)
    .where('created_at', '>', since)
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

/** SMS queued to one number since `since`, whoever asked. */
export async function countSmsTo(db: Database, number: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('channel', '=', 'sms')
    .where('recipient', '=', number)
    .where('created_at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
