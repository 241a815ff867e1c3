// "¿Olvidaste tu contraseña?" by email and "¿No estás registrado?", through
// real parts: the outbox dispatcher sends over SMTP to an in-process server,
// the test reads the email as a mail client would and follows its link
// through the web pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { computeCheckDigit } from '../../src/auth/documents.ts';
import { cookieFrom, createMember, databaseLabel } from '../helper.ts';
import { buildDeliveryRig, type DeliveryRig } from '../support/delivery.ts';
import {
  emailedLink,
  lastMailTo,
  logIn,
  requestPassword,
  setPassword,
  tokenIn,
} from '../support/recovery.ts';
import { linkIn, type ReceivedMail } from '../support/smtp.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const PASSWORD_CHANGED = 'Contraseña modificada correctamente';

describe(`recovery and registration by email (${databaseLabel})`, () => {
  let rig: DeliveryRig;

  before(async () => {
    rig = await buildDeliveryRig({ env: { PUBLIC_URL: 'https://portal.example.org' } });
  });
  after(async () => {
    await rig.close();
  });

  /** Opens the emailed link as a browser would: the path and query of the link. */
  function openLink(mail: ReceivedMail, cookie?: string): Promise<LightMyRequestResponse> {
    const link = new URL(linkIn(mail));
    return rig.send({
      method: 'GET',
      url: `${link.pathname}${link.search}`,
      headers: cookie ? { cookie } : {},
    });
  }

  function postChangeForm(cookie: string, password: string, confirmation = password) {
    return rig.send({
      method: 'POST',
      url: '/cambiar-contrasena',
      headers: { ...FORM, cookie },
      payload: new URLSearchParams({ password, passwordConfirmation: confirmation }).toString(),
    });
  }

  it('sends «Solicitud nueva contraseña» from the configured sender, with the manual’s wording in text and HTML and no remote images', async () => {
    const member = await createMember(rig.db, { email: 'lucia.fernandez@example.org' });
    const mail = await emailedLink(rig, member);

    assert.deepEqual(mail.envelope.to, ['lucia.fernandez@example.org']);
    assert.equal(mail.envelope.from, 'no-reply@example.org');
    assert.deepEqual(mail.parsed.from?.value, [
      { address: 'no-reply@example.org', name: 'Autogestión' },
    ]);
    assert.equal(mail.parsed.subject, 'Solicitud nueva contraseña');

    const text = mail.parsed.text ?? '';
    const htmlPart = mail.parsed.html || '';
    assert.ok(text.length > 0, 'a plain-text part');
    assert.ok(htmlPart.length > 0, 'an HTML part');
    for (const part of [text, htmlPart]) {
      assert.match(part, /Estimado\/a Afiliado\/a/);
      assert.match(part, /no tome en cuenta este correo/);
      assert.match(part, /CALL CENTER 144/);
    }

    const link = linkIn(mail);
    assert.match(
      link,
      /^https:\/\/portal\.example\.org\/cambiar-contrasena\?token=[A-Za-z0-9_-]{43}$/,
    );
    assert.ok(htmlPart.includes(`href="${link}"`), 'the HTML part links to the same address');

    // No remote images, trackers or style sheets: nothing loads from elsewhere.
    assert.doesNotMatch(htmlPart, /<img\b/i);
    assert.doesNotMatch(htmlPart, /\bsrc\s*=/i);
    assert.doesNotMatch(htmlPart, /url\(/i);
    assert.doesNotMatch(htmlPart, /<link\b|<script\b/i);
  });

  it('sets the new password through the emailed link and the web pages; the new one logs in and the old one does not', async () => {
    const member = await createMember(rig.db);
    const mail = await emailedLink(rig, member);

    const opened = await openLink(mail);
    assert.equal(opened.statusCode, 303);
    assert.equal(opened.headers.location, '/cambiar-contrasena', 'the token leaves the address');
    assert.equal(opened.headers['referrer-policy'], 'no-referrer');
    const cookie = cookieFrom(opened);
    assert.match(cookie, /(?:^|; )__Host-pwtoken=/);
    const setCookie = String(opened.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /Secure/i);

    const page = await rig.send({ method: 'GET', url: '/cambiar-contrasena', headers: { cookie } });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    assert.match(page.body, /Nueva contraseña/);
    assert.match(page.body, /Repita contraseña/);
    // Both fields hidden as typed (the eye shows them) and offered to password managers.
    const fields = page.body.match(/<input [^>]*type="password"[^>]*>/g) ?? [];
    assert.equal(fields.length, 2);
    assert.equal(
      (page.body.match(/type="password"[\s\S]*?autocomplete="new-password"/g) ?? []).length,
      2,
    );
    assert.ok(!page.body.includes(tokenIn(mail)), 'the page never shows the token');

    const done = await postChangeForm(cookie, 'nueva2027');
    assert.equal(done.statusCode, 200, done.body);
    assert.match(done.body, new RegExp(PASSWORD_CHANGED));

    assert.equal((await logIn(rig, member.document, 'nueva2027')).statusCode, 200);
    assert.equal((await logIn(rig, member.document, 'clave2026')).statusCode, 401);
  });

  it('the change-password page says whose password it sets, masked', async () => {
    const member = await createMember(rig.db, {
      firstName: 'Ana',
      lastName: 'Pérez',
      document: '4123456',
      email: 'ana.titular@example.org',
    });
    const holder =
      'Está cambiando la contraseña de <strong>Ana P., documento ***456</strong>. Si no es su cuenta, no continúe y cierre esta página.';
    /** Names the holder in the info box, and gives away nothing more of the account. */
    const assertNamesHolderOnly = (body: string) => {
      assert.ok(body.includes(holder), `the holder, masked, in: ${body}`);
      assert.match(body, /<div class="alert alert-info"><p>Está cambiando la contraseña de/);
      for (const secret of ['4123456', 'Pérez', 'ana.titular@example.org'])
        assert.ok(!body.includes(secret), `the page shows ${secret}`);
    };

    const cookie = cookieFrom(await openLink(await emailedLink(rig, member)));
    const page = await rig.send({ method: 'GET', url: '/cambiar-contrasena', headers: { cookie } });
    assert.equal(page.statusCode, 200);
    assertNamesHolderOnly(page.body);

    // A form sent back with an error still says whose password it is.
    const differs = await postChangeForm(cookie, 'titular27', 'titular28');
    assert.equal(differs.statusCode, 400, differs.body);
    assert.match(differs.body, /Las contraseñas no coinciden/);
    assertNamesHolderOnly(differs.body);

    // A link that leads nowhere names nobody.
    const unknown = await rig.send({
      method: 'GET',
      url: `/cambiar-contrasena?token=${'A'.repeat(43)}`,
    });
    const invalid = await rig.send({
      method: 'GET',
      url: '/cambiar-contrasena',
      headers: { cookie: cookieFrom(unknown) },
    });
    assert.equal(invalid.statusCode, 400);
    assert.match(invalid.body, /venció o ya fue usado/);
    assert.doesNotMatch(
      invalid.body,
      /Está cambiando la contraseña de|documento \*\*\*|alert-info/,
    );
  });

  it('lets a mail scanner open the link twice without using it up', async () => {
    const member = await createMember(rig.db);
    const mail = await emailedLink(rig, member);

    const scanner = await openLink(mail);
    const scannerPage = await rig.send({
      method: 'GET',
      url: '/cambiar-contrasena',
      headers: { cookie: cookieFrom(scanner) },
    });
    assert.equal(scannerPage.statusCode, 200);

    const opened = await openLink(mail);
    assert.equal(opened.statusCode, 303);
    const cookie = cookieFrom(opened);
    const page = await rig.send({ method: 'GET', url: '/cambiar-contrasena', headers: { cookie } });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<form method="post" action="\/cambiar-contrasena"/);

    const done = await postChangeForm(cookie, 'escaner27');
    assert.match(done.body, new RegExp(PASSWORD_CHANGED));
    assert.equal((await logIn(rig, member.document, 'escaner27')).statusCode, 200);
  });

  it('shows the expired-link page, and refuses the token in the API, 31 minutes after sending', async () => {
    const member = await createMember(rig.db);
    const mail = await emailedLink(rig, member);
    const cookie = cookieFrom(await openLink(mail));

    rig.clock.advanceMinutes(29);
    const stillGood = await rig.send({
      method: 'GET',
      url: '/cambiar-contrasena',
      headers: { cookie },
    });
    assert.equal(stillGood.statusCode, 200);

    rig.clock.advanceMinutes(2);
    const page = await rig.send({ method: 'GET', url: '/cambiar-contrasena', headers: { cookie } });
    assert.equal(page.statusCode, 400);
    assert.match(page.body, /venció o ya fue usado/);
    assert.doesNotMatch(page.body, /<form method="post" action="\/cambiar-contrasena"/);

    const api = await setPassword(rig, tokenIn(mail), 'tarde2027');
    assert.equal(api.statusCode, 400);
    assert.equal(api.json().error.code, 'TOKEN_INVALID');
    assert.equal((await logIn(rig, member.document, 'clave2026')).statusCode, 200);
  });

  it('uses an emailed link once: the second use answers 400', async () => {
    const member = await createMember(rig.db);
    const token = tokenIn(await emailedLink(rig, member));

    const first = await setPassword(rig, token, 'primera27');
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual(first.json(), { message: PASSWORD_CHANGED });

    const second = await setPassword(rig, token, 'segunda27');
    assert.equal(second.statusCode, 400);
    assert.equal(second.json().error.code, 'TOKEN_INVALID');
    assert.equal((await logIn(rig, member.document, 'primera27')).statusCode, 200);
    assert.equal((await logIn(rig, member.document, 'segunda27')).statusCode, 401);
  });

  it('kills the older link when a newer one is sent', async () => {
    const member = await createMember(rig.db);
    const older = tokenIn(await emailedLink(rig, member));
    const newer = tokenIn(await emailedLink(rig, member));
    assert.notEqual(older, newer);

    const withOlder = await setPassword(rig, older, 'vieja2027');
    assert.equal(withOlder.statusCode, 400);
    assert.equal(withOlder.json().error.code, 'TOKEN_INVALID');
    assert.equal((await setPassword(rig, newer, 'nueva2027')).statusCode, 200);
  });

  it('ends every session of the member after the change and emails «Su contraseña fue modificada» with the time and the CALL CENTER', async () => {
    const member = await createMember(rig.db);
    const apiLogin = await logIn(rig, member.document, 'clave2026');
    const bearer = apiLogin.json().token as string;
    const webLogin = await rig.send({
      method: 'POST',
      url: '/ingresar',
      headers: FORM,
      payload: new URLSearchParams({ document: member.document, password: 'clave2026' }).toString(),
    });
    assert.equal(webLogin.statusCode, 303, webLogin.body);
    const me = () =>
      rig.send({
        method: 'GET',
        url: '/api/v1/me',
        headers: { authorization: `Bearer ${bearer}` },
      });
    assert.equal((await me()).statusCode, 200);

    const token = tokenIn(await emailedLink(rig, member));
    assert.equal((await setPassword(rig, token, 'segura2027')).statusCode, 200);

    assert.equal((await me()).statusCode, 401);
    const sessions = await rig.db
      .selectFrom('sessions')
      .select('id_hash')
      .where('member_id', '=', member.id)
      .execute();
    assert.deepEqual(sessions, [], 'the web session ended too');

    await rig.deliver();
    const notice = lastMailTo(rig, member);
    assert.equal(notice.parsed.subject, 'Su contraseña fue modificada');
    // Montevideo is UTC−3 all year; the fake clock starts on 2026-11-25 12:00 UTC.
    const local = new Date(rig.clock.now().getTime() - 3 * 3_600_000);
    const time = `${local.getUTCHours()}:${String(local.getUTCMinutes()).padStart(2, '0')}`;
    for (const part of [notice.parsed.text ?? '', notice.parsed.html || '']) {
      assert.match(part, new RegExp(`${local.getUTCDate()} de noviembre de 2026`));
      assert.ok(part.includes(time), `the time ${time} in: ${part}`);
      assert.match(part, /CALL CENTER 144/);
      assert.match(part, /con el link que le enviamos por email/);
    }
  });

  it('sends the link when the cédula is typed with dots and its check digit', async () => {
    const member = await createMember(rig.db, { document: '4333333' });
    const typed = `4.333.333-${computeCheckDigit('4333333')}`;
    const page = await rig.send({
      method: 'POST',
      url: '/olvide-mi-contrasena',
      headers: FORM,
      payload: new URLSearchParams({ document: typed, channel: 'email' }).toString(),
    });
    assert.equal(page.statusCode, 200);
    await rig.deliver();
    assert.equal(rig.smtp.to(member.email as string).length, 1);
    const mail = lastMailTo(rig, member);
    assert.equal(mail.parsed.subject, 'Solicitud nueva contraseña');
    assert.equal((await setPassword(rig, tokenIn(mail), 'digito2027')).statusCode, 200);
  });

  it('registers a member without a password: the page, the emailed link, the new password and the first login', async () => {
    const member = await createMember(rig.db, { password: null });
    assert.equal((await logIn(rig, member.document, 'clave2026')).statusCode, 401);

    const form = await rig.send({ method: 'GET', url: '/registro' });
    assert.equal(form.statusCode, 200);
    assert.match(form.body, /¿No estás registrado\?/);

    const sent = await rig.send({
      method: 'POST',
      url: '/registro',
      headers: FORM,
      payload: new URLSearchParams({ document: member.document, channel: 'email' }).toString(),
    });
    assert.equal(sent.statusCode, 200);
    assert.match(sent.body, /Le hemos enviado en un e-mail a su casilla de correo predeterminada/);

    await rig.deliver();
    const mail = lastMailTo(rig, member);
    assert.equal(mail.parsed.subject, 'Solicitud nueva contraseña');
    const cookie = cookieFrom(await openLink(mail));
    const done = await postChangeForm(cookie, 'primera27');
    assert.match(done.body, new RegExp(PASSWORD_CHANGED));

    const login = await logIn(rig, member.document, 'primera27');
    assert.equal(login.statusCode, 200);
    assert.equal(login.json().member.document, member.document);
    const audit = await rig.db
      .selectFrom('audit_events')
      .select(['type', 'detail'])
      .where('member_id', '=', member.id)
      .where('type', 'in', ['link_sent', 'password_set'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      audit.map((row) => [row.type, (row.detail as { flow: string }).flow]),
      [
        ['link_sent', 'registration'],
        ['password_set', 'registration'],
      ],
    );
  });

  it('answers registration the same, on the page and in the API, whether the member already has a password or not', async () => {
    const member = await createMember(rig.db, { password: null });
    const register = () =>
      rig.send({
        method: 'POST',
        url: '/registro',
        headers: FORM,
        payload: new URLSearchParams({ document: member.document, channel: 'email' }).toString(),
      });
    const registerApi = () =>
      requestPassword(rig, member.document, 'email', { flow: 'registration' });

    const pageWithout = await register();
    const apiWithout = await registerApi();
    await rig.db
      .updateTable('members')
      .set({ password_hash: member.password_hash ?? (await rig.deps.hasher.hash('clave2026')) })
      .where('id', '=', member.id)
      .execute();
    const pageWith = await register();
    const apiWith = await registerApi();

    assert.equal(pageWith.statusCode, pageWithout.statusCode);
    assert.equal(pageWith.body, pageWithout.body);
    assert.equal(apiWith.statusCode, 202);
    assert.equal(apiWith.body, apiWithout.body);
  });
});
