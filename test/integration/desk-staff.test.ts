// The desk's pages for supervisors and admins (src/routes/web/desk-staff.ts)
// through app.inject on a real database, with a clock the test moves: the
// role matrix of every route, creating staff and handing over the enrolment
// link, disabling and enabling (sessions end, the login fails), the rules
// against disabling oneself and the last admin, resetting a second factor
// (old factor refused, new link works), and the staff audit with its filter
// by employee and by Uruguay's days, its pages and its refusals.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { recordAudit } from '../../src/audit/record.ts';
import { desk, deskStaff } from '../../src/messages/es.ts';
import { createStaff } from '../../src/staff/accounts.ts';
import { disableStaff, StaffAdminError, staffAudit } from '../../src/staff/admin.ts';
import { escapeHtml } from '../../src/views/html.ts';
import { deskStaffLinks } from '../../src/views/pages/desk-staff.ts';
import {
  buildTestApp,
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';
import {
  createEnrolledStaff,
  type EnrolledStaff,
  FORM_HEADERS,
  logInStaff,
  STAFF_PASSWORD,
  totpNow,
} from '../helpers/desk.ts';

/** A catalogue text as the page shows it (escaped as the views do). */
const shown = (value: string) => escapeHtml(value);

/** The enrolment link a page hands over, and its token. */
function linkOf(page: LightMyRequestResponse): { link: string; token: string } {
  const link = /<code id="link-de-alta">([^<]+)<\/code>/.exec(page.body)?.[1];
  assert.ok(link, 'the page shows the enrolment link');
  const token = new URL(link).searchParams.get('token');
  assert.ok(token);
  return { link, token };
}

/** The times (ISO) of the audit table's rows, in the order shown. */
const rowTimes = (page: LightMyRequestResponse) =>
  [...page.body.matchAll(/<td class="desk-time"><time datetime="([^"]+)">/g)].map(
    (m) => m[1] as string,
  );

/** The tbody rows of the audit table, as text cells. */
function rowCells(page: LightMyRequestResponse): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(page.body)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] as string).matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) =>
      (cell[1] as string)
        .replace(/<span class="desk-cell-note">/g, ' | ')
        .replace(/<[^>]+>/g, '')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

