// Password requests by email are fulfilled in batches after the answer
// (ADR 021): one transaction for many requests. Each request of a batch must
// come out as it would have alone: the same refusals, the per-member limit
// counting what the batch already queued, a later request retiring the
// links of earlier ones (a known device's only when it comes from one), one
// audit event per request. Batches are driven here directly, in a known
// order; the app's own batching is exercised by every other recovery test.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { issueDeviceToken } from '../../src/auth/devices.ts';
import { computeCheckDigit } from '../../src/auth/documents.ts';
import type { Member } from '../../src/db/schema.ts';
import type { RequestContext } from '../../src/flows/context.ts';
import { type EmailRequest, fulfilEmailRequests } from '../../src/flows/recovery/service.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  TEST_SECRET,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';

describe(`password requests by email, in batches (${databaseLabel})`, () => {
  let database: TestDatabase;
  let t: TestApp;

  before(async () => {
    database = await createTestDatabase();
    t = await buildTestApp({ database });
  });
  after(async () => {
    await t.close();
    await database.close();
  });

  const elsewhere: RequestContext = {
    channel: 'api',
    ip: '198.51.100.90',
    userAgent: 'test',
    deviceToken: null,
  };
  /** The context of a device that logged in as `member` before (ADR 016). */
  const knownDeviceOf = (member: Member): RequestContext => ({
    ...elsewhere,
    deviceToken: issueDeviceToken(TEST_SECRET, member.id, t.clock.now()),
  });
  const request = (identifier: string, context = elsewhere): EmailRequest => ({
    identifier,
    flow: 'recovery',
    context,
  });
  const batch = (requests: EmailRequest[]) => fulfilEmailRequests(t.deps.flow, requests);

  /** The member's links, oldest first: from a known device or not, and whether still live. */
  async function linksOf(member: Member) {
    const rows = await t.db
      .selectFrom('one_time_secrets')
      .select(['known_device', 'used_at'])
      .where('member_id', '=', member.id)
      .orderBy('id')
      .execute();
    return rows.map(
      (row) => `${row.known_device ? 'known' : 'elsewhere'}:${row.used_at ? 'retired' : 'live'}`,
    );
  }

  /** Each queued mail names the link it carries, and goes to the member's address. */
  async function mailsOf(member: Member) {
    return t.db
      .selectFrom('outbox')
      .innerJoin('one_time_secrets', 'one_time_secrets.id', 'outbox.secret_id')
      .select([
        'outbox.recipient',
        'outbox.template',
        'outbox.status',
        'one_time_secrets.member_id',
      ])
      .where('outbox.member_id', '=', member.id)
      .orderBy('outbox.id')
      .execute();
  }

  /** The audit events of the batch's requests, in order: outcome and reason. */
  async function eventsSince(id: string) {
    const rows = await t.db
      .selectFrom('audit_events')
      .select(['id', 'type', 'outcome', 'member_id', 'detail', 'actor_kind', 'ip'])
      .where('id', '>', id)
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      type: row.type,
      outcome: row.outcome,
      member: row.member_id,
      reason: (row.detail as { reason?: string }).reason ?? null,
      actor: row.actor_kind,
      ip: row.ip,
    }));
  }
  async function lastEventId(): Promise<string> {
    const row = await t.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return String(row?.id ?? 0);
  }

  it('treats each request of one batch as it would alone, and audits each', async () => {
    const active = await createMember(t.db);
    const inactive = await createMember(t.db, { status: 'inactive' });
    const contactless = await createMember(t.db, { email: null });
    const byNumber = await createMember(t.db);
    const withCheckDigit = await createMember(t.db, { document: '4123456' });
    const from = await lastEventId();

    await batch([
      request('98765432101'),
      request(inactive.document),
      request(contactless.document),
      request(`00${byNumber.member_number}`),
      request(`4123456${computeCheckDigit('4123456')}`),
      request(active.document),
      request(active.document),
    ]);

    const reasons = (await eventsSince(from)).map((e) => [e.type, e.outcome, e.member, e.reason]);
    assert.deepEqual(reasons, [
      ['link_sent', 'ignored', null, 'unknown'],
      ['link_sent', 'ignored', inactive.id, 'inactive'],
      ['link_sent', 'ignored', contactless.id, 'no_contact'],
      ['link_sent', 'ok', byNumber.id, null],
      ['link_sent', 'ok', withCheckDigit.id, null],
      ['link_sent', 'ok', active.id, null],
      ['link_sent', 'ok', active.id, null],
    ]);
    for (const event of await eventsSince(from)) {
      assert.equal(event.actor, 'anonymous');
      assert.equal(event.ip, elsewhere.ip);
    }
    for (const member of [inactive, contactless]) assert.deepEqual(await mailsOf(member), []);
    for (const member of [byNumber, withCheckDigit])
      assert.deepEqual(await mailsOf(member), [
        {
          recipient: member.email,
          template: 'password-request',
          status: 'queued',
          member_id: member.id,
        },
      ]);
    assert.equal((await mailsOf(active)).length, 2);
    // The second request retired the first one's link, as it would have alone.
    assert.deepEqual(await linksOf(active), ['elsewhere:retired', 'elsewhere:live']);
  });

  it('counts what the batch already queued against the per-member limit', async () => {
    const member = await createMember(t.db);
    await batch([request(member.document), request(member.document), request(member.document)]);
    const from = await lastEventId();

    await batch(Array.from({ length: 4 }, () => request(member.document)));

    const outcomes = (await eventsSince(from)).map((e) => e.reason ?? e.outcome);
    assert.deepEqual(outcomes, ['ok', 'ok', 'member_limit', 'member_limit']);
    assert.equal((await mailsOf(member)).length, 5);
    const live = (await linksOf(member)).filter((link) => link.endsWith(':live'));
    assert.equal(live.length, 1, 'exactly the newest link is still usable');
  });

  it('leaves what the same requests leave one by one, known devices included', async () => {
    const oneByOne = await createMember(t.db);
    const together = await createMember(t.db);
    const sequence = (member: Member) => [
      request(member.document),
      request(member.document, knownDeviceOf(member)),
      request(member.document),
      request(member.document, knownDeviceOf(member)),
      request(member.document),
    ];
    for (const each of sequence(oneByOne)) await batch([each]);
    await batch(sequence(together));

    assert.deepEqual(await linksOf(together), await linksOf(oneByOne));
    assert.deepEqual(await linksOf(together), [
      'elsewhere:retired',
      'known:retired',
      'elsewhere:retired',
      'known:live',
      'elsewhere:live',
    ]);
    assert.equal((await mailsOf(together)).length, 5);
  });

  it('spares a known device’s earlier link when requests come from elsewhere', async () => {
    const member = await createMember(t.db);
    await batch([request(member.document, knownDeviceOf(member))]);
    await batch([request(member.document), request(member.document)]);
    assert.deepEqual(await linksOf(member), ['known:live', 'elsewhere:retired', 'elsewhere:live']);
  });

  it('gives a known device a message budget of its own within a batch', async () => {
    const member = await createMember(t.db);
    const from = await lastEventId();
    await batch([
      ...Array.from({ length: 6 }, () => request(member.document)),
      request(member.document, knownDeviceOf(member)),
    ]);
    const outcomes = (await eventsSince(from)).map((e) => e.reason ?? e.outcome);
    assert.deepEqual(outcomes, ['ok', 'ok', 'ok', 'ok', 'ok', 'member_limit', 'ok']);
  });
});
