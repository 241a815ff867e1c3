// Writing messages to the outbox. Flows call this inside their own
// transaction, so a message exists exactly when its token or code does.
import { sql } from 'kysely';
import { type AuditActor, recordAudit, systemActor } from '../audit/record.ts';
import type { Clock } from '../auth/clock.ts';
import { sealText } from '../auth/secrets.ts';
import type { Database } from '../db/schema.ts';
import { maskedEmail, maskedMobile } from '../flows/settings/describe.ts';
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

// What an operator sees of the outbox and how they send abandoned messages
// again (npm run outbox, src/cli/outbox.ts). Never the content: a message's
// sealed payload is not opened here, its recipient is masked and its last
// error is reduced to a class (an SMTP reply can quote anything).

/** The statuses of an outbox row, as the dispatcher moves it (src/courier/dispatcher.ts). */
export const OUTBOX_STATUSES = ['queued', 'processing', 'sent', 'abandoned'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];
export const OUTBOX_CHANNELS = ['email', 'sms'] as const;
export type OutboxChannel = (typeof OUTBOX_CHANNELS)[number];

/** The reasons the dispatcher records when a message's link or code died before delivery. */
const SECRET_RETIRED_REASON = 'secret retired before delivery';
const SECRET_EXPIRED_REASON = 'secret expired before delivery';
const UNREADABLE_REASON = 'payload cannot be opened';

/**
 * Whether an abandoned message would go out again if retried now, or why
 * not: its link or code expired, or was used or replaced by a newer one
 * (sending it would mail a dead link), or its sealed content is no longer
 * kept (nothing left to send).
 */
export type RetryStanding = 'retriable' | 'secret-expired' | 'secret-used' | 'content-wiped';

export interface AbandonedMessage {
  id: string;
  channel: OutboxChannel;
  template: string;
  /** Masked as the member home masks contacts: "a***@example.org", "09*****222". */
  recipient: string;
  attempts: number;
  /** The last error reduced to a class: "smtp 550", "gateway 503", "ECONNREFUSED", "secret expired"… */
  errorClass: string;
  createdAt: Date;
  /**
   * When its last try was due (the outbox keeps no abandon time: a try is
   * claimed within a poll interval of this).
   */
  lastTryAt: Date;
  retry: RetryStanding;
}

export interface OutboxReport {
  at: Date;
  /** Messages by status and channel, zeros included. */
  counts: Record<OutboxStatus, Record<OutboxChannel, number>>;
  /** Queued messages that failed before and wait for their next try (included in counts.queued). */
  waitingForRetry: number;
  /** Messages held by an instance whose lease ran out (it died mid-delivery): due again. */
  leaseRunOut: number;
  /** The oldest message not delivered yet (queued or processing), null when none. */
  oldestUndelivered: {
    id: string;
    channel: OutboxChannel;
    createdAt: Date;
    ageSeconds: number;
  } | null;
  /** Abandoned messages, newest first, at most `limit` of them (counts.abandoned says how many in all). */
  abandoned: AbandonedMessage[];
}

