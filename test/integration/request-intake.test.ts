// A password request answered 202 is written down before its work is handed
// off after the answer (ADR 011, src/flows/recovery/intake.ts): the work
// deletes that row in its own transaction; a row left behind, as a kill -9
// between the answer and the work leaves it, is taken over by a sweeper
// once its lease is over, and the message goes out once, even when the
// original work turns out to be alive after all.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Background } from '../../src/flows/background.ts';
import type { FlowDeps, RequestContext } from '../../src/flows/context.ts';
import { INTAKE_LEASE_MS, RequestIntake, recordIntake } from '../../src/flows/recovery/intake.ts';
import { requestPasswordChange, resumePasswordRequest } from '../../src/flows/recovery/service.ts';
import type { DeliveryChannel } from '../../src/flows/recovery/state.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';

/**
 * A background that holds what it is handed until the test lets it run, or
 * forever: the process that answered and died before doing the work.
 */
function heldBackground() {
  const held: (() => Promise<void>)[] = [];
  const failures: unknown[] = [];
  const background: Background = {
    limit: 1000,
    run: (_name, task) => {
      held.push(task);
    },
    hasRoom: () => true,
    depth: () => held.length,
    idle: async () => {},
    isDraining: () => false,
  };
  return {
    background,
    failures,
    /** Runs what was held, as the original process would have. */
    release: async () => {
      const tasks = held.splice(0);
      await Promise.all(tasks.map((task) => task().catch((error) => failures.push(error))));
    },
  };
}

