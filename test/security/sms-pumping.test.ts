// Attack suite, SMS pumping (SMS cost money): requests rotated over many
// client addresses so the per-address budget never trips. The per-number
// limits (3 an hour, 10 a day) hold for members sharing a mobile, and the
// hourly budget stops SMS (never email) with one alert. The answers never
// change. SMS are read from the gateway stub the real Dispatcher posts to.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { AlertLog } from '../../src/deps.ts';
import { createMember, createTestDatabase, databaseLabel, type TestDatabase } from '../helper.ts';
import { buildDeliveryRig, type DeliveryRig } from '../support/delivery.ts';
import { apiPasswordRequest, DEFAULT_ADDRESS_LIMITS, detailOf } from './attack.ts';

/** Every request from a new address: the per-address limit never helps here. */
let addressCounter = 0;
function nextAddress(): string {
  addressCounter += 1;
  return `198.18.${Math.floor(addressCounter / 250)}.${(addressCounter % 250) + 1}`;
}

class CapturingAlertLog implements AlertLog {
  readonly entries: { level: 'warn' | 'error'; obj: object; msg: string }[] = [];
  warn(obj: object, msg: string): void {
    this.entries.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg: string): void {
    this.entries.push({ level: 'error', obj, msg });
  }
}

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

/** The answers of a series: all 202, all with one body. */
function assertAllAccepted(responses: LightMyRequestResponse[]): void {
  assert.deepEqual(new Set(responses.map((r) => r.statusCode)), new Set([202]));
  assert.equal(new Set(responses.map((r) => r.body)).size, 1, 'the answers never change');
}

describe(`SMS pumping to one number shared by members (${databaseLabel})`, () => {
  let rig: DeliveryRig;

  before(async () => {
    rig = await buildDeliveryRig({ database, env: { ...DEFAULT_ADDRESS_LIMITS } });
  });
  after(async () => {
    await rig.close();
  });

  it('lets at most 3 SMS an hour and 10 a day reach one number, whoever asks', async (t) => {
    const shared = '+59899555001';
    const members = [];
    for (let i = 0; i < 5; i += 1) members.push(await createMember(rig.db, { mobile: shared }));

    const responses: LightMyRequestResponse[] = [];
    const perHour: number[] = [];
    for (let hour = 0; hour < 5; hour += 1) {
      // Every member asks once an hour (within their own 5 an hour), each from a new address.
      for (const member of members)
        responses.push(await apiPasswordRequest(rig.app, member.document, 'sms', nextAddress()));
      await rig.deliver();
      perHour.push(rig.sms.to(shared).length);
      rig.clock.advanceMinutes(61);
    }
    assertAllAccepted(responses);
    t.diagnostic(`SMS to the shared number after each hour: ${perHour.join(', ')}`);
    assert.deepEqual(perHour, [3, 6, 9, 10, 10]);
    assert.equal(rig.sms.requests.filter((r) => r.to === shared).length, 10);

    const reasons = await rig.db
      .selectFrom('audit_events')
      .select(['outcome', 'detail'])
      .where('type', '=', 'code_sent')
      .where(
        'member_id',
        'in',
        members.map((m) => m.id),
      )
      .execute();
    assert.equal(reasons.length, 25);
    assert.equal(reasons.filter((r) => r.outcome === 'ok').length, 10);
    const ignored = reasons.filter((r) => r.outcome === 'ignored').map((r) => detailOf(r).reason);
    assert.deepEqual([...new Set(ignored)].sort(), ['number_day_limit', 'number_hour_limit']);
  });

  it('holds the limit against a parallel burst: 8 members sharing a number at once, 3 SMS', async () => {
    const shared = '+59899555002';
    const members = [];
    for (let i = 0; i < 8; i += 1) members.push(await createMember(rig.db, { mobile: shared }));
    const responses = await Promise.all(
      members.map((member) => apiPasswordRequest(rig.app, member.document, 'sms', nextAddress())),
    );
    assertAllAccepted(responses);
    await rig.deliver();
    assert.equal(rig.sms.to(shared).length, 3);
  });

  it('keeps the SMS of one member to 5 an hour across both channels', async () => {
    const member = await createMember(rig.db);
    const responses: LightMyRequestResponse[] = [];
    // Each delivered before the next request, which retires its link or code.
    for (let i = 0; i < 8; i += 1) {
      const channel = i < 4 ? 'email' : 'sms';
      responses.push(await apiPasswordRequest(rig.app, member.document, channel, nextAddress()));
      await rig.deliver();
    }
    assertAllAccepted(responses);
    await rig.deliver();
    assert.equal(rig.smtp.to(member.email as string).length, 4);
    assert.equal(rig.sms.to(member.mobile as string).length, 1);
  });
});