/** Counts, the oldest undelivered message and the newest `limit` abandoned messages. */
export async function describeOutbox(
  db: Database,
  clock: Clock,
  options: { limit: number },
): Promise<OutboxReport> {
  const now = clock.now();
  const counts = Object.fromEntries(
    OUTBOX_STATUSES.map((status) => [status, { email: 0, sms: 0 }]),
  ) as OutboxReport['counts'];
  const grouped = await db
    .selectFrom('outbox')
    .select((eb) => ['status', 'channel', eb.fn.countAll().as('n')])
    .groupBy(['status', 'channel'])
    .execute();
  for (const row of grouped) counts[row.status][row.channel] = Number(row.n);

  const pending = await db
    .selectFrom('outbox')
    .select((eb) => [
      eb.fn
        .countAll()
        .filterWhere((w) => w.and([w('status', '=', 'queued'), w('attempts', '>', 0)]))
        .as('waiting'),
      eb.fn
        .countAll()
        .filterWhere((w) => w.and([w('status', '=', 'processing'), w('locked_until', '<=', now)]))
        .as('run_out'),
    ])
    .where('status', 'in', ['queued', 'processing'])
    .executeTakeFirstOrThrow();

  const oldest = await db
    .selectFrom('outbox')
    .select(['id', 'channel', 'created_at'])
    .where('status', 'in', ['queued', 'processing'])
    .orderBy('created_at')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();

  const abandoned = await abandonedMessages(db)
    .orderBy('outbox.id', 'desc')
    .limit(options.limit)
    .execute();

  return {
    at: now,
    counts,
    waitingForRetry: Number(pending.waiting),
    leaseRunOut: Number(pending.run_out),
    oldestUndelivered: oldest
      ? {
          id: String(oldest.id),
          channel: oldest.channel,
          createdAt: oldest.created_at,
          ageSeconds: Math.max(0, Math.floor((now.getTime() - oldest.created_at.getTime()) / 1000)),
        }
      : null,
    abandoned: abandoned.map((row) => ({
      id: String(row.id),
      channel: row.channel,
      template: row.template,
      recipient: maskRecipient(row.channel, row.recipient),
      attempts: row.attempts,
      errorClass: classifyError(row.last_error),
      createdAt: row.created_at,
      lastTryAt: row.next_attempt_at,
      retry: retryStandingOf(row, now),
    })),
  };
}

/** Abandoned messages with what decides whether they may go again (their secret's state). */
function abandonedMessages(db: Database) {
  return db
    .selectFrom('outbox')
    .leftJoin('one_time_secrets', 'one_time_secrets.id', 'outbox.secret_id')
    .select([
      'outbox.id',
      'outbox.channel',
      'outbox.template',
      'outbox.recipient',
      'outbox.attempts',
      'outbox.last_error',
      'outbox.created_at',
      'outbox.next_attempt_at',
      'outbox.secret_id',
      'one_time_secrets.used_at',
      'one_time_secrets.expires_at',
      (eb) => eb('outbox.payload', 'is not', null).as('has_content'),
    ])
    .where('outbox.status', '=', 'abandoned')
    .$narrowType<{ has_content: boolean }>();
}

/**
 * Whether an abandoned message may be sent again at `now`, judged as the
 * dispatcher judges it just before sending (standingOf in dispatcher.ts): a
 * secret used or gone counts as used, one at or past its expiry as expired.
 */
function retryStandingOf(
  row: {
    secret_id: string | null;
    used_at: Date | null;
    expires_at: Date | null;
    has_content: boolean;
  },
  now: Date,
): RetryStanding {
  if (row.secret_id !== null) {
    if (row.used_at !== null || row.expires_at === null) return 'secret-used';
    if (row.expires_at.getTime() <= now.getTime()) return 'secret-expired';
  }
  return row.has_content ? 'retriable' : 'content-wiped';
}

export interface RetryResult {
  /** Put back in the queue, due now, with a full budget of tries. */
  requeued: number;
  /** Left abandoned, by reason. */
  skipped: Record<Exclude<RetryStanding, 'retriable'>, number>;
  /** Ids asked for (retry by id) that name no abandoned message: unknown, deleted, sent or still queued. */
  notAbandoned: string[];
}

/** The actor of `npm run outbox -- retry` in the audit trail. */
export const OUTBOX_RETRY_COMMAND_ACTOR: AuditActor = systemActor('cli:outbox');

/**
 * Puts abandoned messages (all of them, or those of `ids`) back in the
 * queue: status queued, attempts 0 (a full budget of tries again), due now,
 * so the dispatcher of any running instance sends them at its next poll.
 * A message whose link or code expired or was used is left abandoned
 * (mailing it would send a dead link; the dispatcher would refuse it anyway)
 * and its sealed content is wiped, as it can never go out; so is nothing
 * whose content is gone. Audited as a staff action of `actor`.
 *
 * Resetting `attempts` reuses values the dispatcher's claims use as a fence
 * (recordOutcomes): a sender of an old claim still hung on its channel could
 * match a new claim with the same count. It needs a send hung past the
 * lease, the row abandoned and retried meanwhile, and would at worst send
 * the message twice, which at-least-once delivery allows (ADR 008).
 */