describe(`the durable intake of password requests (${databaseLabel})`, () => {
  let database: TestDatabase;
  let t: TestApp;
  let sweeper: RequestIntake;
  const problems: string[] = [];

  before(async () => {
    database = await createTestDatabase();
    const log = {
      warn: (_obj: object, msg: string) => void problems.push(`warn: ${msg}`),
      error: (obj: object, msg: string) =>
        void problems.push(`error: ${msg} ${String((obj as { err?: unknown }).err)}`),
    };
    t = await buildTestApp({ database, log });
    sweeper = new RequestIntake(t.deps.flow, resumePasswordRequest);
  });
  after(async () => {
    await sweeper.stop();
    await t.close();
    await database.close();
  });
  beforeEach(() => {
    problems.length = 0;
  });

  const context: RequestContext = {
    channel: 'api',
    ip: '198.51.100.77',
    userAgent: 'intake-test',
    deviceToken: 'a-device-token-is-a-credential',
  };

  /** The app's flow parts with a background that holds the work (the dying process). */
  function dyingProcess() {
    const held = heldBackground();
    const deps: FlowDeps = { ...t.deps.flow, background: held.background };
    return { deps, ...held };
  }

  const ask = (deps: FlowDeps, document: string, channel: DeliveryChannel) =>
    requestPasswordChange(
      deps,
      { document, channel, captcha: undefined, flow: 'recovery' },
      context,
    );

  const intakeRows = () => t.db.selectFrom('request_intake').selectAll().execute();
  const messagesTo = (recipient: string) =>
    t.db
      .selectFrom('outbox')
      .select(['template', 'status'])
      .where('recipient', '=', recipient)
      .execute();
  const auditOf = (memberId: number) =>
    t.db
      .selectFrom('audit_events')
      .select(['type', 'outcome'])
      .where('member_id', '=', memberId)
      .where('type', 'in', ['link_sent', 'code_sent'])
      .execute();

  it('keeps a request written down until its work is done, then forgets it', async () => {
    const member = await createMember(t.db);
    const dying = dyingProcess();
    await ask(dying.deps, member.document, 'email');
    assert.equal((await intakeRows()).length, 1, 'written down before the work');
    assert.equal((await messagesTo(member.email as string)).length, 0);

    await dying.release();
    assert.deepEqual(dying.failures, []);
    assert.deepEqual(await intakeRows(), [], 'gone with the work');
    assert.deepEqual(await messagesTo(member.email as string), [
      { template: 'password-request', status: 'queued' },
    ]);
  });

  it('leaves no row once a request through the API is answered and done', async () => {
    const member = await createMember(t.db);
    for (const channel of ['email', 'sms'] as const) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/password-requests',
        payload: { document: member.document, channel },
      });
      assert.equal(response.statusCode, 202, response.body);
    }
    await t.deps.background.idle();
    assert.deepEqual(await intakeRows(), []);
    assert.equal((await messagesTo(member.email as string)).length, 1);
    assert.equal((await messagesTo(member.mobile as string)).length, 1);
    assert.deepEqual(problems, []);
  });

  it('seals who asked: no document, member number, address or device token in clear', async () => {
    const member = await createMember(t.db);
    const dying = dyingProcess();
    await ask(dying.deps, member.member_number, 'sms');
    const rows = await intakeRows();
    assert.equal(rows.length, 1);
    const dump = JSON.stringify(rows);
    for (const clear of [
      member.document,
      member.member_number,
      context.ip as string,
      context.userAgent as string,
      context.deviceToken as string,
    ])
      assert.ok(!dump.includes(clear), `${clear} in clear in ${dump}`);
    assert.equal(rows[0]?.flow, 'recovery');
    assert.equal(rows[0]?.channel, 'sms');
    await dying.release();
    assert.deepEqual(await intakeRows(), []);
  });

  for (const channel of ['email', 'sms'] as const) {
    it(`takes over ${channel === 'email' ? 'an email' : 'an SMS'} request whose process died, once its lease is over, and queues its message once`, async () => {
      const member = await createMember(t.db);
      const recipient = (channel === 'email' ? member.email : member.mobile) as string;
      // Answered, then the process died: its work is never released.
      await ask(dyingProcess().deps, member.document, channel);

      t.clock.advance(INTAKE_LEASE_MS - 1000);
      assert.equal(await sweeper.sweep(), 0, 'not while the lease lasts');
      t.clock.advance(2000);
      assert.equal(await sweeper.sweep(), 1);
      await t.deps.background.idle();
      assert.equal(await sweeper.sweep(), 0, 'taken once');

      assert.deepEqual(await intakeRows(), []);
      assert.deepEqual(await messagesTo(recipient), [
        { template: channel === 'email' ? 'password-request' : 'sms-code', status: 'queued' },
      ]);
      assert.deepEqual(await auditOf(member.id), [
        { type: channel === 'email' ? 'link_sent' : 'code_sent', outcome: 'ok' },
      ]);
      t.clock.advance(2000);
      assert.equal(await sweeper.sweep(), 0, 'nothing left to take');
      assert.deepEqual(problems, []);
    });

    it(`sends one ${channel === 'email' ? 'email' : 'SMS'} message, not two, when the original work runs while the request is taken over`, async () => {
      const member = await createMember(t.db);
      const other = await createMember(t.db);
      const recipient = (channel === 'email' ? member.email : member.mobile) as string;
      // A process slow past the lease, not dead: its work runs after all.
      const slow = dyingProcess();
      await ask(slow.deps, member.document, channel);
      await ask(slow.deps, other.document, channel);
      t.clock.advance(INTAKE_LEASE_MS + 1000);
      assert.equal(await sweeper.sweep(), 2);
      await Promise.all([slow.release(), t.deps.background.idle()]);
      assert.deepEqual(slow.failures, [], 'the work found done is skipped quietly');
      assert.deepEqual(problems, []);

      assert.deepEqual(await intakeRows(), []);
      for (const m of [member, other]) {
        const to = (channel === 'email' ? m.email : m.mobile) as string;
        assert.equal((await messagesTo(to)).length, 1, `${to}: one message`);
        assert.equal((await auditOf(m.id)).length, 1, `${to}: one audit event`);
      }
      assert.equal((await messagesTo(recipient)).length, 1);
    });
  }

  it('skips quietly, in a batch, the requests another worker already did, and does the rest', async () => {
    const done = await createMember(t.db);
    const pending = await createMember(t.db);
    const slow = dyingProcess();
    await ask(slow.deps, done.document, 'email');
    await ask(slow.deps, pending.document, 'email');
    // The first request's row was taken over and done elsewhere.
    const [first] = await intakeRows();
    assert.ok(first);
    await t.db.deleteFrom('request_intake').where('id', '=', first.id).execute();
    await slow.release();
    assert.deepEqual(slow.failures, []);
    assert.deepEqual(problems, []);
    assert.equal((await messagesTo(done.email as string)).length, 0, 'not done twice');
    assert.equal((await messagesTo(pending.email as string)).length, 1);
    assert.deepEqual(await intakeRows(), []);
  });

  it('leaves for housekeeping a row it cannot open (sealed under another APP_SECRET)', async () => {
    await recordIntake(t.db, t.clock, 'another-secret-another-secret-another-secret', {
      identifier: '1234567',
      flow: 'recovery',
      channel: 'email',
      context,
    });
    t.clock.advance(INTAKE_LEASE_MS + 1000);
    assert.equal(await sweeper.sweep(), 0);
    assert.equal((await intakeRows()).length, 1);
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, /cannot be opened/);
    await t.db.deleteFrom('request_intake').execute();
  });
});
