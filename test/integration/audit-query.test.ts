import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deleteOldAuditEvents, findAuditEvents, parseDuration } from '../../src/audit/query.ts';
import { buildTestApp, createMember, databaseLabel, TEST_SECRET, type TestApp } from '../helper.ts';

describe(`the audit trail for operators (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(() => t.close());

  const login = (document: string, password: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/login', payload: { document, password } });

  it("finds a member's events by document or member number, and an unknown document's by its hash", async () => {
    const member = await createMember(t.db, { password: 'clave2026' });
    await login(member.document, 'mala2026');
    t.clock.advanceMinutes(1);
    await login(member.document, 'clave2026');
    await login('7654321', 'cualquiera1');

    const byDocument = await findAuditEvents(t.db, TEST_SECRET, {
      identifier: member.document,
      limit: 50,
    });
    assert.deepEqual(
      byDocument.map((r) => `${r.type}:${r.outcome}`),
      ['login:ok', 'login:failed'],
      'newest first',
    );
    const byNumber = await findAuditEvents(t.db, TEST_SECRET, {
      identifier: member.member_number,
      limit: 50,
    });
    assert.equal(byNumber.length, 2);
    const unknown = await findAuditEvents(t.db, TEST_SECRET, { identifier: '7654321', limit: 50 });
    assert.deepEqual(
      unknown.map((r) => `${r.type}:${r.outcome}:${r.memberId}`),
      ['login:failed:null'],
    );
    const recent = await findAuditEvents(t.db, TEST_SECRET, {
      identifier: member.document,
      since: new Date(t.clock.now().getTime() - 30_000),
      limit: 50,
    });
    assert.deepEqual(
      recent.map((r) => r.outcome),
      ['ok'],
    );
  });

  it('forgets events older than the retention', async () => {
    const before = await findAuditEvents(t.db, TEST_SECRET, { limit: 1000 });
    t.clock.advanceMinutes(10);
    const removed = await deleteOldAuditEvents(t.db, t.clock.now());
    assert.equal(removed, before.length);
    assert.equal((await findAuditEvents(t.db, TEST_SECRET, { limit: 1000 })).length, 0);
  });

  it('reads durations such as 30m, 24h and 7d', () => {
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('5x'), null);
  });
});
