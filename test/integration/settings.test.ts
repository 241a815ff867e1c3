// The member home's services ("Mi cuenta"), called directly as the routes
// will call them: change the password, the sessions, the recent activity
// and the contact data. Real database, the app's FlowDeps, the FakeClock.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordAudit } from '../../src/audit/record.ts';
import { keyedHash, openText } from '../../src/auth/secrets.ts';
import { createSession, type SessionContext, validateSession } from '../../src/auth/sessions.ts';
import type { OutgoingMessage } from '../../src/courier/message.ts';
import { OUTBOX_SEAL } from '../../src/courier/outbox.ts';
import type { Member } from '../../src/db/schema.ts';
import type { RequestContext } from '../../src/flows/context.ts';
import { FlowError } from '../../src/flows/errors.ts';
import { logIn } from '../../src/flows/login/service.ts';
import {
  changePassword,
  closeOtherSessions,
  closeSession,
  confirmContactByCode,
  confirmContactByLink,
  type MemberAuth,
  maskedContacts,
  memberSessions,
  peekContactLink,
  recentActivity,
  requestContactChange,
} from '../../src/flows/settings/service.ts';
import {
  buildTestApp,
  createMember,
  databaseLabel,
  FAST_HASHER,
  TEST_SECRET,
  type TestApp,
} from '../helper.ts';

const CHROME_ANDROID =
  'Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36';
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const FIREFOX_WINDOWS =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0';

const WEB: RequestContext = {
  channel: 'web',
  ip: '203.0.113.7',
  userAgent: CHROME_ANDROID,
  deviceToken: null,
};
const OLD_PASSWORD = 'clave2026';
const NEW_PASSWORD = 'nueva7x';
const CURRENT_WRONG = 'La contraseña actual no es correcta.';

/** Whether `promise` fails with a FlowError of `code`; answers the error. */
async function refusedWith(promise: Promise<unknown>, code: string): Promise<FlowError> {
  let caught: unknown;
  await assert.rejects(promise, (error) => {
    caught = error;
    return error instanceof FlowError && error.code === code;
  });
  return caught as FlowError;
}

