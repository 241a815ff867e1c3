// Operators look at the outbox and send abandoned messages again
// (npm run outbox): counts by status and channel, abandoned messages with
// their recipients masked and never their content; a retry queues them
// again for the real dispatcher, except those whose link or code died.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { storeSecret } from '../../src/auth/one-time-secrets.ts';
import { hashToken } from '../../src/auth/secrets.ts';
import {
  describeOutbox,
  enqueueMessage,
  maskRecipient,
  retryAbandonedMessages,
} from '../../src/courier/outbox.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { Database, Member } from '../../src/db/schema.ts';
import {
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  TEST_SECRET,
  usingPostgres,
} from '../helper.ts';
import { runCli } from '../support/cli.ts';
import {
  buildDeliveryRig,
  CapturedLog,
  createDispatcher,
  type DeliveryRig,
} from '../support/delivery.ts';
import { requestPassword, setPassword, tokenIn } from '../support/recovery.ts';
import { SmsGatewayStub } from '../support/sms-gateway.ts';
import { SmtpStub } from '../support/smtp.ts';

/** The newest outbox row of a member. */
async function lastMessageOf(db: Database, member: Pick<Member, 'id'>) {
  return db
    .selectFrom('outbox')
    .selectAll()
    .where('member_id', '=', member.id)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
}

