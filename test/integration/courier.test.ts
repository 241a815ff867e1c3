// The courier under faults, through real parts: an SMTP server that is down
// or refuses, an SMS gateway that answers 503, an app that stops between
// queuing and delivery. Also: what the outbox keeps at rest.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openText } from '../../src/auth/secrets.ts';
import { MAX_ATTEMPTS, RETRY_DELAYS_MS } from '../../src/courier/dispatcher.ts';
import { OUTBOX_SEAL } from '../../src/courier/outbox.ts';
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
import { buildDeliveryRig, createDispatcher, type DeliveryRig } from '../support/delivery.ts';
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

  it(`abandons a message after ${MAX_ATTEMPTS} failed tries and wipes its payload`, async () => {
    const member = await createMember(rig.db, { mobile: '+59899777777' });
    sms.fail(503);
    try {
      await requestPassword(rig, member.document, 'sms');
      for (const delay of [0, ...RETRY_DELAYS_MS]) {
        rig.clock.advance(delay);
        assert.equal(await rig.deliver(), 1);
      }
      const [row] = await outboxRows(rig.db, member);
      assert.equal(row?.status, 'abandoned');
      assert.equal(row?.attempts, MAX_ATTEMPTS);
      assert.equal(row?.payload, null);
      rig.clock.advanceMinutes(24 * 60);
      assert.equal(await rig.deliver(), 0, 'never tried again');
      assert.equal(sms.requests.filter((r) => r.to === '+59899777777').length, MAX_ATTEMPTS);
      assert.ok(
        rig.log.entries.some((e) => e.level === 'error' && e.msg === 'outbox message abandoned'),
      );
    } finally {
      sms.recover();
    }
  });

  it('keeps the message sealed at rest: the raw link token and SMS code appear in no outbox or audit row', async () => {
    const member = await createMember(rig.db);
    await requestPassword(rig, member.document, 'email');
    rig.clock.advanceMinutes(1);
    await requestPassword(rig, member.document, 'sms');
    const atRest = [
      ...(await tableText(rig.db, 'outbox')),
      ...(await tableText(rig.db, 'audit_events')),
      ...(await tableText(rig.db, 'one_time_secrets')),
    ];
    const sealed = (await outboxRows(rig.db, member)).map((r) => r.payload as string);

    await rig.deliver();
    const token = tokenIn(lastMailTo(rig, member));
    const code = codeIn(sms.to(member.mobile as string).at(-1) as { body: string });

    // The sealed payloads do carry them: the scan below looks for something real.
    const opened = sealed.map((p) => openText(TEST_SECRET, OUTBOX_SEAL, p)).join('\n');
    assert.ok(opened.includes(token));
    assert.ok(opened.includes(code));
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
