// The dispatcher works a claimed batch as a whole (ADR 021): one statement
// checks every claim and its secret, one writes the outcomes. Each row keeps
// its own outcome and its own fencing by `attempts`: a row whose claim was
// lost records nothing while the others of its batch are recorded, and the
// outcomes of messages already sent do not wait for a slow one.
// Also: email requests wait for the courier when the outbox is backlogged.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { hashToken } from '../../src/auth/secrets.ts';
import { Dispatcher, LEASE_MS, RETRY_DELAYS_MS } from '../../src/courier/dispatcher.ts';
import {
  type Channel,
  type OutgoingMessage,
  PermanentDeliveryError,
} from '../../src/courier/message.ts';
import { enqueueMessage } from '../../src/courier/outbox.ts';
import type { Database, Member } from '../../src/db/schema.ts';
import { COURIER_BACKLOG_LIMIT, waitForCourier } from '../../src/flows/recovery/service.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  TEST_SECRET,
  type TestDatabase,
} from '../helper.ts';
import { CapturedLog } from '../support/delivery.ts';

/** A channel told, per recipient, to fail for a while, refuse for good, or wait for the test. */
class ScriptedChannel implements Channel {
  readonly name = 'scripted';
  readonly delivered: string[] = [];
  readonly failing = new Map<string, Error>();
  readonly #holds = new Map<string, { reached: () => void; gate: Promise<void> }>();

  hold(to: string): { reached: Promise<void>; release(): void } {
    let reached = () => {};
    let release = () => {};
    const reachedPromise = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#holds.set(to, { reached, gate });
    return { reached: reachedPromise, release };
  }

  async deliver(message: OutgoingMessage): Promise<void> {
    const hold = this.#holds.get(message.to);
    if (hold) {
      this.#holds.delete(message.to);
      hold.reached();
      await hold.gate;
    }
    const error = this.failing.get(message.to);
    if (error) throw error;
    this.delivered.push(message.to);
  }
}

function instance(db: Database, clock: FakeClock, options: { outcomeFlushMs?: number } = {}) {
  const channel = new ScriptedChannel();
  const log = new CapturedLog();
  const dispatcher = new Dispatcher({
    db,
    clock,
    secret: TEST_SECRET,
    channels: { email: channel, sms: channel },
    log,
    ...options,
  });
  return { dispatcher, channel, log };
}

async function queueEmail(db: Database, clock: FakeClock, member: Member, secretId?: string) {
  const message: OutgoingMessage = {
    channel: 'email',
    to: member.email as string,
    template: 'password-request',
    content: { subject: 'Solicitud', text: 'enlace', html: '<p>enlace</p>' },
  };
  return enqueueMessage(db, clock, TEST_SECRET, message, member.id, secretId ? { secretId } : {});
}