describe(`the desk's staff audit and staff accounts (${databaseLabel})`, () => {
  let database: TestDatabase;
  let t: TestApp;
  let admin: EnrolledStaff;
  /** Every enrolment token a page showed, to prove none reached the audit. */
  const tokensSeen: string[] = [];
  /** Every TOTP code typed, likewise. */
  const codesTyped: string[] = [];

  before(async () => {
    database = await createTestDatabase();
    t = await buildTestApp({ database });
    admin = await createEnrolledStaff(t, 'admin', { name: 'Ana Administradora' });
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
  const get = (url: string, cookie?: string) =>
    send({ method: 'GET', url, ...(cookie ? { headers: { cookie } } : {}) });
  const post = (url: string, fields: Record<string, string>, cookie?: string) =>
    send({
      method: 'POST',
      url,
      headers: cookie ? { ...FORM_HEADERS, cookie } : FORM_HEADERS,
      payload: new URLSearchParams(fields).toString(),
    });
  const logIn = async (who: EnrolledStaff) => {
    const cookie = await logInStaff(t, who);
    codesTyped.push(totpNow(t, who.key));
    return cookie;
  };
  /** A login that must fail, as the desk answers it. */
  const loginStatus = async (
    who: { email: string; key: Uint8Array },
    password = STAFF_PASSWORD,
  ) => {
    t.clock.advance(30_000);
    const response = await post('/mesa/ingresar', {
      email: who.email,
      password,
      code: totpNow(t, who.key),
    });
    return response.statusCode;
  };
  const statusOf = async (id: number) =>
    (
      await t.db
        .selectFrom('staff_users')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;
  const lastEvent = async (action: string) =>
    t.db
      .selectFrom('audit_events')
      .selectAll()
      .where('type', '=', 'staff_action')
      .where(sql<string>`detail ->> 'action'`, '=', action)
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();

  it('lets each role in only where it may: anonymous to the login, desk refused, supervisor the audit, admin everything', async () => {
    const deskUser = await createEnrolledStaff(t, 'desk');
    const supervisor = await createEnrolledStaff(t, 'supervisor');
    const target = await createEnrolledStaff(t, 'desk');
    const cookies = {
      desk: await logIn(deskUser),
      supervisor: await logIn(supervisor),
      admin: await logIn(admin),
    };
    const targetId = String(target.staff.id);
    const routes: Array<{ method: 'GET' | 'POST'; url: string; body?: Record<string, string> }> = [
      { method: 'GET', url: '/mesa/auditoria' },
      { method: 'GET', url: '/mesa/personal' },
      {
        method: 'POST',
        url: '/mesa/personal',
        body: { name: 'Nuevo Empleado', email: 'matriz@example.org', role: 'desk' },
      },
      { method: 'POST', url: '/mesa/personal/desactivar', body: { id: targetId } },
      { method: 'POST', url: '/mesa/personal/reactivar', body: { id: targetId } },
      { method: 'POST', url: '/mesa/personal/segundo-factor', body: { id: targetId } },
    ];
    const call = (route: (typeof routes)[number], cookie?: string) =>
      route.method === 'GET' ? get(route.url, cookie) : post(route.url, route.body ?? {}, cookie);

    for (const route of routes) {
      const anonymous = await call(route);
      assert.equal(anonymous.statusCode, 303, `anonymous ${route.method} ${route.url}`);
      assert.equal(anonymous.headers.location, '/mesa/ingresar');

      const asDesk = await call(route, cookies.desk);
      assert.equal(asDesk.statusCode, 403, `desk ${route.method} ${route.url}`);
      assert.ok(asDesk.body.includes(shown(desk.forbidden)));

      const asSupervisor = await call(route, cookies.supervisor);
      const supervisorMay = route.method === 'GET' && route.url === '/mesa/auditoria';
      assert.equal(
        asSupervisor.statusCode,
        supervisorMay ? 200 : 403,
        `supervisor ${route.method} ${route.url}`,
      );

      const asAdmin = await call(route, cookies.admin);
      const expected = route.url === '/mesa/personal/reactivar' ? 303 : 200;
      assert.equal(asAdmin.statusCode, expected, `admin ${route.method} ${route.url}`);
    }
    // Refused roles changed nothing; the admin's first posts only asked to confirm.
    assert.equal(await statusOf(target.staff.id), 'active');
    const forged = await post(
      '/mesa/personal/desactivar',
      { id: targetId, confirmar: 'si' },
      cookies.supervisor,
    );
    assert.equal(forged.statusCode, 403);
    assert.equal(await statusOf(target.staff.id), 'active');
    assert.equal(await loginStatus(target), 303, 'the target still logs in');
  });

  it('links the home to these pages by role', () => {
    assert.equal(deskStaffLinks('desk'), '');
    const supervisor = String(deskStaffLinks('supervisor'));
    assert.ok(supervisor.includes('href="/mesa/auditoria"'));
    assert.ok(!supervisor.includes('href="/mesa/personal"'));
    const forAdmin = String(deskStaffLinks('admin'));
    assert.ok(forAdmin.includes('href="/mesa/auditoria"'));
    assert.ok(forAdmin.includes('href="/mesa/personal"'));
  });

  it('creates a staff account from the page and hands over a link that opens the enrolment', async () => {
    const cookie = await logIn(admin);
    const list = await get('/mesa/personal', cookie);
    assert.equal(list.statusCode, 200);
    assert.ok(list.body.includes(shown(admin.name)));
    assert.match(
      list.body,
      /<form method="post" action="\/mesa\/personal"[^>]*>\s*<input type="hidden" name="_csrf"/,
    );

    const created = await post(
      '/mesa/personal',
      { name: '  Bruno   Díaz ', email: 'Bruno.Diaz@Example.org', role: 'supervisor' },
      cookie,
    );
    assert.equal(created.statusCode, 200, created.body);
    assert.ok(created.body.includes(shown(deskStaff.createdTitle)));
    assert.ok(created.body.includes('bruno.diaz@example.org'));
    const { link, token } = linkOf(created);
    tokensSeen.push(token);
    assert.ok(link.startsWith(`${t.deps.config.publicUrl}/mesa/alta?token=`));

    const staff = await t.db
      .selectFrom('staff_users')
      .selectAll()
      .where('email', '=', 'bruno.diaz@example.org')
      .executeTakeFirstOrThrow();
    assert.equal(staff.name, 'Bruno Díaz');
    assert.equal(staff.role, 'supervisor');
    assert.equal(staff.created_by, `staff:${admin.staff.id}`);

    // The link, opened in another browser, leads to the enrolment form.
    const opened = await get(new URL(link).pathname + new URL(link).search);
    assert.equal(opened.statusCode, 303);
    assert.equal(opened.headers.location, '/mesa/alta');
    const form = await get('/mesa/alta', cookieFrom(opened));
    assert.equal(form.statusCode, 200);
    assert.ok(form.body.includes(shown('Bruno Díaz')));
    assert.ok(form.body.includes(shown(desk.enrolTitle)));

    const event = await lastEvent('staff_created');
    assert.equal(event.actor_kind, 'staff');
    assert.equal(event.actor_id, String(admin.staff.id));
    assert.equal(event.channel, 'desk');
    assert.deepEqual(event.detail, {
      action: 'staff_created',
      role: 'admin',
      target_staff_id: staff.id,
      target_role: 'supervisor',
    });

    // The list shows the account as waiting for its enrolment.
    const after = await get('/mesa/personal', cookie);
    assert.ok(after.body.includes(shown('Bruno Díaz')));
    assert.ok(after.body.includes(shown(deskStaff.notEnrolled)));
  });

  it('refuses a new account with wrong fields (400, every field at once) or a taken email (409)', async () => {
    const cookie = await logIn(admin);
    const wrong = await post(
      '/mesa/personal',
      { name: '', email: 'no-es-un-email', role: 'jefe' },
      cookie,
    );
    assert.equal(wrong.statusCode, 400);
    for (const message of [deskStaff.nameInvalid, deskStaff.emailInvalid, deskStaff.roleInvalid])
      assert.ok(wrong.body.includes(shown(message)), message);
    assert.ok(wrong.body.includes('value="no-es-un-email"'), 'the typed email is shown again');

    const taken = await post(
      '/mesa/personal',
      { name: 'Otra Ana', email: admin.email.toUpperCase(), role: 'desk' },
      cookie,
    );
    assert.equal(taken.statusCode, 409);
    assert.ok(taken.body.includes(shown(deskStaff.emailTaken)));
    assert.ok(taken.body.includes('value="Otra Ana"'));
  });

  it('disables an account after a confirmation: its sessions end and its login fails; enabling lets it back', async () => {
    const cookie = await logIn(admin);
    const worker = await createEnrolledStaff(t, 'desk', { name: 'Carla Suárez' });
    const workerCookie = await logIn(worker);
    assert.equal((await get('/mesa', workerCookie)).statusCode, 200);

    const confirm = await post(
      '/mesa/personal/desactivar',
      { id: String(worker.staff.id) },
      cookie,
    );
    assert.equal(confirm.statusCode, 200);
    assert.ok(confirm.body.includes(shown(deskStaff.confirmDisable('Carla Suárez'))));
    assert.match(confirm.body, /name="confirmar" value="si"/);
    assert.equal(await statusOf(worker.staff.id), 'active', 'asking is not doing');

    const done = await post(
      '/mesa/personal/desactivar',
      { id: String(worker.staff.id), confirmar: 'si' },
      cookie,
    );
    assert.equal(done.statusCode, 303);
    const notice = await get(String(done.headers.location), cookie);
    assert.ok(notice.body.includes(shown(deskStaff.disabledDone('Carla Suárez'))));
    assert.equal(await statusOf(worker.staff.id), 'disabled');

    const sessions = await t.db
      .selectFrom('staff_sessions')
      .select('id_hash')
      .where('staff_id', '=', worker.staff.id)
      .execute();
    assert.equal(sessions.length, 0);
    const ended = await get('/mesa', workerCookie);
    assert.equal(ended.statusCode, 303);
    assert.equal(ended.headers.location, '/mesa/ingresar?vencida');
    assert.equal(await loginStatus(worker), 401);

    const event = await lastEvent('staff_disabled');
    assert.equal(event.actor_id, String(admin.staff.id));
    assert.equal((event.detail as Record<string, unknown>).target_staff_id, worker.staff.id);

    const enabled = await post('/mesa/personal/reactivar', { id: String(worker.staff.id) }, cookie);
    assert.equal(enabled.statusCode, 303);
    const enabledNotice = await get(String(enabled.headers.location), cookie);
    assert.ok(enabledNotice.body.includes(shown(deskStaff.enabledDone('Carla Suárez'))));
    assert.equal(await loginStatus(worker), 303);
    assert.equal((await lastEvent('staff_enabled')).actor_id, String(admin.staff.id));
  });

  it('never lets an admin disable or reset their own account (409), nor act on an unknown one (404)', async () => {
    const cookie = await logIn(admin);
    const self = String(admin.staff.id);
    const disable = await post('/mesa/personal/desactivar', { id: self, confirmar: 'si' }, cookie);
    assert.equal(disable.statusCode, 409);
    assert.ok(disable.body.includes(shown(deskStaff.selfDisable)));
    const reset = await post(
      '/mesa/personal/segundo-factor',
      { id: self, confirmar: 'si' },
      cookie,
    );
    assert.equal(reset.statusCode, 409);
    assert.ok(reset.body.includes(shown(deskStaff.selfReset)));
    assert.equal(await statusOf(admin.staff.id), 'active');
    assert.equal((await get('/mesa', cookie)).statusCode, 200, 'the admin is still in');

    for (const id of ['999999', 'abc', '']) {
      const unknown = await post('/mesa/personal/desactivar', { id, confirmar: 'si' }, cookie);
      assert.equal(unknown.statusCode, 404, `id "${id}"`);
      assert.ok(unknown.body.includes(shown(deskStaff.staffNotFound)));
    }
  });

  it('resets a second factor: sessions end, the old password, code and recovery codes fail, the new link enrols again', async () => {
    const cookie = await logIn(admin);
    const worker = await createEnrolledStaff(t, 'supervisor', { name: 'Diego Olivera' });
    const workerCookie = await logIn(worker);

    const confirm = await post(
      '/mesa/personal/segundo-factor',
      { id: String(worker.staff.id) },
      cookie,
    );
    assert.equal(confirm.statusCode, 200);
    assert.ok(confirm.body.includes(shown(deskStaff.confirmReset('Diego Olivera'))));

    const reset = await post(
      '/mesa/personal/segundo-factor',
      { id: String(worker.staff.id), confirmar: 'si' },
      cookie,
    );
    assert.equal(reset.statusCode, 200, reset.body);
    assert.ok(reset.body.includes(shown(deskStaff.resetTitle)));
    const { link, token } = linkOf(reset);
    tokensSeen.push(token);

    assert.equal((await get('/mesa', workerCookie)).statusCode, 303, 'the session ended');
    assert.equal(await loginStatus(worker), 401, 'the old key no longer logs in');
    t.clock.advance(30_000);
    const withRecovery = await post('/mesa/ingresar', {
      email: worker.email,
      password: STAFF_PASSWORD,
      code: worker.recoveryCodes[0] as string,
    });
    assert.equal(withRecovery.statusCode, 401, 'nor a recovery code');
    const row = await t.db
      .selectFrom('staff_users')
      .selectAll()
      .where('id', '=', worker.staff.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.totp_key, null);
    assert.equal(row.password_hash, null);
    assert.equal(row.enrolled_at, null);

    // The new link: a new key, a new password, then the login works.
    const opened = await get(new URL(link).pathname + new URL(link).search);
    const enrolCookie = cookieFrom(opened);
    const form = await get('/mesa/alta', enrolCookie);
    const keyText = /id="clave-manual">([A-Z2-7 ]+)</.exec(form.body)?.[1];
    assert.ok(keyText);
    const key = decodeBase32IgnorePadding(keyText.replaceAll(' ', ''));
    const newPassword = 'otra-clave-de-mesa-2027';
    const enrolled = await post(
      '/mesa/alta',
      { password: newPassword, passwordConfirmation: newPassword, code: totpNow(t, key) },
      enrolCookie,
    );
    assert.equal(enrolled.statusCode, 200, enrolled.body);
    assert.equal(await loginStatus({ email: worker.email, key }, newPassword), 303);
    assert.equal(await loginStatus(worker), 401, 'the old factor stays refused');

    const event = await lastEvent('staff_factor_reset');
    assert.equal(event.actor_id, String(admin.staff.id));
    assert.equal((event.detail as Record<string, unknown>).target_staff_id, worker.staff.id);
  });

  it('gives an account that never enrolled a new link at once, and refuses one for a disabled account', async () => {
    const cookie = await logIn(admin);
    const { staff, enrolment } = await createStaff(t.db, t.clock, {
      email: `sin-alta-${Date.now()}@example.org`,
      name: 'Elena Sin Alta',
      role: 'desk',
      createdBy: 'test',
    });
    const fresh = await post('/mesa/personal/segundo-factor', { id: String(staff.id) }, cookie);
    assert.equal(fresh.statusCode, 200);
    const { token } = linkOf(fresh);
    tokensSeen.push(token, enrolment.token);
    // The first link was withdrawn by the new one.
    const old = await get(`/mesa/alta?token=${enrolment.token}`);
    assert.equal((await get('/mesa/alta', cookieFrom(old))).statusCode, 400);

    await post('/mesa/personal/desactivar', { id: String(staff.id), confirmar: 'si' }, cookie);
    const refused = await post('/mesa/personal/segundo-factor', { id: String(staff.id) }, cookie);
    assert.equal(refused.statusCode, 409);
    assert.ok(refused.body.includes(shown(deskStaff.resetDisabled)));
  });

  it('never disables the last active admin, even two admins disabling each other at once', async () => {
    // A database of its own, where the admins are known.
    const own = await createTestDatabase();
    try {
      const clock = new FakeClock();
      const make = async (role: 'admin' | 'desk', n: number) =>
        (
          await createStaff(own.db, clock, {
            email: `${role}${n}@example.org`,
            name: `${role} ${n}`,
            role,
            createdBy: 'test',
          })
        ).staff;
      const [first, second, clerk] = [
        await make('admin', 1),
        await make('admin', 2),
        await make('desk', 3),
      ];
      // Only the service can be asked this (the pages never offer an admin their own account).
      await disableStaff(own.db, clock, { staffId: second.id, byStaffId: first.id });
      await assert.rejects(
        disableStaff(own.db, clock, { staffId: first.id, byStaffId: clerk.id }),
        (error: unknown) => error instanceof StaffAdminError && error.code === 'LAST_ADMIN',
      );

      await own.db.updateTable('staff_users').set({ status: 'active' }).execute();
      // Two connections open beforehand (on PostgreSQL), so the two transactions overlap.
      await Promise.all([1, 2].map(() => sql`select pg_sleep(0.05)`.execute(own.db)));
      const outcomes = await Promise.allSettled([
        disableStaff(own.db, clock, { staffId: second.id, byStaffId: first.id }),
        disableStaff(own.db, clock, { staffId: first.id, byStaffId: second.id }),
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.status).sort(),
        ['fulfilled', 'rejected'],
        'one of the two is refused',
      );
      const active = await own.db
        .selectFrom('staff_users')
        .select('id')
        .where('role', '=', 'admin')
        .where('status', '=', 'active')
        .execute();
      assert.equal(active.length, 1);
    } finally {
      await own.close();
    }
  });

  it('shows the audit filtered by employee and by Uruguay days, 50 rows a page, with member and identity check', async () => {
    const supervisor = await createEnrolledStaff(t, 'supervisor', { name: 'Fabiana Ruiz' });
    const clerk = await createEnrolledStaff(t, 'desk', { name: 'Gonzalo Pérez' });
    const member = await createMember(t.db, { memberNumber: '771234' });
    // Move the clock to 2030-03-10 09:00 in Montevideo (12:00 UTC): days no other test uses.
    t.clock.advance(Date.parse('2030-03-10T12:00:00Z') - t.clock.now().getTime());
    const visit = await t.db
      .insertInto('staff_visits')
      .values({
        staff_id: clerk.staff.id,
        member_id: member.id,
        document_kind: 'pasaporte',
        note: 'Pasaporte vigente',
        created_at: t.clock.now(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const clerkAction = (action: string, detail: Record<string, string | number> = {}) =>
      recordAudit(t.db, t.clock, {
        type: 'staff_action',
        outcome: 'ok',
        channel: 'desk',
        memberId: member.id,
        ip: '10.1.2.3',
        actor: { kind: 'staff', id: String(clerk.staff.id) },
        detail: { action, role: 'desk', visit_id: visit.id, ...detail },
      });
    // Day 1 (10 March): 60 member actions by the clerk, a minute apart.
    for (let i = 0; i < 60; i++) {
      await clerkAction(
        i === 0 ? 'identity_checked' : 'member_viewed',
        i === 0 ? { document_kind: 'cedula' } : {},
      );
      t.clock.advance(60_000);
    }
    // 23:30 in Montevideo on 10 March is 02:30 UTC on the 11th: still day 1.
    t.clock.advance(Date.parse('2030-03-11T02:30:00Z') - t.clock.now().getTime());
    await clerkAction('contact_updated', { kind: 'email', reason: 'Cambio de proveedor' });
    // Day 2 (11 March, 10:00 in Montevideo): the supervisor logs in, a login fails.
    t.clock.advance(Date.parse('2030-03-11T13:00:00Z') - t.clock.now().getTime());
    const cookie = await logIn(supervisor);
    assert.equal(await loginStatus({ email: 'nadie@example.org', key: clerk.key }), 401);

    const clerkDay1 = await get(
      `/mesa/auditoria?empleado=${clerk.staff.id}&desde=2030-03-10&hasta=2030-03-10`,
      cookie,
    );
    assert.equal(clerkDay1.statusCode, 200, clerkDay1.body);
    const times = rowTimes(clerkDay1);
    assert.equal(times.length, 50, 'a page has 50 rows');
    assert.equal(
      times[0],
      '2030-03-11T02:30:00.000Z',
      'newest first; 23:30 local is still the 10th',
    );
    assert.deepEqual([...times].sort().reverse(), times);
    const first = rowCells(clerkDay1)[0] as string[];
    assert.deepEqual(first, [
      '10/03/2030, 23:30:00',
      'Gonzalo Pérez',
      desk.roles.desk,
      `${deskStaff.actions.contact_updated} | ${deskStaff.contactKind('email')}`,
      '771234',
      deskStaff.documentKinds.pasaporte,
      '10.1.2.3',
      deskStaff.outcomes.ok,
    ]);
    // Typed by hand (a browser without a date picker), the day reads the same.
    const typed = await get(
      `/mesa/auditoria?empleado=${clerk.staff.id}&desde=10/03/2030&hasta=10/3/2030`,
      cookie,
    );
    assert.deepEqual(rowTimes(typed), times);
    const older = /<a [^>]*rel="next" href="([^"]+)"/.exec(clerkDay1.body)?.[1];
    assert.ok(older, 'a link to the older rows');
    assert.doesNotMatch(clerkDay1.body, /rel="prev"/);

    const page2 = await get(older.replaceAll('&amp;', '&'), cookie);
    assert.equal(page2.statusCode, 200);
    const rest = rowCells(page2);
    assert.equal(rest.length, 11);
    const oldest = rest.at(-1) as string[];
    assert.equal(oldest[0], '10/03/2030, 09:00:00');
    assert.equal(oldest[3], deskStaff.actions.identity_checked);
    assert.equal(oldest[5], deskStaff.documentKinds.cedula, 'the kind the event recorded');
    assert.match(page2.body, /rel="prev"/);
    assert.doesNotMatch(page2.body, /rel="next"/);

    // Day 2 for everyone: the supervisor's login and the failed one, nothing of day 1.
    const day2 = await get('/mesa/auditoria?desde=2030-03-11&hasta=2030-03-11', cookie);
    const day2Rows = rowCells(day2);
    assert.deepEqual(
      day2Rows.map((row) => [row[1], row[3], row[7]]),
      [
        [deskStaff.unknownEmployee, deskStaff.failedLogin, deskStaff.outcomes.failed],
        ['Fabiana Ruiz', deskStaff.actions.staff_login, deskStaff.outcomes.ok],
      ],
    );
    // By employee, the failed login (which names nobody) is left out.
    const supervisorDay2 = await get(
      `/mesa/auditoria?empleado=${supervisor.staff.id}&desde=2030-03-11`,
      cookie,
    );
    assert.deepEqual(
      rowCells(supervisorDay2).map((row) => row[3]),
      [deskStaff.actions.staff_login],
    );
    // A day without events says so.
    const empty = await get('/mesa/auditoria?desde=2030-03-12&hasta=2030-03-12', cookie);
    assert.equal(empty.statusCode, 200);
    assert.ok(empty.body.includes(shown(deskStaff.noEvents)));
  });

  it('answers a bad filter with the form and a Spanish message (400), never an error page', async () => {
    const cookie = await logIn(admin);
    const cases: Array<[string, string]> = [
      ['desde=2026-02-30', deskStaff.dateInvalid],
      ['hasta=ayer', deskStaff.dateInvalid],
      ['desde=1999-12-31', deskStaff.dateInvalid],
      ['desde=2026-11-25&hasta=2026-11-24', deskStaff.rangeInvalid],
      ['empleado=abc', deskStaff.employeeInvalid],
      ['empleado=999999', deskStaff.employeeInvalid],
      ['empleado=1&empleado=2', deskStaff.employeeInvalid],
      ['pagina=0', deskStaff.pageInvalid],
      ['pagina=-1', deskStaff.pageInvalid],
      ['pagina=99999999999', deskStaff.pageInvalid],
      [`desde=${'9'.repeat(5000)}`, deskStaff.dateInvalid],
    ];
    for (const [query, message] of cases) {
      const response = await get(`/mesa/auditoria?${query}`, cookie);
      assert.equal(response.statusCode, 400, query);
      assert.ok(response.body.includes(shown(message)), `${query}: ${message}`);
      assert.ok(response.body.includes('id="empleado"'), `${query}: the form again`);
      assert.doesNotMatch(response.body, /<table/);
    }
  });

  it('keeps no staff password, second-factor code or enrolment token in the audit', async () => {
    assert.ok(tokensSeen.length >= 3 && codesTyped.length >= 3);
    const rows = await t.db
      .selectFrom('audit_events')
      .select(['detail', 'user_agent'])
      .where('type', '=', 'staff_action')
      .execute();
    const text = JSON.stringify(rows);
    for (const secret of [STAFF_PASSWORD, 'otra-clave-de-mesa-2027', ...tokensSeen])
      assert.ok(!text.includes(secret), 'a secret reached the audit');
    for (const row of rows) {
      const detail = row.detail as Record<string, unknown>;
      for (const [field, value] of Object.entries(detail)) {
        assert.doesNotMatch(field, /password|token|code|totp|secret|key/i, field);
        assert.ok(!codesTyped.includes(String(value)), `${field}: a second-factor code`);
      }
    }
    // And the service reads every kind of row without failing.
    const all = await staffAudit(t.db, { limit: 1000, offset: 0 });
    assert.ok(all.some((row) => row.action === 'staff_factor_reset'));
    assert.ok(all.some((row) => row.actorKind === 'anonymous'));
  });
});
