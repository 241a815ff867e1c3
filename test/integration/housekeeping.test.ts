import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { storeSecret } from '../../src/auth/one-time-secrets.ts';
import { createSession } from '../../src/auth/sessions.ts';
import { runHousekeeping } from '../../src/ops/housekeeping.ts';
import { createStaff } from '../../src/staff/accounts.ts';
import { buildTestApp, createMember, databaseLabel, type TestApp } from '../helper.ts';

describe(`housekeeping (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(() => t.close());

  it('forgets ended sessions and week-old records, and keeps what rules still need', async () => {
    const member = await createMember(t.db);
    const now = t.clock.now();
    await createSession(t.db, t.clock, { idleMinutes: 30, maxHours: 12 }, member.id, {
      kind: 'api',
      ip: null,
      userAgent: null,
    });
    const old = new Date(now.getTime() - 8 * 24 * 60 * 60_000);
    const recent = new Date(now.getTime() - 60 * 60_000);
    for (const created of [old, recent]) {
      await t.db
        .insertInto('outbox')
        .values({
          channel: 'sms',
          template: 'sms-code',
          member_id: member.id,
          recipient: '+59899000000',
          payload: null,
          status: 'sent',
          next_attempt_at: created,
          created_at: created,
        })
        .execute();
      await t.db
        .insertInto('dev_mailbox')
        .values({
          channel: 'sms',
          recipient: 'x',
          subject: null,
          text_body: 'x',
          html_body: null,
          created_at: created,
        })
        .execute();
    }
    t.clock.advanceMinutes(31);
    const counts = await runHousekeeping(t.db, t.clock);
    assert.deepEqual(counts, {
      sessions: 1,
      staffSessions: 0,
      staffEnrolments: 0,
      captchaSolutions: 0,
      passkeyChallenges: 0,
      oneTimeSecrets: 0,
      outboxMessages: 1,
      devMailbox: 1,
      auditEvents: 0,
      staffVisits: 0,
      requestIntake: 0,
    });
    const sessions = await t.db.selectFrom('sessions').selectAll().execute();
    const outbox = await t.db.selectFrom('outbox').select('created_at').execute();
    const mailbox = await t.db.selectFrom('dev_mailbox').select('created_at').execute();
    assert.equal(sessions.length, 0, 'the idle session is gone');
    assert.deepEqual(
      outbox.map((r) => r.created_at.getTime()),
      [recent.getTime()],
    );
    assert.deepEqual(
      mailbox.map((r) => r.created_at.getTime()),
      [recent.getTime()],
    );
  });

  it("keeps the desk's identity checks as long as the audit that names them", async () => {
    const member = await createMember(t.db);
    const { staff } = await createStaff(t.db, t.clock, {
      email: 'limpieza@example.org',
      name: 'Mesa',
      role: 'desk',
      createdBy: 'test',
    });
    const day = 24 * 60 * 60_000;
    const now = t.clock.now();
    for (const ago of [11, 9])
      await t.db
        .insertInto('staff_visits')
        .values({
          staff_id: staff.id,
          member_id: member.id,
          document_kind: 'cedula',
          note: `hace ${ago} días`,
          created_at: new Date(now.getTime() - ago * day),
        })
        .execute();
    const counts = await runHousekeeping(t.db, t.clock, { auditRetentionDays: 10 });
    assert.equal(counts.staffVisits, 1);
    const left = await t.db.selectFrom('staff_visits').select('note').execute();
    assert.deepEqual(
      left.map((r) => r.note),
      ['hace 9 días'],
    );
  });

  it('counts the messages that go with the week-old secrets they carry, and keeps the others', async () => {
    const member = await createMember(t.db);
    const day = 24 * 60 * 60_000;
    const now = t.clock.now();
    const message = async (status: 'sent' | 'queued', created: Date, secretId: string) =>
      t.db
        .insertInto('outbox')
        .values({
          channel: 'email',
          template: 'password-request',
          member_id: member.id,
          recipient: 'semana@example.org',
          payload: null,
          status,
          next_attempt_at: created,
          created_at: created,
          secret_id: secretId,
        })
        .execute();
    // A link that expired eight days ago, sent then; a message of it that
    // still waits (it can never go out: the dispatcher refuses a dead link).
    const eightDaysAgo = new Date(now.getTime() - 8 * day);
    const old = await storeSecret(t.db, {
      memberId: member.id,
      kind: 'email_link',
      purpose: 'recovery',
      secretHash: 'old-link',
      now: eightDaysAgo,
      minutes: 30,
    });
    await message('sent', eightDaysAgo, old);
    await message('queued', eightDaysAgo, old);
    // A link of an hour ago: kept, with its message.
    const hourAgo = new Date(now.getTime() - 60 * 60_000);
    const recent = await storeSecret(t.db, {
      memberId: member.id,
      kind: 'email_link',
      purpose: 'recovery',
      secretHash: 'recent-link',
      now: hourAgo,
      minutes: 30,
    });
    await message('sent', hourAgo, recent);

    const counts = await runHousekeeping(t.db, t.clock);
    assert.equal(counts.oneTimeSecrets, 1);
    assert.equal(counts.outboxMessages, 2, 'the sent message and the one still waiting');
    const secrets = await t.db
      .selectFrom('one_time_secrets')
      .select('secret_hash')
      .where('member_id', '=', member.id)
      .execute();
    assert.deepEqual(
      secrets.map((r) => r.secret_hash),
      ['recent-link'],
    );
    const messages = await t.db
      .selectFrom('outbox')
      .select('secret_id')
      .where('member_id', '=', member.id)
      .execute();
    assert.deepEqual(
      messages.map((r) => String(r.secret_id)),
      [recent],
    );
    assert.equal(
      (await runHousekeeping(t.db, t.clock)).outboxMessages,
      0,
      'a second run finds nothing',
    );
  });

  it('forgets password requests left in the intake for a day (they could not be opened), not younger ones', async () => {
    const now = t.clock.now();
    const row = (hoursAgo: number) => {
      const created = new Date(now.getTime() - hoursAgo * 60 * 60_000);
      return {
        flow: 'recovery' as const,
        channel: 'email' as const,
        // Sealed under a key this server does not have: its sweeper can never open it.
        identifier: 'sealed.under.another-secret',
        context: 'sealed.under.another-secret',
        created_at: created,
        retry_after: new Date(created.getTime() + 60_000),
      };
    };
    const ids = await t.db
      .insertInto('request_intake')
      .values([row(25), row(23)])
      .returning('id')
      .execute();
    const counts = await runHousekeeping(t.db, t.clock);
    assert.equal(counts.requestIntake, 1);
    const left = await t.db.selectFrom('request_intake').select('id').execute();
    assert.deepEqual(
      left.map((r) => String(r.id)),
      [String(ids[1]?.id)],
    );
    await t.db.deleteFrom('request_intake').execute();
  });
});
