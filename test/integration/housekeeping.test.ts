import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSession } from '../../src/auth/sessions.ts';
import { runHousekeeping } from '../../src/ops/housekeeping.ts';
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
    await runHousekeeping(t.db, t.clock);
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
});
