// The courier under faults, through real parts: an SMTP server that is down
// or refuses, an SMS gateway that answers 503, an app that stops between
// queuing and delivery. Also: what the outbox keeps at rest.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { hashToken, openText } from '../../src/auth/secrets.ts';
import {
  Dispatcher,
  LEASE_MS,
  MAX_ATTEMPTS,
  RETRY_DELAYS_MS,
} from '../../src/courier/dispatcher.ts';
import type { Channel, OutgoingMessage } from '../../src/courier/message.ts';
import { enqueueMessage, OUTBOX_SEAL } from '../../src/courier/outbox.ts';
import type { Database, Member } from '../../src/db/schema.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  TEST_SECRET,
  type TestDatabase,
} from '../helper.ts';
import {
  buildDeliveryRig,
  CapturedLog,
  createDispatcher,
  type DeliveryRig,
} from '../support/delivery.ts';
import { lastMailTo, requestPassword, tokenIn } from '../support/recovery.ts';
import { codeIn, SmsGatewayStub } from '../support/sms-gateway.ts';
import { SmtpStub } from '../support/smtp.ts';

async function outboxRows(db: Database, member: Member) {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('member_id', '=', member.id)
    .orderBy('id')
    .execute();
}

/** Every row of a table as PostgreSQL prints it, one string per row. */
async function tableText(db: Database, table: 'outbox' | 'audit_events' | 'one_time_secrets') {
  const result = await sql<{
    row: string;
  }>`select t::text as row from ${sql.table(table)} t`.execute(db);
  return result.rows.map((r) => r.row);
}

/** The outbox, audit and secret rows as PostgreSQL prints them. */
async function tablesAtRest(db: Database) {
  return [
    ...(await tableText(db, 'outbox')),
    ...(await tableText(db, 'audit_events')),
    ...(await tableText(db, 'one_time_secrets')),
  ];
}

