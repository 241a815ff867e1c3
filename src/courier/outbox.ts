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

/** A member's messages counted by countMessagesOfMembers: asked for from a known device, and from elsewhere. */
export interface MemberMessageCounts {
  knownDevice: number;
  elsewhere: number;
}

/**
 * countMemberMessages for many members in one statement: each member's
 * messages of `templates` queued since `since`, from a known device and
 * from elsewhere (ADR 016). A member with none is absent.
 */
export async function countMessagesOfMembers(
  db: Database,
  memberIds: readonly number[],
  since: Date,
  templates: readonly string[],
): Promise<Map<number, MemberMessageCounts>> {
  const counts = new Map<number, MemberMessageCounts>();
  if (memberIds.length === 0) return counts;
  const rows = await db
    .selectFrom('outbox')
    .select((eb) => ['member_id', 'known_device', eb.fn.countAll().as('n')])
    .where((eb) => eb('member_id', '=', eb.fn.any(eb.val([...memberIds]))))
    .where('template', 'in', templates)
    .where('created_at', '>', since)
    .groupBy(['member_id', 'known_device'])
    .execute();
  for (const row of rows) {
    const memberId = row.member_id as number;
    const entry = counts.get(memberId) ?? { knownDevice: 0, elsewhere: 0 };
    if (row.known_device) entry.knownDevice = Number(row.n);
    else entry.elsewhere = Number(row.n);
    counts.set(memberId, entry);
  }
  return counts;
}

/** One message of enqueueMessagesQuery: what enqueueMessage takes, and the hash of the secret it carries. */
export interface BatchMessage {
  message: OutgoingMessage;
  memberId: number;
  /** The secret_hash of the secret it carries, stored by the same statement. */
  secretHash: string;
  knownDevice: boolean;
}

/**
 * enqueueMessage for many messages in one statement, unexecuted, each
 * carrying a secret stored by the same statement: `storedSecrets` names the
 * common table expression that stored them and returns their `id` and
 * `secret_hash`. Its rows are visible here, where a separate statement's
 * would not be until then: the messages name their secrets' ids.
 */
export function enqueueMessagesQuery(
  db: Database,
  clock: Clock,
  secret: string,
  messages: readonly BatchMessage[],
  storedSecrets: string,
) {
  const now = clock.now();
  const column = <T>(pick: (m: BatchMessage) => T) => messages.map(pick);
  return db
    .insertInto('outbox')
    .columns([
      'channel',
      'template',
      'member_id',
      'recipient',
      'payload',
      'next_attempt_at',
      'created_at',
      'secret_id',
      'known_device',
    ])
    .expression(
      sql`select q.channel, q.template, q.member_id, q.recipient, q.payload, ${now}::timestamptz, ${now}::timestamptz, s.id, q.known_device
        from unnest(
          ${column((m) => m.message.channel)}::text[],
          ${column((m) => m.message.template)}::text[],
          ${column((m) => m.memberId)}::int[],
          ${column((m) => m.message.to)}::text[],
          ${column((m) => sealText(secret, OUTBOX_SEAL, JSON.stringify(m.message)))}::text[],
          ${column((m) => m.knownDevice)}::bool[],
          ${column((m) => m.secretHash)}::text[]
        ) as q(channel, template, member_id, recipient, payload, known_device, secret_hash)
        join ${sql.table(storedSecrets)} as s on s.secret_hash = q.secret_hash`,
    );
}

/**
 * How many messages are due now and waiting for the dispatcher, counted up
 * to `upTo` only (a bounded read of the due index, whatever the backlog).
 * Messages waiting for a retry are not due: an unreachable SMTP server
 * does not make the outbox look busy.
 */
export async function countDueMessages(db: Database, now: Date, upTo: number): Promise<number> {
  const row = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('outbox')
        .select('id')
        .where('status', '=', 'queued')
        .where('next_attempt_at', '<=', now)
        .limit(upTo)
        .as('due'),
    )
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
