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
      const found = await post('/mesa/socios', { q }, cookie);
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

    const unknown = await post('/mesa/socios', { q: '9999999' }, cookie);
    assert.equal(unknown.statusCode, 404);
    assert.ok(unknown.body.includes(shown(desk.memberNotFound)));
    const junk = await post('/mesa/socios', { q: 'abc' }, cookie);
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

  /** A member's card after the identity check, and the slip of a printed code: the code as printed. */
  async function printCode(member: Member, cookie: string): Promise<string> {
    const printed = await post(`/mesa/socios/${member.id}/codigo`, {}, cookie);
    assert.equal(printed.statusCode, 200, printed.body);
    const code = /id="codigo-de-activacion"[^>]*>([2-9A-Z]{5}-[2-9A-Z]{5})</.exec(
      printed.body,
    )?.[1];
    assert.ok(code, 'the slip shows the code as XXXXX-XXXXX');
    return code;
  }

  /** The member's step on "Tengo un código de activación"; the pwtoken cookie when it led on. */
  const redeem = (document: string, code: string, ip?: string) =>
    post('/codigo-de-activacion', { document, code }, undefined, ip);

  it('prints a one-time code the member redeems with the document to choose a password', async () => {
    const member = await createMember(t.db, {
      password: null,
      firstName: 'Julio',
      lastName: 'Suárez',
      document: '3456789',
    });
    const { cookie } = await employee();
    await checkIdentity(member, cookie);
    const printed = await post(`/mesa/socios/${member.id}/codigo`, {}, cookie);
    assert.equal(printed.headers['referrer-policy'], 'no-referrer');
    assert.match(String(printed.headers['cache-control']), /no-store/);
    assert.ok(printed.body.includes('Julio S.'), 'the slip names its holder, masked');
    assert.ok(printed.body.includes('/codigo-de-activacion'), 'and where to use it');
    assert.ok(printed.body.includes('144'), 'and the call centre');
    const code = /id="codigo-de-activacion"[^>]*>([2-9A-Z]{5}-[2-9A-Z]{5})</.exec(
      printed.body,
    )?.[1];
    assert.ok(code);
    const plain = code.replace('-', '');
    assert.match(plain, /^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{10}$/);
    const stored = await t.db
      .selectFrom('one_time_secrets')
      .selectAll()
      .where('member_id', '=', member.id)
      .where('kind', '=', 'printed_code')
      .execute();
    assert.equal(stored.length, 1);
    assert.ok(!stored[0]?.secret_hash.includes(plain), 'stored hashed');
    assert.equal(
      (stored[0]?.expires_at.getTime() ?? 0) - (stored[0]?.created_at.getTime() ?? 0),
      ACTIVATION_CODE_HOURS * 3_600_000,
    );

    // The login page leads to the public page.
    const login = await get('/');
    assert.ok(login.body.includes('href="/codigo-de-activacion"'));
    assert.ok(login.body.includes(shown(activation.link)));
    assert.equal((await get('/codigo-de-activacion')).statusCode, 200);

    // Typed in lower case, without the dash, with the document's dots: accepted.
    const redeemed = await redeem('3.456.789', plain.toLowerCase());
    assert.equal(redeemed.statusCode, 303, redeemed.body);
    assert.equal(redeemed.headers.location, '/cambiar-contrasena');
    const tokenCookie = cookieFrom(redeemed);
    assert.match(tokenCookie, /pwtoken=/);
    const form = await get('/cambiar-contrasena', tokenCookie);
    assert.equal(form.statusCode, 200);
    assert.ok(form.body.includes('Julio S.'));
    const done = await post(
      '/cambiar-contrasena',
      { password: 'nueva2026', passwordConfirmation: 'nueva2026' },
      tokenCookie,
    );
    assert.equal(done.statusCode, 200, done.body);
    const after = await t.db
      .selectFrom('members')
      .select(['password_hash', 'password_changed_at'])
      .where('id', '=', member.id)
      .executeTakeFirstOrThrow();
    assert.ok(after.password_hash && after.password_changed_at);
    const set = await t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('member_id', '=', member.id)
      .where('type', '=', 'password_set')
      .executeTakeFirstOrThrow();
    assert.deepEqual(typeof set.detail === 'string' ? JSON.parse(set.detail) : set.detail, {
      flow: 'activation',
      via: 'desk',
    });
    // The notice says how it was done.
    const notices = (await outboxOf(member.id)).filter((m) => m.template === 'password-changed');
    assert.equal(notices.length, 1);
    assert.match(opened(notices[0]?.payload ?? '').content.text ?? '', /centro de atención/);

    // Single use: the same code again leads nowhere.
    const again = await redeem('3456789', code);
    assert.equal(again.statusCode, 400);
    assert.ok(again.body.includes(shown(errors.ACTIVATION_CODE_INVALID)));
    assert.ok(
      !again.body.includes(code) && !again.body.includes(plain),
      'the code is not shown back',
    );

    // The member's activity tells the branch's part.
    const items = await recentActivity(t.deps.flow, member.id);
    assert.ok(items.some((i) => i.text === account.activity.staffActions.activation_code_printed));
  });

  it('the mobile app redeems a printed code through the API, then sets the password with the token', async () => {
    const member = await createMember(t.db, { password: null });
    const { cookie } = await employee();
    await checkIdentity(member, cookie);
    const code = await printCode(member, cookie);
    const json = { 'content-type': 'application/json' };
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/v1/activation-codes/redeem',
      headers: json,
      payload: { document: member.document, code: 'ABCDE-FGHJK' },
    });
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json().error.code, 'ACTIVATION_CODE_INVALID');
    const right = await t.app.inject({
      method: 'POST',
      url: '/api/v1/activation-codes/redeem',
      headers: json,
      payload: { document: member.document, code },
    });
    assert.equal(right.statusCode, 200, right.body);
    const { token } = right.json() as { token: string };
    const set = await t.app.inject({
      method: 'POST',
      url: '/api/v1/password',
      headers: json,
      payload: { token, password: 'movil2026', passwordConfirmation: 'movil2026' },
    });
    assert.equal(set.statusCode, 200, set.body);
    const spec = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    assert.ok(spec.paths['/api/v1/activation-codes/redeem']?.post, 'in the OpenAPI document');
  });

  it('an activation code expires after 24 hours, dies when another is printed, and has 5 tries', async () => {
    const member = await createMember(t.db, { password: null });
    const { cookie } = await employee();
    await checkIdentity(member, cookie);
    const first = await printCode(member, cookie);
    const second = await printCode(member, cookie);
    assert.notEqual(first, second);
    assert.equal(
      (await redeem(member.document, first)).statusCode,
      400,
      'the older code is retired',
    );

    // Wrong codes spend the code's tries: after 5, even the right one is refused.
    for (let i = 0; i < ACTIVATION_CODE_MAX_TRIES; i += 1) {
      const wrong = await redeem(member.document, 'ABCDE-FGHJK');
      assert.equal(wrong.statusCode, 400);
    }
    assert.equal((await redeem(member.document, second)).statusCode, 400, 'spent by wrong tries');

    // A new code, then a day passes.
    const third = await printCode(member, cookie);
    t.clock.advance(ACTIVATION_CODE_HOURS * 3_600_000 + 1000);
    assert.equal((await redeem(member.document, third)).statusCode, 400, 'expired');

    // Malformed input says what is wrong, without counting a try.
    const blank = await redeem(member.document, '');
    assert.equal(blank.statusCode, 400);
    assert.ok(blank.body.includes(shown(errors.ACTIVATION_CODE_REQUIRED)));
    const short = await redeem(member.document, 'ABC');
    assert.ok(short.body.includes(shown(errors.ACTIVATION_CODE_FORMAT)));
    const noDocument = await redeem('', 'ABCDE-FGHJK');
    assert.ok(noDocument.body.includes(shown(errors.DOCUMENT_OR_MEMBER_REQUIRED)));
  });

  it("wrong activation codes spend the address's budget of wrong codes: then 429 with Retry-After", async () => {
    const limited = await buildTestApp({
      database,
      clock: t.clock,
      env: { SMS_CODE_FAILURES_PER_ADDRESS: '3/1h' },
    });
    try {
      const member = await createMember(t.db, { password: null });
      const tryCode = (code: string) =>
        limited.app.inject({
          method: 'POST',
          url: '/codigo-de-activacion',
          headers: FORM,
          remoteAddress: '198.51.100.77',
          payload: new URLSearchParams({ document: member.document, code }).toString(),
        });
      for (let i = 0; i < 3; i += 1) assert.equal((await tryCode('ABCDE-FGHJK')).statusCode, 400);
      const refused = await tryCode('ABCDE-FGHJK');
      assert.equal(refused.statusCode, 429);
      assert.ok(Number(refused.headers['retry-after']) > 0);
    } finally {
      await limited.app.close();
    }
  });

  it("sends a link or an SMS code through the member's own limits, and audits it with the visit", async () => {
    const member = await createMember(t.db, { mobile: '+59899333444' });
    const { cookie } = await employee();
    await checkIdentity(member, cookie);
    const byEmail = await post(`/mesa/socios/${member.id}/enviar`, { channel: 'email' }, cookie);
    assert.equal(byEmail.statusCode, 303);
    assert.equal(byEmail.headers.location, `/mesa/socios/${member.id}?hecho=email-enviado`);
    const card = await get(byEmail.headers.location as string, cookie);
    assert.ok(card.body.includes(shown(desk.sentEmail)));
    let sent = await outboxOf(member.id);
    assert.equal(sent.at(-1)?.template, 'password-request');
    assert.equal(opened(sent.at(-1)?.payload ?? '').to, member.email);
    assert.match(
      opened(sent.at(-1)?.payload ?? '').content.text ?? '',
      /\/cambiar-contrasena\?token=/,
    );

    const bySms = await post(`/mesa/socios/${member.id}/enviar`, { channel: 'sms' }, cookie);
    assert.equal(bySms.headers.location, `/mesa/socios/${member.id}?hecho=sms-enviado`);
    sent = await outboxOf(member.id);
    const sms = opened(sent.at(-1)?.payload ?? '');
    assert.equal(sms.to, '+59899333444');
    const code = /\b(\d{6})\b/.exec(sms.content.body ?? '')?.[1];
    assert.ok(code);
    // The member types it on the code step, opened on its own with the document.
    const step = await get('/olvide-mi-contrasena/codigo');
    assert.equal(step.statusCode, 200);
    assert.match(step.body, /name="document"[^>]*type="text"|id="document"/);
    const verified = await post('/olvide-mi-contrasena/codigo', {
      document: member.document,
      code,
    });
    assert.equal(verified.statusCode, 303);
    assert.equal(verified.headers.location, '/cambiar-contrasena');

    const events = (await staffEvents(member.id)).filter(
      (e) => e.detail.action === 'activation_sent',
    );
    assert.deepEqual(
      events.map((e) => [e.detail.via, e.detail.flow, e.outcome, typeof e.detail.visit_id]),
      [
        ['email', 'recovery', 'ok', 'number'],
        ['sms', 'recovery', 'ok', 'number'],
      ],
    );

    // The member's hourly limit (5, channels together) holds at the desk too.
    for (let i = 0; i < 3; i += 1)
      assert.equal(
        (await post(`/mesa/socios/${member.id}/enviar`, { channel: 'email' }, cookie)).statusCode,
        303,
      );
    const over = await post(`/mesa/socios/${member.id}/enviar`, { channel: 'email' }, cookie);
    assert.equal(over.statusCode, 429);
    assert.ok(over.body.includes(shown(desk.notSent.member_limit as string)));
    assert.equal(
      (await outboxOf(member.id)).filter(
        (m) => m.template === 'password-request' || m.template === 'sms-code',
      ).length,
      5,
    );
    const refused = (await staffEvents(member.id)).at(-1);
    assert.equal(refused?.outcome, 'ignored');
    assert.equal(refused?.detail.reason, 'member_limit');

    // A channel the member has no contact for, or none chosen: the form says so.
    const noMobile = await createMember(t.db, { mobile: null });
    await checkIdentity(noMobile, cookie);
    const none = await post(`/mesa/socios/${noMobile.id}/enviar`, { channel: 'sms' }, cookie);
    assert.equal(none.statusCode, 400);
    assert.ok(none.body.includes(shown(desk.channelUnavailable)));
    const unchosen = await post(`/mesa/socios/${noMobile.id}/enviar`, {}, cookie);
    assert.equal(unchosen.statusCode, 400);
    assert.ok(unchosen.body.includes(shown(desk.channelRequired)));
  });

  it('a member without a password gets the registration message; an inactive member gets nothing', async () => {
    const fresh = await createMember(t.db, { password: null });
    const inactive = await createMember(t.db, { status: 'inactive' });
    const { cookie } = await employee();
    await checkIdentity(fresh, cookie);
    await post(`/mesa/socios/${fresh.id}/enviar`, { channel: 'email' }, cookie);
    const event = (await staffEvents(fresh.id)).at(-1);
    assert.equal(event?.detail.flow, 'registration');

    await checkIdentity(inactive, cookie);
    for (const action of ['enviar', 'codigo']) {
      const refused = await post(
        `/mesa/socios/${inactive.id}/${action}`,
        { channel: 'email' },
        cookie,
      );
      assert.equal(refused.statusCode, 409, action);
    }
    assert.equal((await outboxOf(inactive.id)).length, 0);
  });

  it('changes a contact with a reason and tells the member at the old and the new one', async () => {
    const member = await createMember(t.db, {
      email: 'viejo@example.org',
      mobile: '+59899555666',
    });
    const { cookie } = await employee();
    await checkIdentity(member, cookie);
    const noReason = await post(
      `/mesa/socios/${member.id}/contacto`,
      { kind: 'email', value: 'nuevo@example.org', reason: '' },
      cookie,
    );
    assert.equal(noReason.statusCode, 400);
    assert.ok(noReason.body.includes(shown(desk.reasonRequired)));
    assert.ok(noReason.body.includes('nuevo@example.org'), 'what was typed stays in the form');
    const bad = await post(
      `/mesa/socios/${member.id}/contacto`,
      { kind: 'mobile', value: '12345', reason: 'cambió de número' },
      cookie,
    );
    assert.equal(bad.statusCode, 400);
    assert.ok(bad.body.includes(shown(desk.mobileValueInvalid)));
    assert.equal((await outboxOf(member.id)).length, 0, 'nothing changed, nothing sent');

    const changed = await post(
      `/mesa/socios/${member.id}/contacto`,
      { kind: 'email', value: ' Nuevo@Example.org ', reason: 'el email registrado tenía un error' },
      cookie,
    );
    assert.equal(changed.statusCode, 303);
    const row = await t.db
      .selectFrom('members')
      .select(['email', 'mobile'])
      .where('id', '=', member.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.email, 'nuevo@example.org');
    const notices = (await outboxOf(member.id)).map((m) => opened(m.payload ?? ''));
    assert.deepEqual(
      notices.map((n) => [n.template, n.to]),
      [
        ['contact-changed', 'viejo@example.org'],
        ['contact-changed', 'nuevo@example.org'],
      ],
    );
    for (const notice of notices) {
      assert.match(notice.content.text ?? '', /centro de atención/);
      assert.ok(!(notice.content.text ?? '').includes('nuevo@example.org'), 'never the new value');
    }
    const event = (await staffEvents(member.id)).at(-1);
    assert.equal(event?.detail.action, 'contact_updated');
    assert.equal(event?.detail.kind, 'email');
    assert.equal(event?.detail.reason, 'el email registrado tenía un error');
    const items = await recentActivity(t.deps.flow, member.id);
    assert.equal(items[0]?.text, account.activity.staffActions.contact_updated);
  });

  it('unlocks a paused login; the card shows the pause and the timeline shows who did what', async () => {
    const member = await createMember(t.db);
    const { cookie, staff } = await employee('supervisor');
    const documentHash = keyedHash(TEST_SECRET, 'document', member.document);
    await t.db
      .insertInto('account_lockouts')
      .values({
        document_hash: documentHash,
        failures: 6,
        last_failure_at: t.clock.now(),
        locked_until: new Date(t.clock.now().getTime() + 10 * 60_000),
      })
      .execute();
    await recordAudit(t.db, t.clock, {
      type: 'login',
      outcome: 'failed',
      memberId: member.id,
      channel: 'web',
    });
    await checkIdentity(member, cookie);
    const card = await get(`/mesa/socios/${member.id}`, cookie);
    assert.ok(card.body.includes('desk-warning'), 'the pause stands out');
    assert.ok(card.body.includes(shown(desk.unlockSubmit)));
    const unlocked = await post(`/mesa/socios/${member.id}/desbloquear`, {}, cookie);
    assert.equal(unlocked.headers.location, `/mesa/socios/${member.id}?hecho=desbloqueado`);
    const left = await t.db
      .selectFrom('account_lockouts')
      .select('failures')
      .where('document_hash', '=', documentHash)
      .executeTakeFirst();
    assert.equal(left, undefined);
    const again = await post(`/mesa/socios/${member.id}/desbloquear`, {}, cookie);
    assert.equal(again.headers.location, `/mesa/socios/${member.id}?hecho=sin-pausa`);

    const timeline = await get(`/mesa/socios/${member.id}/historial`, cookie);
    assert.equal(timeline.statusCode, 200);
    assert.ok(timeline.body.includes(shown(desk.staffActor(staff.name))));
    assert.ok(timeline.body.includes(shown(desk.eventTypes.login as string)));
    assert.ok(timeline.body.includes('<th scope="col">'));
    const actions = (await staffEvents(member.id)).map((e) => e.detail.action);
    assert.deepEqual(actions.slice(-3), ['member_unlocked', 'member_unlocked', 'timeline_viewed']);
  });

  it('every member route: anonymous goes to the desk login, a member session opens nothing, every role may act', async () => {
    const member = await createMember(t.db);
    const routes: [string, string][] = [
      ['POST', '/mesa/socios'],
      ['GET', `/mesa/socios/${member.id}`],
      ['POST', `/mesa/socios/${member.id}/identidad`],
      ['POST', `/mesa/socios/${member.id}/enviar`],
      ['POST', `/mesa/socios/${member.id}/codigo`],
      ['POST', `/mesa/socios/${member.id}/desbloquear`],
      ['POST', `/mesa/socios/${member.id}/contacto`],
      ['POST', `/mesa/socios/${member.id}/llaves`],
      ['GET', `/mesa/socios/${member.id}/historial`],
    ];
    // A member's own session cookie is not a staff session.
    const login = await post('/', { document: member.document, password: 'clave2026' });
    const memberCookie = cookieFrom(login);
    for (const [method, url] of routes) {
      for (const cookie of [undefined, memberCookie]) {
        const answer = method === 'GET' ? await get(url, cookie) : await post(url, {}, cookie);
        assert.equal(answer.statusCode, 303, `${method} ${url}`);
        assert.match(String(answer.headers.location), /^\/mesa\/ingresar/);
      }
    }
    for (const role of ['desk', 'supervisor', 'admin'] as const) {
      const { cookie } = await employee(role);
      for (const [method, url] of routes) {
        const answer = method === 'GET' ? await get(url, cookie) : await post(url, {}, cookie);
        assert.notEqual(answer.statusCode, 403, `${role} ${method} ${url}`);
        assert.doesNotMatch(String(answer.headers.location ?? ''), /ingresar/, `${role} ${url}`);
      }
    }
  });

  it('removes every passkey of a member who lost the phone, after the identity check', async () => {
    const member = await createMember(t.db);
    const other = await createMember(t.db);
    const passkey = (id: string, memberId: number) => ({
      id,
      member_id: memberId,
      public_key: 'AA',
      counter: 0,
      transports: '[]',
      device_type: 'multiDevice' as const,
      backed_up: true,
      aaguid: '00000000-0000-0000-0000-000000000000',
      name: 'Chrome en Android',
      created_at: t.clock.now(),
      last_used_at: null,
    });
    await t.db
      .insertInto('passkeys')
      .values([
        passkey(`a${member.id}`, member.id),
        passkey(`b${member.id}`, member.id),
        passkey(`c${other.id}`, other.id),
      ])
      .execute();
    const { cookie } = await employee();
    assert.equal((await post(`/mesa/socios/${member.id}/llaves`, {}, cookie)).statusCode, 409);
    await checkIdentity(member, cookie);
    const card = await get(`/mesa/socios/${member.id}`, cookie);
    assert.ok(card.body.includes(shown(desk.passkeysCount(2))));
    assert.ok(card.body.includes(shown(desk.passkeysSubmit)));
    const removed = await post(`/mesa/socios/${member.id}/llaves`, {}, cookie);
    assert.equal(removed.statusCode, 200);
    assert.ok(removed.body.includes(shown(desk.passkeysRemoved(2))));
    const left = await t.db.selectFrom('passkeys').select(['id', 'member_id']).execute();
    assert.deepEqual(
      left.filter((p) => p.member_id === member.id || p.member_id === other.id).map((p) => p.id),
      [`c${other.id}`],
      "only this member's",
    );
    const event = (await staffEvents(member.id)).at(-1);
    assert.equal(event?.detail.action, 'passkeys_removed');
    assert.equal(event?.detail.count, 2);
    assert.equal(typeof event?.detail.visit_id, 'number');
    const items = await recentActivity(t.deps.flow, member.id);
    assert.equal(items[0]?.text, account.activity.staffActions.passkeys_removed);
  });

  it("caps an employee's prints and sends per hour (429 with Retry-After)", async () => {
    const member = await createMember(t.db, { password: null });
    const { cookie } = await employee();
    await checkIdentity(member, cookie);
    for (let i = 0; i < DESK_SENDS_PER_HOUR.limit; i += 1)
      assert.equal((await post(`/mesa/socios/${member.id}/codigo`, {}, cookie)).statusCode, 200);
    const over = await post(`/mesa/socios/${member.id}/codigo`, {}, cookie);
    assert.equal(over.statusCode, 429);
    assert.ok(Number(over.headers['retry-after']) > 0);
    assert.ok(over.body.includes(shown(desk.sendsLimit)));
  });
});