describe(`SMS pumping to many numbers: the hourly budget (${databaseLabel})`, () => {
  let rig: DeliveryRig;
  const alerts = new CapturingAlertLog();

  before(async () => {
    rig = await buildDeliveryRig({
      database,
      env: { ...DEFAULT_ADDRESS_LIMITS, SMS_HOURLY_BUDGET: '5' },
      log: alerts,
    });
    // The budget is one counter for the whole database: start on a day of its own.
    rig.clock.advanceMinutes(2 * 24 * 60);
  });
  after(async () => {
    await rig.close();
  });

  const budgetRows = () =>
    rig.db
      .selectFrom('audit_events')
      .select(['outcome', 'detail', 'at'])
      .where('type', '=', 'sms_budget_exhausted')
      .execute();

  it('sends exactly 5 SMS, records the exhaustion once, alerts once, and email still flows', async (t) => {
    const members = [];
    for (let i = 0; i < 9; i += 1)
      members.push(await createMember(rig.db, { mobile: `+5989966${String(i).padStart(4, '0')}` }));
    const numbers = new Set(members.map((m) => m.mobile as string));
    const smsToThem = () => rig.sms.delivered.filter((r) => numbers.has(r.to));

    // A parallel burst: the budget is counted one request at a time all the same.
    const responses: LightMyRequestResponse[] = await Promise.all(
      members
        .slice(0, 8)
        .map((member) => apiPasswordRequest(rig.app, member.document, 'sms', nextAddress())),
    );
    await rig.deliver();
    assert.equal(smsToThem().length, 5);

    const rows = await budgetRows();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.outcome, 'refused');
    assert.deepEqual(detailOf(rows[0]), { budget: 5, resumesInSeconds: 3600 });
    const raised = alerts.entries.filter(
      (e) => (e.obj as { alert?: string }).alert === 'sms_budget_exhausted',
    );
    assert.equal(raised.length, 1);
    assert.equal(raised[0]?.level, 'error');
    assert.match(raised[0]?.msg ?? '', /ALERT/);
    t.diagnostic(`alert: ${raised[0]?.msg}`);

    // More pumping: nothing more is sent, nothing more is alerted.
    for (const member of members)
      responses.push(await apiPasswordRequest(rig.app, member.document, 'sms', nextAddress()));
    await rig.deliver();
    assert.equal(smsToThem().length, 5);
    assert.equal((await budgetRows()).length, 1);
    assert.equal(alerts.entries.length, 1);

    // Email is never stopped by the SMS budget.
    const emailer = members[8];
    assert.ok(emailer);
    responses.push(await apiPasswordRequest(rig.app, emailer.document, 'email', nextAddress()));
    await rig.deliver();
    assert.equal(rig.smtp.to(emailer.email as string).length, 1);
    assert.equal(smsToThem().length, 5);
    assertAllAccepted(responses);

    // The next hour, SMS resume.
    rig.clock.advanceMinutes(60);
    const next = await apiPasswordRequest(rig.app, emailer.document, 'sms', nextAddress());
    assert.equal(next.statusCode, 202);
    assert.equal(next.body, responses[0]?.body);
    await rig.deliver();
    assert.equal(rig.sms.to(emailer.mobile as string).length, 1);
  });
});