export async function retryAbandonedMessages(
  db: Database,
  clock: Clock,
  target: { ids: readonly string[] } | { all: true },
  actor: AuditActor = OUTBOX_RETRY_COMMAND_ACTOR,
): Promise<RetryResult> {
  const now = clock.now();
  return db.transaction().execute(async (trx) => {
    let query = abandonedMessages(trx).forUpdate(['outbox']).orderBy('outbox.id');
    if ('ids' in target) {
      query = query.where((eb) => eb('outbox.id', '=', eb.fn.any(eb.val([...target.ids]))));
    }
    // Locked until the transaction ends: a concurrent retry or housekeeping
    // waits, and the dispatcher never claims an abandoned row.
    const rows = await query.execute();
    const skipped: RetryResult['skipped'] = {
      'secret-expired': 0,
      'secret-used': 0,
      'content-wiped': 0,
    };
    const retriable: string[] = [];
    const dead: string[] = [];
    for (const row of rows) {
      const standing = retryStandingOf(row, now);
      if (standing === 'retriable') {
        retriable.push(String(row.id));
      } else {
        skipped[standing] += 1;
        if (row.has_content) dead.push(String(row.id));
      }
    }
    if (retriable.length > 0) {
      await trx
        .updateTable('outbox')
        .set({
          status: 'queued',
          attempts: 0,
          next_attempt_at: now,
          locked_until: null,
          last_error: null,
        })
        .where((eb) => eb('id', '=', eb.fn.any(eb.val(retriable))))
        .execute();
    }
    if (dead.length > 0) {
      await trx
        .updateTable('outbox')
        .set({ payload: null })
        .where((eb) => eb('id', '=', eb.fn.any(eb.val(dead))))
        .execute();
    }
    const found = new Set(rows.map((row) => String(row.id)));
    const notAbandoned = 'ids' in target ? target.ids.filter((id) => !found.has(id)) : [];
    await recordAudit(trx, clock, {
      type: 'staff_action',
      outcome: 'ok',
      actor,
      detail: {
        action: 'outbox_retry',
        scope: 'ids' in target ? 'ids' : 'all',
        requeued: retriable.length,
        skipped_secret_expired: skipped['secret-expired'],
        skipped_secret_used: skipped['secret-used'],
        skipped_content_wiped: skipped['content-wiped'],
      },
    });
    return { requeued: retriable.length, skipped, notAbandoned };
  });
}

/** A recipient as an operator may read it: masked as the member home masks a contact. */
export function maskRecipient(channel: OutboxChannel, recipient: string): string {
  return (channel === 'email' ? maskedEmail(recipient) : maskedMobile(recipient)) ?? '***';
}

/**
 * A last error as a short class that says what failed without quoting it:
 * the dispatcher's own reasons by name, else an error code (ECONNREFUSED),
 * an SMTP reply code or the SMS gateway's status, else "other".
 */
export function classifyError(lastError: string | null): string {
  if (lastError === null) return '-';
  if (lastError === SECRET_EXPIRED_REASON) return 'secret expired';
  if (lastError === SECRET_RETIRED_REASON) return 'secret retired';
  if (lastError.startsWith(UNREADABLE_REASON)) return 'unreadable';
  const refused = /^SMTP refused the recipient \((\d{3})\)/.exec(lastError);
  if (refused) return `smtp ${refused[1]}`;
  const gateway = /^SMS gateway answered (\d{3})/.exec(lastError);
  if (gateway) return `gateway ${gateway[1]}`;
  const code =
    /\b(E(?:CONN[A-Z]+|TIMEDOUT|NOTFOUND|AI_AGAIN|HOSTUNREACH|NETUNREACH|PIPE|SOCKET|AUTH|ENVELOPE|MESSAGE|TLS|DNS|PROTOCOL|STREAM|CONNECTION))\b/.exec(
      lastError,
    );
  if (code) return code[1] as string;
  const reply = /(?:^|[\s(=])([45]\d\d)(?=[\s).,:-]|$)/.exec(lastError);
  if (reply) return `smtp ${reply[1]}`;
  if (/timed? ?out/i.test(lastError)) return 'timeout';
  return 'other';
}