async function linkFor(db: Database, clock: FakeClock, member: Member) {
  const now = clock.now();
  const row = await db
    .insertInto('one_time_secrets')
    .values({
      member_id: member.id,
      kind: 'email_link',
      purpose: 'recovery',
      secret_hash: hashToken(`link-${member.id}-${now.getTime()}`),
      created_at: now,
      expires_at: new Date(now.getTime() + 60 * 60_000),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

async function row(db: Database, id: string) {
  return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Turns of the event loop (and of the database) until `done()` says so; at most a few hundred. */
async function until(done: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (await done()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail('the condition never came true');
}

describe(`the dispatcher's batches (${databaseLabel})`, () => {
  let database: TestDatabase;
  let clock: FakeClock;

  // A database of its own per test: no message of one is due in another.
  beforeEach(async () => {
    database = await createTestDatabase();
    clock = new FakeClock();
  });
  afterEach(async () => {
    await database.close();
  });

  it('records each outcome of one claim as it would alone', async () => {
    const db = database.db;
    const { dispatcher, channel, log } = instance(db, clock);
    const [sent, retried, refused, retired, sealed] = await Promise.all(
      Array.from({ length: 5 }, () => createMember(db)),
    );
    const ids = {
      sent: await queueEmail(db, clock, sent as Member),
      retried: await queueEmail(db, clock, retried as Member),
      refused: await queueEmail(db, clock, refused as Member),
      retired: await queueEmail(
        db,
        clock,
        retired as Member,
        await linkFor(db, clock, retired as Member),
      ),
      sealed: await queueEmail(db, clock, sealed as Member),
    };
    channel.failing.set((retried as Member).email as string, new Error('451 try later'));
    channel.failing.set(
      (refused as Member).email as string,
      new PermanentDeliveryError('SMTP refused the recipient (550)'),
    );
    await db
      .updateTable('one_time_secrets')
      .set({ used_at: clock.now() })
      .where('member_id', '=', (retired as Member).id)
      .execute();
    await db
      .updateTable('outbox')
      .set({ payload: 'not a sealed payload' })
      .where('id', '=', ids.sealed)
      .execute();

    assert.equal(await dispatcher.runOnce(), 5);

    assert.deepEqual(channel.delivered, [(sent as Member).email]);
    const done = await row(db, ids.sent);
    assert.deepEqual(
      [done.status, done.attempts, done.payload, done.last_error, done.sent_at?.getTime()],
      ['sent', 1, null, null, clock.now().getTime()],
    );
    const again = await row(db, ids.retried);
    assert.deepEqual(
      [again.status, again.attempts, again.last_error, again.locked_until, again.sent_at],
      ['queued', 1, '451 try later', null, null],
    );
    assert.ok(again.payload, 'kept for the retry');
    assert.equal(
      again.next_attempt_at.getTime(),
      clock.now().getTime() + (RETRY_DELAYS_MS[0] as number),
    );
    // A refused recipient keeps its sealed content for `npm run outbox --
    // retry`; a dead secret or an unreadable payload has nothing to retry.
    for (const [id, reason, kept] of [
      [ids.refused, 'SMTP refused the recipient (550)', true],
      [ids.retired, 'secret retired before delivery', false],
      [ids.sealed, 'payload cannot be opened (APP_SECRET changed?)', false],
    ] as const) {
      const abandoned = await row(db, id);
      assert.deepEqual(
        [abandoned.status, abandoned.payload !== null, abandoned.last_error, abandoned.sent_at],
        ['abandoned', kept, reason, null],
      );
    }
    const said = log.entries.map((e) => e.msg).sort();
    assert.deepEqual(said, [
      'outbox delivery failed; will retry',
      'outbox message abandoned',
      'outbox message abandoned: its link or code is no longer valid',
      'outbox message abandoned: payload cannot be opened',
      'outbox message delivered',
    ]);
    assert.equal(await dispatcher.runOnce(), 0, 'nothing due before the retry');
  });

  it('records the sent messages of a batch while one waits, and nothing over a claim it lost', async () => {
    const db = database.db;
    const first = instance(db, clock, { outcomeFlushMs: 0 });
    const second = instance(db, clock);
    const [quick, slow, other] = await Promise.all(
      Array.from({ length: 3 }, () => createMember(db)),
    );
    const ids = [quick, slow, other].map(async (m) => queueEmail(db, clock, m as Member));
    const [quickId, slowId, otherId] = await Promise.all(ids);

    const held = first.channel.hold((slow as Member).email as string);
    const firstRun = first.dispatcher.runOnce();
    try {
      await held.reached;
      // The two quick ones are recorded without waiting for the slow one.
      await until(async () => (await row(db, quickId as string)).status === 'sent');
      await until(async () => (await row(db, otherId as string)).status === 'sent');

      // The slow one's lease runs out: another instance claims and sends it.
      clock.advance(LEASE_MS);
      assert.equal(await second.dispatcher.runOnce(), 1, 'only the slow one is due again');
      assert.deepEqual(second.channel.delivered, [(slow as Member).email]);
    } finally {
      held.release();
      await firstRun;
    }
    const slowRow = await row(db, slowId as string);
    assert.deepEqual([slowRow.status, slowRow.attempts], ['sent', 2]);
    assert.equal(
      first.log.entries.filter((e) => e.msg.startsWith('outbox claim lost')).length,
      1,
      'the first instance wrote nothing over the second claim',
    );
    assert.deepEqual(
      first.channel.delivered.sort(),
      [quick, slow, other].map((m) => (m as Member).email).sort(),
    );
    clock.advanceMinutes(24 * 60);
    assert.equal(await first.dispatcher.runOnce(), 0, 'nothing is sent again');
  });
});

describe(`email requests wait for a backlogged courier (${databaseLabel})`, () => {
  it('waits while the outbox holds COURIER_BACKLOG_LIMIT due messages, and goes on below it', async () => {
    const t = await buildTestApp();
    try {
      const member = await createMember(t.db);
      await t.db
        .insertInto('outbox')
        .values(
          Array.from({ length: COURIER_BACKLOG_LIMIT }, () => ({
            channel: 'email' as const,
            template: 'password-request',
            member_id: member.id,
            recipient: member.email as string,
            payload: 'sealed',
            next_attempt_at: t.clock.now(),
            created_at: t.clock.now(),
          })),
        )
        .execute();
      let pauses = 0;
      let wakes = 0;
      const wake = () => {
        wakes += 1;
      };
      const deps = { ...t.deps.flow, courier: { wake } };
      const waiting = waitForCourier(deps, async () => {
        pauses += 1;
        // The courier sends one message while the flow waits.
        if (pauses === 3)
          await t.db
            .updateTable('outbox')
            .set({ status: 'sent' })
            .where('id', '=', (eb) =>
              eb.selectFrom('outbox').select((s) => s.fn.min('id').as('id')),
            )
            .execute();
      });
      await waiting;
      assert.equal(pauses, 3, 'it looked again until the backlog went below the limit');
      assert.equal(wakes, 3, 'and woke the courier each time');

      // Messages waiting for a retry are not a backlog.
      await t.db
        .updateTable('outbox')
        .set({ next_attempt_at: new Date(t.clock.now().getTime() + 60_000) })
        .execute();
      await t.db
        .insertInto('outbox')
        .values({
          channel: 'email',
          template: 'password-request',
          member_id: member.id,
          recipient: member.email as string,
          payload: 'sealed',
          next_attempt_at: t.clock.now(),
          created_at: t.clock.now(),
        })
        .execute();
      await waitForCourier(deps, async () => assert.fail('no pause below the limit'));
    } finally {
      await t.close();
    }
  });

  it('does not wait while a graceful stop drains the queue', async () => {
    const t = await buildTestApp();
    try {
      const member = await createMember(t.db);
      await t.db
        .insertInto('outbox')
        .values(
          Array.from({ length: COURIER_BACKLOG_LIMIT }, () => ({
            channel: 'email' as const,
            template: 'password-request',
            member_id: member.id,
            recipient: member.email as string,
            payload: 'sealed',
            next_attempt_at: t.clock.now(),
            created_at: t.clock.now(),
          })),
        )
        .execute();
      const draining = { ...t.deps.flow.background, isDraining: () => true };
      await waitForCourier({ ...t.deps.flow, background: draining }, async () =>
        assert.fail('no pause while stopping'),
      );
    } finally {
      await t.close();
    }
  });
});