describe(`the member home (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(() => t.close());

  /** A session for the member, as a login would open it; answers its token and the auth a route passes. */
  async function openSession(
    member: Member,
    context: SessionContext = { kind: 'web', ip: WEB.ip, userAgent: WEB.userAgent },
  ): Promise<{ token: string; auth: MemberAuth }> {
    const { token, session } = await createSession(
      t.db,
      t.clock,
      t.deps.flow.sessionPolicy,
      member.id,
      context,
    );
    const fresh = await t.db
      .selectFrom('members')
      .selectAll()
      .where('id', '=', member.id)
      .executeTakeFirstOrThrow();
    return { token, auth: { member: fresh, session } };
  }

  const isLive = async (token: string) =>
    (await validateSession(t.db, t.clock, t.deps.flow.sessionPolicy, token)) !== null;

  /** The outbox rows queued for a member, opened. */
  async function outboxOf(memberId: number) {
    const rows = await t.db
      .selectFrom('outbox')
      .select(['template', 'recipient', 'payload', 'channel'])
      .where('member_id', '=', memberId)
      .orderBy('id')
      .execute();
    return rows.map((row) => ({
      ...row,
      message: JSON.parse(
        openText(TEST_SECRET, OUTBOX_SEAL, row.payload as string),
      ) as OutgoingMessage,
    }));
  }

  /** The content of a queued message (failing the test when there is none). */
  function contentOf(message: { message: OutgoingMessage } | undefined) {
    assert.ok(message, 'no such message was queued');
    const { content } = message.message;
    return {
      text: 'text' in content ? content.text : content.body,
      subject: 'subject' in content ? content.subject : null,
    };
  }

  const memberRow = (id: number) =>
    t.db.selectFrom('members').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  const change = (auth: MemberAuth, currentPassword: string, password = NEW_PASSWORD) =>
    changePassword(
      t.deps.flow,
      auth,
      { currentPassword, password, passwordConfirmation: password },
      WEB,
    );

  describe('changing the password', () => {
    it('refuses a wrong current password with a field message, counted as a failed login', async () => {
      const member = await createMember(t.db);
      const { auth } = await openSession(member);
      const error = await refusedWith(change(auth, 'wrong1234'), 'CURRENT_PASSWORD_WRONG');
      assert.deepEqual(error.fields, { currentPassword: CURRENT_WRONG });
      const lockout = await t.db
        .selectFrom('account_lockouts')
        .select('failures')
        .where('document_hash', '=', keyedHash(TEST_SECRET, 'document', member.document))
        .executeTakeFirstOrThrow();
      assert.equal(lockout.failures, 1);
      const row = await memberRow(member.id);
      assert.equal(row.password_hash, member.password_hash, 'the password is unchanged');
    });

    it('after five wrong current passwords makes the member wait, here and at the login, like failed logins', async () => {
      const member = await createMember(t.db);
      const { auth } = await openSession(member);
      for (let i = 0; i < 5; i += 1)
        await refusedWith(change(auth, `wrong${i}x`), 'CURRENT_PASSWORD_WRONG');
      const waiting = await refusedWith(change(auth, OLD_PASSWORD), 'LOGIN_THROTTLED');
      assert.ok((waiting.retryAfterSeconds ?? 0) > 0);
      await refusedWith(
        logIn(
          t.deps.flow,
          { document: member.document, password: OLD_PASSWORD, captcha: undefined },
          WEB,
        ),
        'LOGIN_THROTTLED',
      );
      const refused = await t.db
        .selectFrom('audit_events')
        .select('member_id')
        .where('type', '=', 'throttled')
        .where('member_id', '=', member.id)
        .execute();
      assert.equal(refused.length, 1, 'the refusal in the home is audited on the member');

      t.clock.advanceMinutes(2);
      const renewed = await change(auth, OLD_PASSWORD);
      assert.ok(await isLive(renewed.token), 'once the wait is over, the right password works');
    });

    it('refuses a new password that breaks the policy, before it checks the current one', async () => {
      const member = await createMember(t.db);
      const { auth } = await openSession(member);
      const error = await refusedWith(
        changePassword(
          t.deps.flow,
          auth,
          { currentPassword: '', password: 'abc', passwordConfirmation: 'abd' },
          WEB,
        ),
        'PASSWORD_REJECTED',
      );
      assert.equal(error.fields.currentPassword, 'Ingrese su contraseña actual.');
      assert.ok(error.fields.password || error.fields.passwordConfirmation);
      await refusedWith(change(auth, 'wrong1234', member.document), 'PASSWORD_REJECTED');
      const lockout = await t.db
        .selectFrom('account_lockouts')
        .select('failures')
        .where('document_hash', '=', keyedHash(TEST_SECRET, 'document', member.document))
        .executeTakeFirst();
      assert.equal(lockout, undefined, 'no failure was counted');
    });

    it('answers a form left empty with the fields to fill in, not with the password rules', async () => {
      const member = await createMember(t.db);
      const { auth } = await openSession(member);
      const error = await refusedWith(
        changePassword(
          t.deps.flow,
          auth,
          { currentPassword: '', password: '', passwordConfirmation: '' },
          WEB,
        ),
        'VALIDATION_FAILED',
      );
      assert.equal(error.fields.currentPassword, 'Ingrese su contraseña actual.');
      assert.equal(error.fields.password, 'Ingrese una nueva contraseña.');
      assert.equal(error.fields.passwordConfirmation, 'Repita la nueva contraseña.');
    });

    it('with the right current password ends every other session, gives this one a new id that works, and queues the notice', async () => {
      const member = await createMember(t.db);
      const current = await openSession(member);
      const otherWeb = await openSession(member, {
        kind: 'web',
        ip: '198.51.100.9',
        userAgent: FIREFOX_WINDOWS,
      });
      const app = await openSession(member, { kind: 'api', ip: null, userAgent: 'okhttp/4.12' });
      const someoneElse = await openSession(await createMember(t.db));

      t.clock.advanceMinutes(5);
      const renewed = await change(current.auth, OLD_PASSWORD);

      assert.equal(renewed.kind, 'web');
      assert.notEqual(renewed.token, current.token);
      const found = await validateSession(t.db, t.clock, t.deps.flow.sessionPolicy, renewed.token);
      assert.equal(found?.member.id, member.id, 'the new id works');
      assert.notEqual(found?.session.public_id, current.auth.session.public_id);
      assert.equal(found?.session.ip, WEB.ip, 'the same place as the session it replaces');
      assert.ok(
        renewed.expiresAt <= current.auth.session.expires_at,
        'it ends no later than the session it replaces',
      );
      assert.equal(await isLive(current.token), false, 'the old id is dead');
      assert.equal(await isLive(otherWeb.token), false);
      assert.equal(await isLive(app.token), false);
      assert.equal(await isLive(someoneElse.token), true, "another member's session is untouched");

      const row = await memberRow(member.id);
      assert.ok(await FAST_HASHER.verify(row.password_hash as string, NEW_PASSWORD));
      const notices = (await outboxOf(member.id)).filter((m) => m.template === 'password-changed');
      assert.equal(notices.length, 1);
      assert.equal(notices[0]?.recipient, member.email);
      assert.match(contentOf(notices[0]).text, /desde su sesión en el Portal del Socio/);
      const audit = await t.db
        .selectFrom('audit_events')
        .select(['detail', 'actor_kind', 'actor_id'])
        .where('type', '=', 'password_set')
        .where('member_id', '=', member.id)
        .where('outcome', '=', 'ok')
        .executeTakeFirstOrThrow();
      assert.deepEqual(audit.detail, { via: 'settings' });
      assert.equal(audit.actor_kind, 'member');
      assert.equal(audit.actor_id, String(member.id));
    });

    it('changes nothing when the session was closed meanwhile (from another device)', async () => {
      const member = await createMember(t.db);
      const { auth } = await openSession(member);
      const other = await openSession(member);
      await closeSession(t.deps.flow, member.id, auth.session.public_id, WEB);
      await refusedWith(change(auth, OLD_PASSWORD), 'UNAUTHENTICATED');
      const row = await memberRow(member.id);
      assert.equal(row.password_hash, member.password_hash);
      assert.equal(await isLive(other.token), true);
    });
  });

  describe('the sessions', () => {
    it("lists the member's own sessions with device, browser and a masked address, the current one marked", async () => {
      const member = await createMember(t.db);
      const current = await openSession(member);
      await openSession(member, {
        kind: 'web',
        ip: '2001:db8:85a3::8a2e:370:7334',
        userAgent: SAFARI_IPHONE,
      });
      await openSession(member, { kind: 'api', ip: '::ffff:198.51.100.23', userAgent: null });
      const stranger = await openSession(await createMember(t.db));

      const sessions = await memberSessions(t.deps.flow, member.id, current.auth.session.public_id);
      assert.equal(sessions.length, 3);
      assert.deepEqual(
        sessions.filter((s) => s.current).map((s) => s.id),
        [current.auth.session.public_id],
      );
      const byBrowser = Object.fromEntries(sessions.map((s) => [s.browser, s]));
      assert.equal(byBrowser.Chrome?.device, 'Android');
      assert.equal(byBrowser.Chrome?.address, '203.0.*.*');
      assert.equal(byBrowser.Safari?.device, 'iPhone');
      assert.equal(byBrowser.Safari?.address, '2001:db8:…');
      assert.equal(byBrowser['App del Portal']?.device, 'Dispositivo desconocido');
      assert.equal(byBrowser['App del Portal']?.address, '198.51.*.*');
      for (const session of sessions) {
        assert.match(session.lastUsedAt, /^\d{4}-\d\d-\d\dT/);
        assert.match(session.lastUsed, /2026/);
      }
      const shown = JSON.stringify(sessions);
      assert.ok(!shown.includes(stranger.auth.session.public_id), "never another member's session");
      for (const secret of [current.token, current.auth.session.id_hash, '203.0.113.7', '8a2e'])
        assert.ok(!shown.includes(secret), `the list shows ${secret}`);
    });

    it("answers SESSION_NOT_FOUND for another member's session id, and ends nothing", async () => {
      const member = await createMember(t.db);
      const mine = await openSession(member);
      const stranger = await openSession(await createMember(t.db));
      await refusedWith(
        closeSession(t.deps.flow, member.id, stranger.auth.session.public_id, WEB),
        'SESSION_NOT_FOUND',
      );
      await refusedWith(
        closeSession(t.deps.flow, member.id, 'not-an-id', WEB),
        'SESSION_NOT_FOUND',
      );
      assert.equal(await isLive(stranger.token), true);
      assert.equal(await isLive(mine.token), true);
    });

    it('closes one of its own sessions, audited with the member as actor', async () => {
      const member = await createMember(t.db);
      const current = await openSession(member);
      const phone = await openSession(member, { kind: 'web', ip: null, userAgent: SAFARI_IPHONE });
      await closeSession(t.deps.flow, member.id, phone.auth.session.public_id, WEB);
      assert.equal(await isLive(phone.token), false);
      assert.equal(await isLive(current.token), true);
      const audit = await t.db
        .selectFrom('audit_events')
        .select(['actor_kind', 'detail'])
        .where('type', '=', 'session_closed')
        .where('member_id', '=', member.id)
        .executeTakeFirstOrThrow();
      assert.equal(audit.actor_kind, 'member');
      assert.deepEqual(audit.detail, { scope: 'one' });
    });

    it('closes all the other sessions, keeps this one, and says how many', async () => {
      const member = await createMember(t.db);
      const current = await openSession(member);
      const others = [await openSession(member), await openSession(member)];
      const stranger = await openSession(await createMember(t.db));
      const count = await closeOtherSessions(
        t.deps.flow,
        member.id,
        current.auth.session.id_hash,
        WEB,
      );
      assert.equal(count, 2);
      assert.equal(await isLive(current.token), true);
      for (const other of others) assert.equal(await isLive(other.token), false);
      assert.equal(await isLive(stranger.token), true);
    });
  });

  describe('the recent activity', () => {
    it("shows only the member's own events, newest first, in plain Spanish with Uruguay's time", async () => {
      const member = await createMember(t.db);
      const stranger = await createMember(t.db);
      const event = async (
        type: Parameters<typeof recordAudit>[2]['type'],
        outcome: 'ok' | 'failed' | 'refused',
        detail?: Record<string, string>,
        memberId = member.id,
      ) => {
        t.clock.advanceMinutes(1);
        await recordAudit(t.db, t.clock, {
          type: type as 'login',
          outcome,
          memberId,
          documentHash: keyedHash(TEST_SECRET, 'document', member.document),
          channel: 'web',
          ip: '203.0.113.7',
          userAgent: CHROME_ANDROID,
          ...(detail ? { detail } : {}),
        });
      };
      await event('login', 'failed');
      await event('throttled', 'refused');
      await event('link_sent', 'ok', { flow: 'recovery', via: 'email' });
      await event('code_sent', 'ok', { flow: 'recovery', via: 'sms' });
      await event('password_set', 'ok', { via: 'email' });
      await event('login', 'ok');
      await event('contact_changed', 'ok', { kind: 'mobile' });
      await event('session_closed', 'ok', { scope: 'one' });
      const closedAt = t.clock.now();
      await event('login', 'ok', undefined, stranger.id);

      const items = await recentActivity(t.deps.flow, member.id);
      assert.deepEqual(
        items.map((item) => item.text),
        [
          'Sesión cerrada',
          'Datos de contacto cambiados',
          'Ingreso correcto desde Chrome en Android',
          'Contraseña cambiada',
          'Código enviado por SMS',
          'Enlace enviado por email',
          'Espera por intentos fallidos',
          'Intento de ingreso fallido',
        ],
      );
      const newest = items[0];
      assert.ok(newest);
      assert.equal(newest.at, closedAt.toISOString());
      // Montevideo is UTC−3 (no summer time since 2015): 12:15 UTC is 9:15 a. m.
      const local = new Date(closedAt.getTime() - 3 * 3_600_000);
      const clock = `${local.getUTCHours() % 12 || 12}:${String(local.getUTCMinutes()).padStart(2, '0')}`;
      assert.ok(newest.when.includes(clock), `${newest.when} shows ${clock}`);
      assert.match(newest.when, /2026/);
      assert.equal(newest.device, 'Chrome en Android');
      const shown = JSON.stringify(items);
      for (const hidden of ['203.0.113.7', keyedHash(TEST_SECRET, 'document', member.document)])
        assert.ok(!shown.includes(hidden), `the activity shows ${hidden}`);
      assert.ok(!shown.includes('recovery'), 'no detail leaves');
    });

    it('shows at most the last 30 events', async () => {
      const member = await createMember(t.db);
      for (let i = 0; i < 35; i += 1) {
        t.clock.advance(1000);
        await recordAudit(t.db, t.clock, { type: 'logout', outcome: 'ok', memberId: member.id });
      }
      const items = await recentActivity(t.deps.flow, member.id);
      assert.equal(items.length, 30);
      assert.equal(items[0]?.at, t.clock.now().toISOString());
    });
  });

  describe('the contact data', () => {
    it('shows the email and the mobile masked', () => {
      assert.deepEqual(maskedContacts({ email: 'ana@example.org', mobile: '+59899111222' }), {
        email: 'a***@example.org',
        mobile: '09*****222',
      });
      assert.deepEqual(maskedContacts({ email: null, mobile: null }), {
        email: null,
        mobile: null,
      });
    });

    it('refuses a bad value or a wrong current password with field messages, and sends nothing', async () => {
      const member = await createMember(t.db, { mobile: '+59899111222' });
      const { auth } = await openSession(member);
      const ask = (kind: string, value: string, currentPassword = OLD_PASSWORD) =>
        requestContactChange(t.deps.flow, auth, { kind, value, currentPassword }, WEB);
      const cases: [string, string, string][] = [
        ['mobile', '12345', 'Ingrese un celular uruguayo, por ejemplo 099 123 456.'],
        ['mobile', '', 'Ingrese el nuevo número de celular.'],
        ['email', 'no-at-sign', 'Revise el email: debe tener la forma nombre@ejemplo.com.'],
        [
          'email',
          `${'a'.repeat(250)}@example.org`,
          'Revise el email: debe tener la forma nombre@ejemplo.com.',
        ],
        ['mobile', '099 111 222', 'Ese dato ya es el que tiene registrado.'],
      ];
      for (const [kind, value, message] of cases) {
        const error = await refusedWith(ask(kind, value), 'VALIDATION_FAILED');
        assert.equal(error.fields.value, message, `${kind} ${value}`);
      }
      const noKind = await refusedWith(ask('fax', '099 333 444', ''), 'VALIDATION_FAILED');
      assert.deepEqual(Object.keys(noKind.fields).sort(), ['currentPassword', 'kind']);
      const wrong = await refusedWith(
        ask('mobile', '099 333 444', 'wrong1234'),
        'CURRENT_PASSWORD_WRONG',
      );
      assert.deepEqual(wrong.fields, { currentPassword: CURRENT_WRONG });
      assert.deepEqual(await outboxOf(member.id), []);
    });

    it('sends a code to the new mobile, changes nothing until it is proven, refuses a wrong code, and tells the old number', async () => {
      const member = await createMember(t.db, { mobile: '+59899111222' });
      const { auth } = await openSession(member);
      const requested = await requestContactChange(
        t.deps.flow,
        auth,
        { kind: 'mobile', value: '+598 99 333 444', currentPassword: OLD_PASSWORD },
        WEB,
      );
      assert.deepEqual(requested, { kind: 'mobile', sentTo: '09*****444' });

      const [sent] = await outboxOf(member.id);
      assert.equal(sent?.recipient, '+59899333444', 'the code goes to the new number');
      assert.equal(sent?.template, 'contact-code');
      const body = contentOf(sent).text;
      const code = /\d{6}/.exec(body)?.[0] as string;
      assert.ok(code);
      assert.equal((await memberRow(member.id)).mobile, '+59899111222', 'nothing changes yet');
      const stored = await t.db
        .selectFrom('one_time_secrets')
        .select(['purpose', 'payload', 'secret_hash'])
        .where('member_id', '=', member.id)
        .executeTakeFirstOrThrow();
      assert.equal(stored.purpose, 'contact');
      assert.ok(!String(stored.payload).includes('99333444'), 'the new number is stored sealed');
      assert.ok(!stored.secret_hash.includes(code));

      const wrongCode = code === '000000' ? '111111' : '000000';
      const confirm = (c: string) =>
        confirmContactByCode(t.deps.flow, auth, { kind: 'mobile', code: c }, WEB);
      await refusedWith(confirm(wrongCode), 'CODE_INVALID');
      assert.equal((await memberRow(member.id)).mobile, '+59899111222');

      const contacts = await confirm(code);
      assert.equal(contacts.mobile, '09*****444');
      assert.equal((await memberRow(member.id)).mobile, '+59899333444');
      const notice = (await outboxOf(member.id)).find((m) => m.template === 'contact-changed');
      assert.equal(notice?.channel, 'sms');
      assert.equal(notice?.recipient, '+59899111222', 'the old number is told');
      assert.match(contentOf(notice).text, /datos de contacto de su cuenta fueron modificados/);
      await refusedWith(confirm(code), 'CODE_INVALID');
      const audit = await t.db
        .selectFrom('audit_events')
        .select(['detail', 'actor_kind'])
        .where('type', '=', 'contact_changed')
        .where('member_id', '=', member.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(audit.detail, { kind: 'mobile' });
      assert.equal(audit.actor_kind, 'member');
    });

    it('kills an older pending change when a newer one is asked for', async () => {
      const member = await createMember(t.db, { mobile: '+59899111222' });
      const { auth } = await openSession(member);
      const ask = (value: string) =>
        requestContactChange(
          t.deps.flow,
          auth,
          { kind: 'mobile', value, currentPassword: OLD_PASSWORD },
          WEB,
        );
      await ask('099 444 001');
      await ask('099 444 002');
      const [first, second] = await outboxOf(member.id);
      const codeOf = (m: typeof first) => /\d{6}/.exec(contentOf(m).text)?.[0] as string;
      if (codeOf(first) !== codeOf(second))
        await refusedWith(
          confirmContactByCode(t.deps.flow, auth, { kind: 'mobile', code: codeOf(first) }, WEB),
          'CODE_INVALID',
        );
      await confirmContactByCode(t.deps.flow, auth, { kind: 'mobile', code: codeOf(second) }, WEB);
      assert.equal((await memberRow(member.id)).mobile, '+59899444002');
    });

    it('proves a new email with a link sent to it, usable once, and tells the old email', async () => {
      const member = await createMember(t.db, { email: 'ana@example.org' });
      const { auth } = await openSession(member);
      const requested = await requestContactChange(
        t.deps.flow,
        auth,
        { kind: 'email', value: ' Nueva.Ana@Example.ORG ', currentPassword: OLD_PASSWORD },
        WEB,
      );
      assert.deepEqual(requested, { kind: 'email', sentTo: 'n***@example.org' });
      const [sent] = await outboxOf(member.id);
      assert.equal(sent?.recipient, 'nueva.ana@example.org', 'the link goes to the new address');
      assert.equal(sent?.template, 'contact-link');
      const text = contentOf(sent).text;
      const link = /http\S+\/mi-cuenta\/contacto\/confirmar\?token=([A-Za-z0-9_-]{43})/.exec(text);
      assert.ok(link, text);
      assert.ok(link[0].startsWith(t.deps.flow.publicUrl));
      const token = link[1] as string;

      assert.deepEqual(await peekContactLink(t.deps.flow, token), { email: 'n***@example.org' });
      assert.deepEqual(
        await peekContactLink(t.deps.flow, token),
        { email: 'n***@example.org' },
        'opening the page uses nothing up',
      );
      assert.equal((await memberRow(member.id)).email, 'ana@example.org', 'nothing changes yet');

      const contacts = await confirmContactByLink(t.deps.flow, token, {
        ...WEB,
        userAgent: FIREFOX_WINDOWS,
      });
      assert.equal(contacts.email, 'n***@example.org');
      assert.equal((await memberRow(member.id)).email, 'nueva.ana@example.org');
      const notice = (await outboxOf(member.id)).find((m) => m.template === 'contact-changed');
      assert.equal(notice?.channel, 'email');
      assert.equal(notice?.recipient, 'ana@example.org', 'the old email is told');
      assert.equal(contentOf(notice).subject, 'Sus datos de contacto fueron modificados');
      await refusedWith(confirmContactByLink(t.deps.flow, token, WEB), 'CONTACT_LINK_INVALID');
      assert.equal(await peekContactLink(t.deps.flow, token), null);
    });

    it('lets an emailed link expire after 30 minutes, changing nothing', async () => {
      const member = await createMember(t.db, { email: 'ana2@example.org' });
      const { auth } = await openSession(member);
      await requestContactChange(
        t.deps.flow,
        auth,
        { kind: 'email', value: 'otra@example.org', currentPassword: OLD_PASSWORD },
        WEB,
      );
      const [sent] = await outboxOf(member.id);
      const token = /token=([A-Za-z0-9_-]{43})/.exec(contentOf(sent).text)?.[1];
      t.clock.advanceMinutes(31);
      await refusedWith(confirmContactByLink(t.deps.flow, token, WEB), 'CONTACT_LINK_INVALID');
      await refusedWith(
        confirmContactByLink(t.deps.flow, 'x'.repeat(43), WEB),
        'CONTACT_LINK_INVALID',
      );
      assert.equal((await memberRow(member.id)).email, 'ana2@example.org');
    });

    it("counts proofs in the member's hourly message limit, and SMS in the new number's", async () => {
      const member = await createMember(t.db);
      const { auth } = await openSession(member);
      const ask = (kind: string, value: string, who = auth) =>
        requestContactChange(t.deps.flow, who, { kind, value, currentPassword: OLD_PASSWORD }, WEB);
      const perMember = t.deps.flow.messageLimits.perMemberPerHour;
      for (let i = 0; i < perMember; i += 1) await ask('email', `nueva${i}@example.org`);
      const limited = await refusedWith(ask('email', 'otra@example.org'), 'MESSAGES_LIMIT');
      assert.ok((limited.retryAfterSeconds ?? 0) > 0);
      assert.equal((await outboxOf(member.id)).length, perMember);

      // One number, asked for by several members: its own hourly limit.
      const perNumber = t.deps.flow.messageLimits.smsPerNumberPerHour;
      for (let i = 0; i < perNumber; i += 1) {
        const { auth: other } = await openSession(await createMember(t.db));
        await ask('mobile', '099 555 666', other);
      }
      const { auth: last } = await openSession(await createMember(t.db));
      await refusedWith(ask('mobile', '099 555 666', last), 'MESSAGES_LIMIT');

      t.clock.advanceMinutes(61);
      await ask('email', 'otra@example.org');
    });
  });
});