describe(`the courier under faults (${databaseLabel})`, () => {
  let database: TestDatabase;
  let smtp: SmtpStub;
  let sms: SmsGatewayStub;
  let rig: DeliveryRig;

  before(async () => {
    database = await createTestDatabase();
    smtp = await SmtpStub.stopped();
    sms = await SmsGatewayStub.start();
    rig = await buildDeliveryRig({ database, smtp, sms });
  });
  after(async () => {
    await rig.close();
    await smtp.stop();
    await sms.close();
    await database.close();
  });

  it('answers 202 while the SMTP server is down: nothing is sent during the request', async () => {
    assert.equal(smtp.listening, false);
    const member = await createMember(rig.db);
    const response = await requestPassword(rig, member.document, 'email');
    assert.equal(response.statusCode, 202);
    const [row] = await outboxRows(rig.db, member);
    assert.equal(row?.status, 'queued');
    assert.equal(row?.attempts, 0, 'no delivery was tried inside the request');
    assert.equal(smtp.connections, 0);
  });

  it('keeps an email queued while the SMTP server is down, and delivers it exactly once when it is back', async () => {
    const member = await createMember(rig.db, { email: 'caida.smtp@example.org' });
    assert.equal((await requestPassword(rig, member.document, 'email')).statusCode, 202);
    const queuedAt = rig.clock.now().getTime();

    await rig.deliver();
    const [failed] = (await outboxRows(rig.db, member)).filter(
      (r) => r.template === 'password-request',
    );
    assert.equal(failed?.status, 'queued');
    assert.equal(failed?.attempts, 1);
    assert.ok(failed?.last_error, 'the failure is recorded');
    assert.ok(!failed?.last_error?.includes('caida.smtp'), 'without the address');
    assert.ok(failed?.payload, 'the sealed message is kept for the retry');
    assert.equal(failed?.next_attempt_at.getTime(), queuedAt + (RETRY_DELAYS_MS[0] as number));
    assert.equal(await rig.deliver(), 0, 'not due before the backoff');

    await smtp.listen();
    rig.clock.advance(RETRY_DELAYS_MS[0] as number);
    assert.ok((await rig.deliver()) >= 1);
    assert.equal(await rig.deliver(), 0);
    assert.equal(smtp.to('caida.smtp@example.org').length, 1, 'delivered exactly once');
    const [sent] = (await outboxRows(rig.db, member)).filter(
      (r) => r.template === 'password-request',
    );
    assert.equal(sent?.status, 'sent');
    assert.equal(sent?.attempts, 2);
    assert.equal(sent?.payload, null, 'the sealed payload is wiped once sent');
    assert.ok(sent?.sent_at);

    const logged = JSON.stringify(rig.log.entries);
    assert.match(logged, /will retry/);
    assert.ok(!logged.includes('caida.smtp'), 'the log names no address');
  });

  it('retries when the SMTP server refuses with 421, and delivers once it accepts', async () => {
    const member = await createMember(rig.db, { email: 'ocupado@example.org' });
    smtp.refuseWith = 421;
    try {
      await requestPassword(rig, member.document, 'email');
      await rig.deliver();
      const [row] = await outboxRows(rig.db, member);
      assert.equal(row?.status, 'queued');
      assert.match(row?.last_error ?? '', /421/);
    } finally {
      smtp.refuseWith = null;
    }
    rig.clock.advance(RETRY_DELAYS_MS[0] as number);
    await rig.deliver();
    assert.equal(smtp.to('ocupado@example.org').length, 1);
  });

  it('delivers, once, a message queued by an app that stopped before sending it', async () => {
    const first = await buildDeliveryRig({ database, smtp, sms });
    const member = await createMember(first.db, { email: 'reinicio@example.org' });
    assert.equal((await requestPassword(first, member.document, 'email')).statusCode, 202);
    await first.close();

    const second = await buildDeliveryRig({ database, smtp, sms });
    try {
      assert.equal(await second.deliver(), 1);
      assert.equal(await second.deliver(), 0);
      assert.equal(smtp.to('reinicio@example.org').length, 1);
      const mail = smtp.to('reinicio@example.org')[0];
      assert.equal(mail?.parsed.subject, 'Solicitud nueva contraseña');
      assert.match(tokenIn(lastMailTo(second, member)), /^[A-Za-z0-9_-]{43}$/);
    } finally {
      await second.close();
    }
  });

  it('takes over a message whose delivery lease ran out (the instance died mid-delivery)', async () => {
    const member = await createMember(rig.db, { email: 'lease@example.org' });
    await requestPassword(rig, member.document, 'email');
    // Another instance claimed it and died: processing, leased for two minutes.
    await rig.db
      .updateTable('outbox')
      .set({
        status: 'processing',
        attempts: 1,
        locked_until: new Date(rig.clock.now().getTime() + 120_000),
      })
      .where('member_id', '=', member.id)
      .execute();
    assert.equal(await rig.deliver(), 0, 'a live lease is respected');
    rig.clock.advance(120_000);
    assert.equal(await rig.deliver(), 1);
    assert.equal(smtp.to('lease@example.org').length, 1);
  });

  it('retries the SMS gateway’s 503 with backoff and delivers when it answers 200', async () => {
    const member = await createMember(rig.db, { mobile: '+59899503503' });
    sms.fail(503, 1);
    await requestPassword(rig, member.document, 'sms');
    await rig.deliver();
    let [row] = await outboxRows(rig.db, member);
    assert.equal(row?.status, 'queued');
    assert.equal(row?.last_error, 'SMS gateway answered 503');

    rig.clock.advance((RETRY_DELAYS_MS[0] as number) - 1000);
    assert.equal(await rig.deliver(), 0, 'not before the backoff');
    rig.clock.advance(1000);
    assert.equal(await rig.deliver(), 1);

    const posts = sms.requests.filter((r) => r.to === '+59899503503');
    assert.deepEqual(
      posts.map((p) => p.status),
      [503, 200],
    );
    assert.equal(posts[0]?.body, posts[1]?.body, 'the same message, retried');
    [row] = await outboxRows(rig.db, member);
    assert.equal(row?.status, 'sent');
    assert.equal(row?.payload, null);
  });

  it(`abandons a message after ${MAX_ATTEMPTS} failed tries, its payload kept sealed for a retry`, async () => {
    // A message that carries no link or code: one that does is abandoned
    // sooner, when its secret expires (see the next test).
    const member = await createMember(rig.db, { mobile: '+59899777777' });
    sms.fail(503);
    try {
      await enqueueMessage(
        rig.db,
        rig.clock,
        TEST_SECRET,
        {
          channel: 'sms',
          to: '+59899777777',
          template: 'notice',
          content: { body: 'Aviso de prueba' },
        },
        member.id,
      );
      for (const delay of [0, ...RETRY_DELAYS_MS]) {
        rig.clock.advance(delay);
        assert.equal(await rig.deliver(), 1);
      }
      const [row] = await outboxRows(rig.db, member);
      assert.equal(row?.status, 'abandoned');
      assert.equal(row?.attempts, MAX_ATTEMPTS);
      assert.ok(row?.payload, 'kept, sealed, for `npm run outbox -- retry --abandoned`');
      assert.doesNotMatch(String(row?.payload), /\+59899777777/, 'never in the clear');
      rig.clock.advanceMinutes(24 * 60);
      assert.equal(await rig.deliver(), 0, 'never tried again');
      assert.equal(sms.requests.filter((r) => r.to === '+59899777777').length, MAX_ATTEMPTS);
      assert.ok(
        rig.log.entries.some((e) => e.level === 'error' && e.msg === 'outbox message abandoned'),
        'the abandon is logged as an error',
      );
    } finally {
      sms.recover();
    }
  });

  it('stops retrying a recovery code once the code expired, and never sends it late', async () => {
    const member = await createMember(rig.db, { mobile: '+59899666666' });
    sms.fail(503);
    try {
      await requestPassword(rig, member.document, 'sms');
      // Tries at 0, 0.5, 1.5, 3.5 and 8.5 minutes: the ten-minute code is still valid.
      for (const delay of [0, ...RETRY_DELAYS_MS.slice(0, 4)]) {
        rig.clock.advance(delay);
        assert.equal(await rig.deliver(), 1);
      }
      sms.recover();
      // The next try, at 18.5 minutes, would send a dead code.
      rig.clock.advance(RETRY_DELAYS_MS[4] as number);
      assert.equal(await rig.deliver(), 1);
      const [row] = await outboxRows(rig.db, member);
      assert.equal(row?.status, 'abandoned');
      assert.equal(row?.last_error, 'secret expired before delivery');
      assert.equal(row?.payload, null);
      const posts = sms.requests.filter((r) => r.to === '+59899666666');
      assert.deepEqual(
        posts.map((p) => p.status),
        [503, 503, 503, 503, 503],
        'only the failed tries reached the gateway',
      );
    } finally {
      sms.recover();
    }
  });

  it('never emails a link that a newer request retired before it went out', async () => {
    const member = await createMember(rig.db, { email: 'dos.pedidos@example.org' });
    await requestPassword(rig, member.document, 'email');
    rig.clock.advanceMinutes(1);
    await requestPassword(rig, member.document, 'email');
    await rig.deliver();

    const mails = smtp.to('dos.pedidos@example.org');
    assert.equal(mails.length, 1, 'one email: the newer link');
    const rows = await outboxRows(rig.db, member);
    assert.deepEqual(
      rows.map((r) => [r.status, r.last_error]),
      [
        ['abandoned', 'secret retired before delivery'],
        ['sent', null],
      ],
    );
    const newest = await rig.db
      .selectFrom('one_time_secrets')
      .select('id')
      .where('member_id', '=', member.id)
      .where('used_at', 'is', null)
      .executeTakeFirstOrThrow();
    assert.equal(
      String(rows[1]?.secret_id),
      String(newest.id),
      'the email sent carries the live link',
    );
  });

  it('keeps the message sealed at rest: the raw link token and SMS code appear in no outbox or audit row', async () => {
    const member = await createMember(rig.db);
    // Each message is delivered before the next request: a newer request
    // retires the older link or code, and a retired one is never sent.
    await requestPassword(rig, member.document, 'email');
    const atRest = await tablesAtRest(rig.db);
    const sealed = (await outboxRows(rig.db, member)).map((r) => r.payload as string);
    await rig.deliver();
    rig.clock.advanceMinutes(1);
    await requestPassword(rig, member.document, 'sms');
    atRest.push(...(await tablesAtRest(rig.db)));
    sealed.push(...(await outboxRows(rig.db, member)).flatMap((r) => r.payload ?? []));
    assert.equal(sealed.length, 2);

    await rig.deliver();
    const token = tokenIn(lastMailTo(rig, member));
    const code = codeIn(sms.to(member.mobile as string).at(-1) as { body: string });

    // The sealed payloads do carry them: the scan below looks for something real.
    const opened = sealed.map((p) => openText(TEST_SECRET, OUTBOX_SEAL, p)).join('\n');
    assert.ok(opened.includes(token), 'the sealed email carries the token');
    assert.ok(opened.includes(code), 'the sealed SMS carries the code');
    assert.throws(() =>
      openText('another-secret-another-secret-0123456789', OUTBOX_SEAL, sealed[0] as string),
    );

    const afterDelivery = [
      ...(await tableText(rig.db, 'outbox')),
      ...(await tableText(rig.db, 'audit_events')),
    ];
    for (const row of [...atRest, ...afterDelivery]) {
      assert.ok(!row.includes(token), `the token in: ${row.slice(0, 120)}`);
      assert.ok(!row.includes(code), `the code in: ${row.slice(0, 120)}`);
    }
    const rows = await outboxRows(rig.db, member);
    assert.deepEqual(
      rows.map((r) => [r.status, r.payload]),
      [
        ['sent', null],
        ['sent', null],
      ],
    );
  });

  it('answers the request at once while a running dispatcher is stuck on a silent SMTP server', async () => {
    // A server that accepts connections and never greets.
    const sockets: Socket[] = [];
    let connected: () => void = () => {};
    const dispatcherConnected = new Promise<void>((resolve) => {
      connected = resolve;
    });
    let closing = false;
    const refuse = (socket: Socket) => socket.end('421 closing\r\n');
    const silent = createServer((socket) => {
      if (closing) return refuse(socket);
      sockets.push(socket);
      connected();
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;

    // Its own clock, months before the others: only its own message is due.
    const clock = new FakeClock(new Date('2026-01-05T12:00:00Z'));
    const dispatcher = createDispatcher({
      db: database.db,
      clock,
      smtpUrl: `smtp://127.0.0.1:${port}`,
      smsUrl: sms.url,
    });
    const t = await buildTestApp({ database, clock, courier: dispatcher });
    try {
      dispatcher.start();
      const member = await createMember(t.db, { email: 'silencio@example.org' });
      const started = performance.now();
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/password-requests',
        payload: { document: member.document, channel: 'email' },
      });
      const elapsed = performance.now() - started;
      assert.equal(response.statusCode, 202);
      await dispatcherConnected;
      const [row] = await outboxRows(t.db, member);
      assert.equal(row?.status, 'processing', 'the dispatcher is still waiting for the greeting');
      assert.ok(elapsed < 2000, `answered in ${Math.round(elapsed)} ms`);
    } finally {
      // Ends the wait with a refusal (a dropped connection would be retried by the pool).
      closing = true;
      for (const socket of sockets) refuse(socket);
      await dispatcher.stop();
      await t.close();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

/**
 * A channel that keeps what it delivered. A delivery to a held recipient
 * waits until the test releases it, with success or with an error.
 */
class RecordingChannel implements Channel {
  readonly name = 'recording';
  readonly delivered: OutgoingMessage[] = [];
  readonly #holds = new Map<string, { reached: () => void; outcome: Promise<Error | null> }>();

  /** Holds the next delivery to `to`; `reached` settles when that delivery is under way. */
  hold(to: string): { reached: Promise<void>; release(error?: Error): void } {
    let reached: () => void = () => {};
    let release: (error: Error | null) => void = () => {};
    const reachedPromise = new Promise<void>((resolve) => {
      reached = resolve;
    });
    const outcome = new Promise<Error | null>((resolve) => {
      release = resolve;
    });
    this.#holds.set(to, { reached, outcome });
    return { reached: reachedPromise, release: (error) => release(error ?? null) };
  }

  /** Every delivery fails with `error` until set back to null. */
  failing: Error | null = null;

  async deliver(message: OutgoingMessage): Promise<void> {
    const hold = this.#holds.get(message.to);
    if (hold) {
      this.#holds.delete(message.to);
      hold.reached();
      const error = await hold.outcome;
      if (error) throw error;
    }
    if (this.failing) throw this.failing;
    this.delivered.push(message);
  }

  to(recipient: string): OutgoingMessage[] {
    return this.delivered.filter((m) => m.to === recipient);
  }
}

/** One dispatcher instance on the shared database, with its own channel and log. */
function instance(db: Database, clock: FakeClock) {
  const channel = new RecordingChannel();
  const log = new CapturedLog();
  const dispatcher = new Dispatcher({
    db,
    clock,
    secret: TEST_SECRET,
    channels: { email: channel, sms: channel },
    log,
  });
  return { dispatcher, channel, log };
}

/** An SMS code for the member, as the recovery flow stores it; returns its id. */
async function insertCode(db: Database, clock: FakeClock, member: Member, minutes: number) {
  const now = clock.now();
  const row = await db
    .insertInto('one_time_secrets')
    .values({
      member_id: member.id,
      kind: 'sms_code',
      purpose: 'recovery',
      secret_hash: hashToken(`code-${member.id}-${now.getTime()}`),
      created_at: now,
      expires_at: new Date(now.getTime() + minutes * 60_000),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** Queues an SMS to the member's mobile, carrying the given secret (if any). */
async function queueSms(db: Database, clock: FakeClock, member: Member, secretId?: string) {
  const message: OutgoingMessage = {
    channel: 'sms',
    to: member.mobile as string,
    template: 'sms-code',
    content: { body: 'Su código es 123456' },
  };
  return enqueueMessage(db, clock, TEST_SECRET, message, member.id, secretId ? { secretId } : {});
}

async function outboxRow(db: Database, id: string) {
  return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

describe(`the outbox's claims and the secrets it carries (${databaseLabel})`, () => {
  let database: TestDatabase;
  let clock: FakeClock;

  before(async () => {
    database = await createTestDatabase();
    clock = new FakeClock();
  });
  after(async () => {
    await database.close();
  });

  it('a sender whose lease ran out records nothing over the new claim', async () => {
    const db = database.db;
    const first = instance(db, clock);
    const second = instance(db, clock);
    const member = await createMember(db, { mobile: '+59899100001' });
    const id = await queueSms(db, clock, member);

    // The first instance claims the message and its delivery hangs.
    const held = first.channel.hold('+59899100001');
    const firstRun = first.dispatcher.runOnce();
    try {
      await held.reached;
      assert.equal((await outboxRow(db, id)).attempts, 1);

      // Its lease runs out; the second instance claims the message again and
      // its delivery fails: the row waits for a retry under the second claim.
      clock.advance(LEASE_MS);
      second.channel.failing = new Error('SMS gateway answered 503');
      assert.equal(await second.dispatcher.runOnce(), 1);
      second.channel.failing = null;
      const retrying = await outboxRow(db, id);
      assert.equal(retrying.status, 'queued');
      assert.equal(retrying.attempts, 2);
    } finally {
      // The first delivery ends at last, successfully, far too late.
      held.release();
      await firstRun;
    }

    const after = await outboxRow(db, id);
    assert.equal(after.status, 'queued', "the first sender's late 'sent' was not written");
    assert.equal(after.attempts, 2);
    assert.equal(after.last_error, 'SMS gateway answered 503');
    assert.equal(after.sent_at, null);
    assert.ok(after.payload, 'the payload is kept for the second claim’s retry');
    assert.ok(
      first.log.entries.some((e) => e.msg.startsWith('outbox claim lost')),
      'the first sender says it lost its claim',
    );
    assert.ok(
      !first.log.entries.some((e) => e.msg === 'outbox message delivered'),
      'the first sender does not claim the delivery',
    );

    // The retry of the second claim is the one that records the delivery.
    clock.advance(RETRY_DELAYS_MS[1] as number);
    assert.equal(await second.dispatcher.runOnce(), 1);
    const sent = await outboxRow(db, id);
    assert.equal(sent.status, 'sent');
    assert.equal(sent.attempts, 3);
    assert.equal(second.channel.to('+59899100001').length, 1);
  });

  it("a slow sender's late failure does not put back in the queue a message the new claim sent", async () => {
    const db = database.db;
    const first = instance(db, clock);
    const second = instance(db, clock);
    const member = await createMember(db, { mobile: '+59899100002' });
    const id = await queueSms(db, clock, member);

    const held = first.channel.hold('+59899100002');
    const firstRun = first.dispatcher.runOnce();
    try {
      await held.reached;
      clock.advance(LEASE_MS);
      assert.equal(await second.dispatcher.runOnce(), 1);
      const sent = await outboxRow(db, id);
      assert.equal(sent.status, 'sent');
      assert.equal(sent.attempts, 2);
    } finally {
      held.release(new Error('SMS gateway answered 503'));
      await firstRun;
    }

    const after = await outboxRow(db, id);
    assert.equal(after.status, 'sent', "the first sender's late 'retry' was not written");
    assert.equal(after.attempts, 2);
    assert.equal(after.last_error, null);
    assert.equal(after.payload, null);
    assert.ok(
      first.log.entries.some((e) => e.msg.startsWith('outbox claim lost')),
      'the first sender says it lost its claim',
    );
    assert.ok(
      !first.log.entries.some((e) => e.msg.endsWith('will retry')),
      'the first sender schedules no retry',
    );

    clock.advanceMinutes(24 * 60);
    assert.equal(await first.dispatcher.runOnce(), 0, 'nothing left to send again');
    assert.equal(await second.dispatcher.runOnce(), 0);
    assert.equal(second.channel.to('+59899100002').length, 1);
    assert.equal(first.channel.to('+59899100002').length, 0);
  });

  it('delivers a message whose code is still unused and unexpired', async () => {
    const { dispatcher, channel } = instance(database.db, clock);
    const member = await createMember(database.db, { mobile: '+59899100003' });
    const secretId = await insertCode(database.db, clock, member, 10);
    const id = await queueSms(database.db, clock, member, secretId);
    assert.equal(String((await outboxRow(database.db, id)).secret_id), secretId);

    clock.advanceMinutes(9);
    assert.equal(await dispatcher.runOnce(), 1);
    assert.equal(channel.to('+59899100003').length, 1);
    assert.equal((await outboxRow(database.db, id)).status, 'sent');
  });

  it('a message whose code was retired before delivery is not sent', async () => {
    const { dispatcher, channel, log } = instance(database.db, clock);
    const member = await createMember(database.db, { mobile: '+59899100004' });
    const secretId = await insertCode(database.db, clock, member, 10);
    const id = await queueSms(database.db, clock, member, secretId);

    // The member asked again (or used the code) before the message went out.
    await database.db
      .updateTable('one_time_secrets')
      .set({ used_at: clock.now() })
      .where('id', '=', secretId)
      .execute();

    assert.equal(await dispatcher.runOnce(), 1);
    assert.deepEqual(channel.delivered, [], 'the channel got nothing');
    const row = await outboxRow(database.db, id);
    assert.equal(row.status, 'abandoned');
    assert.equal(row.last_error, 'secret retired before delivery');
    assert.equal(row.payload, null, 'the sealed code is wiped');
    assert.equal(row.sent_at, null);
    assert.ok(
      log.entries.some((e) => e.msg.startsWith('outbox message abandoned')),
      'the abandon is logged',
    );
    clock.advanceMinutes(60);
    assert.equal(await dispatcher.runOnce(), 0, 'never tried again');
  });

  it('a message whose code expired while it waited for a retry is not sent', async () => {
    const { dispatcher, channel } = instance(database.db, clock);
    const member = await createMember(database.db, { mobile: '+59899100005' });
    const secretId = await insertCode(database.db, clock, member, 10);
    const id = await queueSms(database.db, clock, member, secretId);

    // The gateway is down for the first tries.
    channel.failing = new Error('SMS gateway answered 503');
    let waited = 0;
    for (const delay of [0, ...RETRY_DELAYS_MS.slice(0, 4)]) {
      clock.advance(delay);
      waited += delay;
      assert.equal(await dispatcher.runOnce(), 1);
    }
    channel.failing = null;
    assert.equal((await outboxRow(database.db, id)).status, 'queued');
    assert.ok(waited < 10 * 60_000, 'the code was still valid at every failed try');

    // The next try falls after the code's ten minutes.
    clock.advance(RETRY_DELAYS_MS[4] as number);
    assert.ok(waited + (RETRY_DELAYS_MS[4] as number) >= 10 * 60_000, 'the code has expired');
    assert.equal(await dispatcher.runOnce(), 1);
    assert.deepEqual(channel.delivered, [], 'the channel got nothing');
    const row = await outboxRow(database.db, id);
    assert.equal(row.status, 'abandoned');
    assert.equal(row.last_error, 'secret expired before delivery');
    assert.equal(row.payload, null);
  });

  it('a message whose code expired exactly at delivery time is not sent', async () => {
    const { dispatcher, channel } = instance(database.db, clock);
    const member = await createMember(database.db, { mobile: '+59899100006' });
    const secretId = await insertCode(database.db, clock, member, 10);
    const id = await queueSms(database.db, clock, member, secretId);

    clock.advanceMinutes(10);
    assert.equal(await dispatcher.runOnce(), 1);
    assert.deepEqual(channel.delivered, []);
    assert.equal((await outboxRow(database.db, id)).last_error, 'secret expired before delivery');
  });
});