async function messageById(db: Database, id: string) {
  return db.selectFrom('outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/**
 * Marks a queued message abandoned after failed tries with its sealed
 * content still there: what a retry needs to send it again. (The dispatcher
 * of today wipes the content of every message it abandons; those are
 * skipped, see "skips a message whose content is gone".)
 */
async function abandonKeepingContent(
  db: Database,
  id: string,
  lastError = 'SMTP refused the recipient (550)',
  attempts = 7,
): Promise<void> {
  const result = await db
    .updateTable('outbox')
    .set({ status: 'abandoned', attempts, last_error: lastError, locked_until: null })
    .where('id', '=', id)
    .where('payload', 'is not', null)
    .executeTakeFirst();
  assert.equal(Number(result.numUpdatedRows), 1, 'a queued message with its content');
}

/** A notice that carries no link or code, queued for a member. */
function queueNotice(rig: DeliveryRig, member: Member, channel: 'email' | 'sms' = 'sms') {
  return enqueueMessage(
    rig.db,
    rig.clock,
    TEST_SECRET,
    channel === 'sms'
      ? { channel, to: member.mobile as string, template: 'notice', content: { body: 'Aviso' } }
      : {
          channel,
          to: member.email as string,
          template: 'notice',
          content: { subject: 'Aviso', text: 'Aviso', html: '<p>Aviso</p>' },
        },
    member.id,
  );
}

describe(`the outbox as an operator sees it (${databaseLabel})`, () => {
  let smtp: SmtpStub;
  let sms: SmsGatewayStub;
  let shared: DeliveryRig;
  before(async () => {
    smtp = await SmtpStub.start();
    sms = await SmsGatewayStub.start();
    shared = await buildDeliveryRig({ smtp, sms });
  });
  after(async () => {
    await shared.close();
    await smtp.stop();
    await sms.close();
  });

  /**
   * The delivery rig with an empty outbox and audit trail, so counts start
   * at zero (each test uses addresses of its own at the SMTP and SMS stubs).
   */
  async function withRig(work: (rig: DeliveryRig) => Promise<void>): Promise<void> {
    await shared.db.deleteFrom('outbox').execute();
    await shared.db.deleteFrom('audit_events').execute();
    try {
      await work(shared);
    } finally {
      smtp.refuseWith = null;
      sms.recover();
    }
  }

  it('counts messages by status and channel, and finds the oldest one not delivered', async () => {
    await withRig(async (rig) => {
      const delivered = await createMember(rig.db, { email: 'entregado@example.org' });
      await requestPassword(rig, delivered.document, 'email');
      assert.equal(await rig.deliver(), 1);

      const waiting = await createMember(rig.db, { mobile: '+59899100200' });
      sms.fail(503, Number.POSITIVE_INFINITY);
      await requestPassword(rig, waiting.document, 'sms');
      assert.equal(await rig.deliver(), 1);
      const waitingRow = await lastMessageOf(rig.db, waiting);

      const refused = await createMember(rig.db, { email: 'rechazado@example.org' });
      smtp.refuseWith = 550;
      await requestPassword(rig, refused.document, 'email');
      assert.equal(await rig.deliver(), 1);
      smtp.refuseWith = null;
      const refusedRow = await lastMessageOf(rig.db, refused);
      assert.equal(refusedRow.status, 'abandoned');

      rig.clock.advance(20_000);
      const report = await describeOutbox(rig.db, rig.clock, { limit: 50 });
      assert.deepEqual(report.counts, {
        queued: { email: 0, sms: 1 },
        processing: { email: 0, sms: 0 },
        sent: { email: 1, sms: 0 },
        abandoned: { email: 1, sms: 0 },
      });
      assert.equal(report.waitingForRetry, 1);
      assert.equal(report.leaseRunOut, 0);
      assert.deepEqual(report.oldestUndelivered, {
        id: String(waitingRow.id),
        channel: 'sms',
        createdAt: waitingRow.created_at,
        ageSeconds: 20,
      });
      assert.deepEqual(report.abandoned, [
        {
          id: String(refusedRow.id),
          channel: 'email',
          template: 'password-request',
          recipient: 'r***@example.org',
          attempts: 1,
          errorClass: 'smtp 550',
          createdAt: refusedRow.created_at,
          lastTryAt: refusedRow.next_attempt_at,
          // Whether it can go again follows from what the dispatcher kept.
          retry: refusedRow.payload === null ? 'content-wiped' : 'retriable',
        },
      ]);
      assert.deepEqual((await describeOutbox(rig.db, rig.clock, { limit: 0 })).abandoned, []);
    });
  });

  it('masks recipients as the member home does: first letter and domain, last three digits', () => {
    assert.equal(maskRecipient('email', 'juana.perez@dominio.com'), 'j***@dominio.com');
    assert.equal(maskRecipient('sms', '+59899123456'), '09*****456');
    assert.equal(maskRecipient('sms', '+5491155550000'), '*****000');
  });

  it('queues an abandoned message again; the dispatcher delivers it once, and its link works', async () => {
    await withRig(async (rig) => {
      const member = await createMember(rig.db, { email: 'reintento@example.org' });
      await requestPassword(rig, member.document, 'email');
      const row = await lastMessageOf(rig.db, member);
      await abandonKeepingContent(rig.db, String(row.id));
      rig.clock.advanceMinutes(5);

      const result = await retryAbandonedMessages(rig.db, rig.clock, { all: true });
      assert.deepEqual(result, {
        requeued: 1,
        skipped: { 'secret-expired': 0, 'secret-used': 0, 'content-wiped': 0 },
        notAbandoned: [],
      });
      const queued = await messageById(rig.db, String(row.id));
      assert.equal(queued.status, 'queued');
      assert.equal(queued.attempts, 0, 'a full set of tries again');
      assert.equal(queued.last_error, null);
      assert.equal(queued.next_attempt_at.getTime(), rig.clock.now().getTime(), 'due now');

      assert.equal(await rig.deliver(), 1);
      assert.equal(await rig.deliver(), 0);
      const mails = smtp.to('reintento@example.org');
      assert.equal(mails.length, 1, 'delivered exactly once');
      const sent = await messageById(rig.db, String(row.id));
      assert.equal(sent.status, 'sent');
      assert.equal(sent.payload, null);
      const [mail] = mails;
      assert.ok(mail);
      const answer = await setPassword(rig, tokenIn(mail), 'otra2027');
      assert.equal(answer.statusCode, 200, answer.body);

      const audit = await rig.db
        .selectFrom('audit_events')
        .select(['type', 'outcome', 'actor_kind', 'actor_id', 'detail'])
        .where('type', '=', 'staff_action')
        .execute();
      assert.deepEqual(audit, [
        {
          type: 'staff_action',
          outcome: 'ok',
          actor_kind: 'system',
          actor_id: 'cli:outbox',
          detail: {
            action: 'outbox_retry',
            scope: 'all',
            requeued: 1,
            skipped_secret_expired: 0,
            skipped_secret_used: 0,
            skipped_content_wiped: 0,
          },
        },
      ]);
    });
  });

  it('never sends again a link that expired or was replaced, and forgets its content', async () => {
    await withRig(async (rig) => {
      const expired = await createMember(rig.db, { email: 'vencido@example.org' });
      await requestPassword(rig, expired.document, 'email');
      const expiredRow = await lastMessageOf(rig.db, expired);
      await abandonKeepingContent(rig.db, String(expiredRow.id));
      rig.clock.advanceMinutes(31);

      const replaced = await createMember(rig.db, { email: 'reemplazado@example.org' });
      await requestPassword(rig, replaced.document, 'email');
      const replacedRow = await lastMessageOf(rig.db, replaced);
      await abandonKeepingContent(rig.db, String(replacedRow.id));
      // A newer request retires the older link; its own message is sent.
      rig.clock.advanceMinutes(1);
      await requestPassword(rig, replaced.document, 'email');

      const notified = await createMember(rig.db, { mobile: '+59899300400' });
      const notice = await queueNotice(rig, notified);
      await abandonKeepingContent(rig.db, notice, 'SMS gateway answered 503');

      const before = await describeOutbox(rig.db, rig.clock, { limit: 10 });
      assert.deepEqual(
        before.abandoned.map((m) => [m.id, m.retry]),
        [
          [notice, 'retriable'],
          [String(replacedRow.id), 'secret-used'],
          [String(expiredRow.id), 'secret-expired'],
        ],
      );

      const result = await retryAbandonedMessages(rig.db, rig.clock, { all: true });
      assert.deepEqual(result, {
        requeued: 1,
        skipped: { 'secret-expired': 1, 'secret-used': 1, 'content-wiped': 0 },
        notAbandoned: [],
      });
      for (const id of [expiredRow.id, replacedRow.id]) {
        const row = await messageById(rig.db, String(id));
        assert.equal(row.status, 'abandoned');
        assert.equal(row.payload, null, 'content that can never go out is not kept');
      }

      assert.equal(await rig.deliver(), 2, 'the notice and the newer link');
      assert.equal(smtp.to('vencido@example.org').length, 0, 'the expired link is never sent');
      assert.equal(smtp.to('reemplazado@example.org').length, 1, 'only the newer link');
      assert.equal(sms.to('+59899300400').length, 1);
      const newest = await lastMessageOf(rig.db, replaced);
      assert.notEqual(String(newest.id), String(replacedRow.id));
      assert.equal(newest.status, 'sent');
    });
  });

  it('skips a message whose content is gone (the dispatcher wipes it when it abandons)', async () => {
    await withRig(async (rig) => {
      const member = await createMember(rig.db, { mobile: '+59899500600' });
      // Sealed under another APP_SECRET: the dispatcher cannot open it and abandons it.
      await enqueueMessage(
        rig.db,
        rig.clock,
        'another-secret-another-secret-another-secret-00',
        { channel: 'sms', to: '+59899500600', template: 'notice', content: { body: 'Aviso' } },
        member.id,
      );
      assert.equal(await rig.deliver(), 1);
      const row = await lastMessageOf(rig.db, member);
      assert.equal(row.status, 'abandoned');
      assert.equal(row.payload, null);

      const report = await describeOutbox(rig.db, rig.clock, { limit: 10 });
      assert.deepEqual(
        report.abandoned.map((m) => [m.errorClass, m.retry]),
        [['unreadable', 'content-wiped']],
      );
      const result = await retryAbandonedMessages(rig.db, rig.clock, { all: true });
      assert.equal(result.requeued, 0);
      assert.equal(result.skipped['content-wiped'], 1);
      assert.equal((await messageById(rig.db, String(row.id))).status, 'abandoned');
      assert.equal(await rig.deliver(), 0);
      assert.equal(sms.requests.filter((r) => r.to === '+59899500600').length, 0);
    });
  });

  it("names the dispatcher's own reasons: a link that a newer request retired before it went out", async () => {
    await withRig(async (rig) => {
      const member = await createMember(rig.db, { email: 'dos.veces@example.org' });
      await requestPassword(rig, member.document, 'email');
      const older = await lastMessageOf(rig.db, member);
      rig.clock.advanceMinutes(1);
      await requestPassword(rig, member.document, 'email');
      assert.equal(await rig.deliver(), 2);
      assert.equal((await messageById(rig.db, String(older.id))).status, 'abandoned');

      const report = await describeOutbox(rig.db, rig.clock, { limit: 10 });
      assert.deepEqual(
        report.abandoned.map((m) => [m.id, m.errorClass, m.retry]),
        [[String(older.id), 'secret retired', 'secret-used']],
      );
      const result = await retryAbandonedMessages(rig.db, rig.clock, { all: true });
      assert.equal(result.requeued, 0);
      assert.equal(result.skipped['secret-used'], 1);
      assert.equal(smtp.to('dos.veces@example.org').length, 1, 'only the newer link, ever');
    });
  });

  it('retries only the messages named, says which ids are not abandoned, and gives each its full set of tries', async () => {
    await withRig(async (rig) => {
      const member = await createMember(rig.db, { mobile: '+59899700800' });
      const first = await queueNotice(rig, member);
      const second = await queueNotice(rig, member);
      await abandonKeepingContent(rig.db, first, 'SMS gateway answered 503');
      await abandonKeepingContent(rig.db, second, 'SMS gateway answered 503');
      const sent = await queueNotice(rig, member, 'email');
      // The two abandoned messages are not due: only the email goes.
      assert.equal(await rig.deliver(), 1);

      const result = await retryAbandonedMessages(rig.db, rig.clock, {
        ids: [first, '987654321', sent],
      });
      assert.deepEqual(result, {
        requeued: 1,
        skipped: { 'secret-expired': 0, 'secret-used': 0, 'content-wiped': 0 },
        notAbandoned: ['987654321', sent],
      });
      assert.equal((await messageById(rig.db, second)).status, 'abandoned');

      // The gateway still fails: the retried message waits for its next try
      // instead of being abandoned at once (its tries were reset).
      sms.fail(503, 1);
      assert.equal(await rig.deliver(), 1);
      const retried = await messageById(rig.db, first);
      assert.equal(retried.status, 'queued');
      assert.equal(retried.attempts, 1);
      rig.clock.advanceMinutes(1);
      assert.equal(await rig.deliver(), 1);
      assert.equal((await messageById(rig.db, first)).status, 'sent');
      assert.equal(sms.to('+59899700800').length, 1, 'delivered once');
    });
  });
});

/**
 * A database the commands (child processes) open: on PostgreSQL a database
 * of its own, on PGlite a data folder the test opens only while no command
 * holds it.
 */
interface CommandDatabase {
  env: Record<string, string>;
  use<T>(work: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

async function commandDatabase(): Promise<CommandDatabase> {
  const folder = await mkdtemp(join(tmpdir(), 'autogestion-outbox-'));
  if (usingPostgres) {
    const database = await createTestDatabase();
    return {
      env: { DATABASE_URL: database.url as string, DATA_DIR: folder },
      use: (work) => work(database.db),
      close: async () => {
        await database.close();
        await rm(folder, { recursive: true, force: true });
      },
    };
  }
  return {
    env: { DATABASE_URL: '', DATA_DIR: folder },
    use: async (work) => {
      const db = await connectDatabase({ kind: 'pglite', dir: folder });
      try {
        await migrateToLatest(db);
        return await work(db);
      } finally {
        await db.destroy();
      }
    },
    close: () => rm(folder, { recursive: true, force: true }),
  };
}

describe(`npm run outbox on ${databaseLabel}`, () => {
  let target: CommandDatabase;
  let seeded: Awaited<ReturnType<typeof seed>>;
  before(async () => {
    target = await commandDatabase();
    seeded = await target.use((db) => seed(db));
  });
  after(() => target.close());

  const EMAIL = 'juana.perez@dominio.com';
  const MOBILE = '+59899123456';
  const TOKEN = 'tok3nQueNuncaDebeVerse-0123456789abcdefABCDEF';
  const CODE = '482913';

  /**
   * Queues, on the real clock (the commands use it), an email with a link
   * and an SMS with a code, abandoned with their content, and one message
   * still waiting.
   */
  async function seed(db: Database) {
    const clock = new FakeClock(new Date());
    const member = await createMember(db, { email: EMAIL, mobile: MOBILE });
    const link = await storeSecret(db, {
      memberId: member.id,
      kind: 'email_link',
      purpose: 'recovery',
      secretHash: hashToken(TOKEN),
      now: clock.now(),
      minutes: 30,
    });
    const email = await enqueueMessage(
      db,
      clock,
      TEST_SECRET,
      {
        channel: 'email',
        to: EMAIL,
        template: 'password-request',
        content: {
          subject: 'Restablecer contraseña',
          text: `Abra https://portal.example.org/restablecer?token=${TOKEN}`,
          html: `<a href="https://portal.example.org/restablecer?token=${TOKEN}">Restablecer</a>`,
        },
      },
      member.id,
      { secretId: link },
    );
    const text = await enqueueMessage(
      db,
      clock,
      TEST_SECRET,
      { channel: 'sms', to: MOBILE, template: 'sms-code', content: { body: `Codigo ${CODE}` } },
      member.id,
    );
    await abandonKeepingContent(db, email, `Message failed: 550 5.1.1 <${EMAIL}> unknown user`);
    await abandonKeepingContent(db, text, 'SMS gateway answered 503');
    const notice = await enqueueMessage(
      db,
      clock,
      TEST_SECRET,
      { channel: 'sms', to: MOBILE, template: 'notice', content: { body: 'Aviso' } },
      member.id,
    );
    return { member, email, text, notice };
  }

  const leaks = (output: string) =>
    [EMAIL, 'juana', MOBILE, '99123456', TOKEN, CODE, 'restablecer', 'Codigo'].filter((secret) =>
      output.includes(secret),
    );

  it('prints counts and the abandoned messages with recipients masked, never an address, number, link or code', async () => {
    const { email, text } = seeded;

    const result = await runCli('outbox.ts', ['status'], target.env);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(leaks(result.stdout), []);
    assert.match(result.stdout, /^queued\s+0\s+1\s*$/m);
    assert.match(result.stdout, /^sent\s+0\s+0\s*$/m);
    assert.match(result.stdout, /^abandoned\s+1\s+1\s*$/m);
    assert.match(result.stdout, /Oldest not yet delivered: message \d+ \(sms\)/);
    assert.match(
      result.stdout,
      new RegExp(
        `^\\s*${text}\\s+sms\\s+sms-code\\s+09\\*\\*\\*\\*\\*456\\s+7\\s+gateway 503 .* yes$`,
        'm',
      ),
    );
    assert.match(
      result.stdout,
      new RegExp(
        `^\\s*${email}\\s+email\\s+password-request\\s+j\\*\\*\\*@dominio\\.com\\s+7\\s+smtp 550 .* yes$`,
        'm',
      ),
    );
    assert.match(result.stdout, /npm run outbox -- retry --abandoned/);

    const json = await runCli('outbox.ts', ['status', '--json'], target.env);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(leaks(json.stdout), []);
    const report = JSON.parse(json.stdout) as {
      counts: Record<string, Record<string, number>>;
      abandoned: { id: string; recipient: string; retry: string }[];
    };
    assert.deepEqual(report.counts.abandoned, { email: 1, sms: 1 });
    assert.deepEqual(
      report.abandoned.map((m) => [m.id, m.recipient, m.retry]),
      [
        [text, '09*****456', 'retriable'],
        [email, 'j***@dominio.com', 'retriable'],
      ],
    );
  });

  it('retry --abandoned queues them again and the dispatcher delivers over SMTP; an expired link is not sent', async () => {
    const smtp = await SmtpStub.start();
    const sms = await SmsGatewayStub.start();
    try {
      const fresh = seeded;
      const stale = await target.use(async (db) => {
        const other = await createMember(db, { email: 'vencida@example.org' });
        const clock = new FakeClock(new Date(Date.now() - 60 * 60_000));
        const link = await storeSecret(db, {
          memberId: other.id,
          kind: 'email_link',
          purpose: 'recovery',
          secretHash: hashToken('otro-token-vencido'),
          now: clock.now(),
          minutes: 30,
        });
        const id = await enqueueMessage(
          db,
          clock,
          TEST_SECRET,
          {
            channel: 'email',
            to: 'vencida@example.org',
            template: 'password-request',
            content: { subject: 'x', text: 'x', html: 'x' },
          },
          other.id,
          { secretId: link },
        );
        await abandonKeepingContent(db, id);
        return id;
      });

      const result = await runCli('outbox.ts', ['retry', '--abandoned'], target.env);
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(leaks(result.stdout), []);
      assert.match(result.stdout, /^Queued 2 messages again, due now/m);
      assert.match(
        result.stdout,
        /^Not sent again: 1 message, because its link or code expired, so it would not work\.$/m,
      );

      const unknown = await runCli(
        'outbox.ts',
        ['retry', '--id', stale, '--id', '99999999'],
        target.env,
      );
      assert.equal(unknown.code, 1, 'an id that names no abandoned message fails');
      assert.match(unknown.stdout, /Not abandoned messages .*: 99999999\./);
      assert.match(unknown.stdout, /Not sent again: 1 message, because its link or code expired/);

      await target.use(async (db) => {
        const dispatcher = createDispatcher({
          db,
          clock: new FakeClock(new Date()),
          smtpUrl: smtp.url,
          smsUrl: sms.url,
          log: new CapturedLog(),
        });
        try {
          // The two retried and the notice that was waiting.
          assert.equal(await dispatcher.runOnce(), 3);
        } finally {
          await dispatcher.stop();
        }
        const rows = await db.selectFrom('outbox').select(['id', 'status']).orderBy('id').execute();
        assert.deepEqual(
          rows.map((r) => [String(r.id), r.status]),
          [
            [fresh.email, 'sent'],
            [fresh.text, 'sent'],
            [fresh.notice, 'sent'],
            [stale, 'abandoned'],
          ],
        );
        const audit = await db
          .selectFrom('audit_events')
          .select(['actor_kind', 'actor_id'])
          .where('type', '=', 'staff_action')
          .execute();
        assert.deepEqual(
          audit.map((a) => `${a.actor_kind} ${a.actor_id}`),
          ['system cli:outbox', 'system cli:outbox'],
        );
      });
      assert.equal(smtp.to(EMAIL).length, 1, 'the live link, once');
      assert.match(smtp.to(EMAIL)[0]?.parsed.text ?? '', new RegExp(TOKEN));
      assert.equal(smtp.to('vencida@example.org').length, 0, 'never the expired one');
      assert.deepEqual(
        sms
          .to(MOBILE)
          .map((m) => m.body)
          .sort(),
        ['Aviso', `Codigo ${CODE}`],
      );
    } finally {
      await smtp.stop();
      await sms.close();
    }
  });

  it('refuses bad arguments with exit status 2 and the usage, before touching any database', async () => {
    for (const args of [
      [],
      ['purge'],
      ['status', '--limit', 'x'],
      ['retry'],
      ['retry', '--abandoned', '--id', '1'],
      ['retry', '--id', 'abc'],
    ]) {
      const result = await runCli('outbox.ts', args, {
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      });
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /^outbox cannot run: /);
      assert.match(result.stderr, /usage: npm run outbox -- status/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(result.stdout, '');
    }
    const help = await runCli('outbox.ts', ['--help'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: npm run outbox -- status/);
  });

  it('says plainly that the database cannot be reached, with exit status 1', async () => {
    const result = await runCli('outbox.ts', ['status'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^outbox cannot run: the database cannot be reached/);
  });
});
