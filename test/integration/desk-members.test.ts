// The branch desk's member pages (src/routes/web/desk-members.ts) as a
// browser without JavaScript uses them, on a real database with a clock the
// test moves: finding a member, the identity check every action needs, the
// actions (send a link or code through the member's own limits, print an
// activation code, unlock, change a contact), the member redeeming the
// printed code on "Tengo un código de activación", the timeline and the audit.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { recordAudit } from '../../src/audit/record.ts';
import { keyedHash, openText } from '../../src/auth/secrets.ts';
import type { Member } from '../../src/db/schema.ts';
import {
  ACTIVATION_CODE_HOURS,
  ACTIVATION_CODE_MAX_TRIES,
} from '../../src/flows/recovery/activation.ts';
import { recentActivity } from '../../src/flows/settings/service.ts';
import { account, activation, desk, errors } from '../../src/messages/es.ts';
import { createStaff, type StaffRole } from '../../src/staff/accounts.ts';
import { DESK_SENDS_PER_HOUR, VISIT_MINUTES } from '../../src/staff/desk-members.ts';
import { createStaffSession } from '../../src/staff/sessions.ts';
import { escapeHtml } from '../../src/views/html.ts';
import {
  buildTestApp,
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  TEST_SECRET,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const shown = (value: string) => escapeHtml(value);

describe(`the branch desk's member pages (${databaseLabel})`, () => {
  let database: TestDatabase;
  let t: TestApp;
  let sequence = 0;

  before(async () => {
    database = await createTestDatabase();
    t = await buildTestApp({ database });
  });
  after(async () => {
    await t.close();
    await database.close();
  });

  async function send(options: InjectOptions): Promise<LightMyRequestResponse> {
    const response = await t.app.inject(options);
    assert.ok(
      response.statusCode < 500,
      `${options.method} ${options.url} answered ${response.statusCode}: ${response.body}`,
    );
    return response;
  }
  const post = (url: string, fields: Record<string, string>, cookie?: string, ip?: string) =>
    send({
      method: 'POST',
      url,
      headers: cookie ? { ...FORM, cookie } : FORM,
      payload: new URLSearchParams(fields).toString(),
      ...(ip ? { remoteAddress: ip } : {}),
    });
  const get = (url: string, cookie?: string) =>
    send({ method: 'GET', url, ...(cookie ? { headers: { cookie } } : {}) });

  /** A staff user of `role` with a live desk session: the cookie header a browser sends. */
  async function employee(role: StaffRole = 'desk') {
    sequence += 1;
    const { staff } = await createStaff(t.db, t.clock, {
      email: `mesa${sequence}@example.org`,
      name: `Empleada ${sequence}`,
      role,
      createdBy: 'test',
    });
    const { token } = await createStaffSession(t.db, t.clock, staff.id, {
      ip: '127.0.0.1',
      userAgent: 'test',
    });
    return { staff, cookie: `desk=${token}` };
  }

  const checkIdentity = (member: Member, cookie: string, note = 'Cédula vigente, foto coincide') =>
    post(`/mesa/socios/${member.id}/identidad`, { documentKind: 'cedula', note }, cookie);

  const staffEvents = async (memberId: number) =>
    (
      await t.db
        .selectFrom('audit_events')
        .selectAll()
        .where('type', '=', 'staff_action')
        .where('member_id', '=', memberId)
        .orderBy('id')
        .execute()
    ).map((row) => ({
      ...row,
      detail: (typeof row.detail === 'string' ? JSON.parse(row.detail) : row.detail) as Record<
        string,
        unknown
      >,
    }));

  const outboxOf = (memberId: number) =>
    t.db.selectFrom('outbox').selectAll().where('member_id', '=', memberId).orderBy('id').execute();

  /** The message an outbox row carries, opened as the courier would. */
  const opened = (payload: string) =>
    JSON.parse(openText(TEST_SECRET, 'outbox', payload)) as {
      to: string;
      template: string;
      content: { body?: string; text?: string; subject?: string };
    };

  it('finds a member by document in any format or by member number; the card masks contacts', async () => {
    const member = await createMember(t.db, {
      document: '4123456',
      memberNumber: '770011',
      firstName: 'Rosa',
      lastName: 'Martínez',
      email: 'rosa.martinez@example.org',
      mobile: '+59899111222',
    });
    const { cookie, staff } = await employee();
    for (const q of ['4.123.456', '412345-6', ' 4123456 ', '770011']) {
      const found = await get(`/mesa/socios?q=${encodeURIComponent(q)}`, cookie);
      assert.equal(found.statusCode, 303, q);
      assert.equal(found.headers.location, `/mesa/socios/${member.id}`);
    }
    const card = await get(`/mesa/socios/${member.id}`, cookie);
    assert.equal(card.statusCode, 200);
    assert.ok(card.body.includes(shown(desk.memberTitle('Rosa Martínez'))));
    assert.ok(card.body.includes('770011'));
    assert.ok(!card.body.includes('rosa.martinez@example.org'), 'the email is masked');
    assert.ok(!card.body.includes('99111222'), 'the mobile is masked');
    assert.ok(card.body.includes(shown(desk.identityTitle)), 'asks for the identity check first');
    assert.ok(!card.body.includes(shown(desk.printSubmit)), 'no action before the check');
    assert.ok(!/type="password"/.test(card.body), 'no password field, ever');
    const events = await staffEvents(member.id);
    assert.deepEqual(
      events.map((e) => [e.detail.action, e.actor_kind, e.actor_id, e.detail.role, e.channel]),
      [['member_viewed', 'staff', String(staff.id), 'desk', 'desk']],
    );

    const unknown = await get('/mesa/socios?q=9999999', cookie);
    assert.equal(unknown.statusCode, 404);
    assert.ok(unknown.body.includes(shown(desk.memberNotFound)));
    const junk = await get('/mesa/socios?q=abc', cookie);
    assert.equal(junk.statusCode, 400);
    assert.ok(junk.body.includes(shown(desk.searchInvalid)));
    assert.equal((await get('/mesa/socios/abc', cookie)).statusCode, 404);
    assert.equal((await get('/mesa/socios/99999999', cookie)).statusCode, 404);
  });

  it('refuses every action before the identity check, and records the check with each action', async () => {
    const member = await createMember(t.db);
    const { cookie } = await employee();
    for (const action of ['enviar', 'codigo', 'desbloquear', 'contacto']) {
      const refused = await post(
        `/mesa/socios/${member.id}/${action}`,
        { channel: 'email' },
        cookie,
      );
      assert.equal(refused.statusCode, 409, action);
      assert.ok(refused.body.includes(shown(desk.visitRequired)), action);
    }
    assert.equal((await get(`/mesa/socios/${member.id}/historial`, cookie)).statusCode, 409);
    assert.equal((await outboxOf(member.id)).length, 0, 'nothing was sent');

    const missing = await post(`/mesa/socios/${member.id}/identidad`, { note: '' }, cookie);
    assert.equal(missing.statusCode, 400);
    assert.ok(missing.body.includes(shown(desk.documentKindRequired)));
    assert.ok(missing.body.includes(shown(desk.noteRequired)));
    const tooLong = await post(
      `/mesa/socios/${member.id}/identidad`,
      { documentKind: 'pasaporte', note: 'x'.repeat(201) },
      cookie,
    );
    assert.equal(tooLong.statusCode, 400);
    const visits = () =>
      t.db.selectFrom('staff_visits').selectAll().where('member_id', '=', member.id).execute();
    assert.equal((await visits()).length, 0, 'nothing half-written');

    const checked = await checkIdentity(member, cookie);
    assert.equal(checked.statusCode, 303);
    const [visit] = await visits();
    assert.ok(visit);
    assert.equal(visit.document_kind, 'cedula');
    const card = await get(`/mesa/socios/${member.id}`, cookie);
    assert.ok(card.body.includes(shown(desk.printSubmit)));
    assert.ok(card.body.includes('Cédula vigente, foto coincide'));

    const printed = await post(`/mesa/socios/${member.id}/codigo`, {}, cookie);
    assert.equal(printed.statusCode, 200);
    const events = await staffEvents(member.id);
    const last = events.at(-1);
    assert.equal(last?.detail.action, 'activation_code_printed');
    assert.equal(last?.detail.visit_id, visit.id);
    assert.equal(last?.detail.document_kind, 'cedula');

    // The check covers VISIT_MINUTES; then it must be done again. (The staff
    // session stays alive in between: it ends after 15 idle minutes.)
    for (let minutes = 0; minutes <= VISIT_MINUTES; minutes += 10) {
      t.clock.advance(10 * 60_000);
      assert.equal((await get('/mesa', cookie)).statusCode, 200);
    }
    const late = await post(`/mesa/socios/${member.id}/codigo`, {}, cookie);
    assert.equal(late.statusCode, 409);
  });
});
