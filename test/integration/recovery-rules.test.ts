// The rules around recovery (SPEC §3): the password policy at the fields,
// no account enumeration, the message limits, and the CAPTCHA. One database,
// shared by an app per configuration (manual policy, asvs policy, ALTCHA),
// delivering to the same SMTP server and SMS gateway stub.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { Member } from '../../src/db/schema.ts';
import {
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  solveAltcha,
  type TestDatabase,
  withoutFormToken,
} from '../helper.ts';
import { buildDeliveryRig, type DeliveryRig } from '../support/delivery.ts';
import {
  emailedLink,
  lastMailTo,
  logIn,
  requestPassword,
  setPassword,
  textedCode,
  tokenForCode,
  tokenIn,
} from '../support/recovery.ts';
import { SmsGatewayStub } from '../support/sms-gateway.ts';
import { linkIn, SmtpStub } from '../support/smtp.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const MANUAL_RULE =
  'La nueva contraseña debe tener entre 6 y 10 caracteres conteniendo números y/o letras (al menos un número)';
const ASVS_RULE = 'La nueva contraseña debe tener entre 8 y 64 caracteres.';
const M = {
  length: 'La contraseña debe tener entre 6 y 10 caracteres.',
  lengthAsvs: 'La contraseña debe tener entre 8 y 64 caracteres.',
  digit: 'La contraseña debe incluir al menos un número.',
  characters: 'Use solo letras sin tilde ni ñ y números, sin espacios ni símbolos.',
  printable: 'La contraseña tiene caracteres que no se pueden escribir. Revísela.',
  mismatch: 'Las contraseñas no coinciden. Escriba la misma contraseña en los dos campos.',
  common: 'Esa contraseña es muy común y fácil de adivinar. Elija otra.',
  personal: 'La contraseña no puede contener su documento ni su número de socio.',
  required: 'Ingrese una nueva contraseña.',
  repeat: 'Repita la nueva contraseña.',
};

describe(`recovery rules: password policy, enumeration, limits, CAPTCHA (${databaseLabel})`, () => {
  let database: TestDatabase;
  let smtp: SmtpStub;
  let sms: SmsGatewayStub;
  let rig: DeliveryRig;
  let asvs: DeliveryRig;

  before(async () => {
    database = await createTestDatabase();
    smtp = await SmtpStub.start();
    sms = await SmsGatewayStub.start();
    rig = await buildDeliveryRig({ database, smtp, sms });
    asvs = await buildDeliveryRig({ database, smtp, sms, env: { PASSWORD_POLICY: 'asvs' } });
  });
  after(async () => {
    await asvs.close();
    await rig.close();
    await smtp.stop();
    await sms.close();
    await database.close();
  });

  async function linkCookie(r: DeliveryRig, member: Member): Promise<string> {
    const link = new URL(linkIn(await emailedLink(r, member)));
    return cookieFrom(await r.send({ method: 'GET', url: `${link.pathname}${link.search}` }));
  }

  function postChangeForm(
    r: DeliveryRig,
    cookie: string,
    password: string,
    confirmation = password,
  ) {
    return r.send({
      method: 'POST',
      url: '/cambiar-contrasena',
      headers: { ...FORM, cookie },
      payload: new URLSearchParams({ password, passwordConfirmation: confirmation }).toString(),
    });
  }

  function fieldsOf(response: LightMyRequestResponse): Record<string, string> {
    assert.equal(response.statusCode, 400, response.body);
    const { error } = response.json();
    assert.equal(error.code, 'PASSWORD_REJECTED');
    return error.fields;
  }

  describe('the password policy', () => {
    it('refuses, field by field in the API, what the manual’s policy forbids, and keeps the token for the retry', async () => {
      const member = await createMember(rig.db);
      const token = await tokenForCode(rig, member.document, await textedCode(rig, member));
      const cases: [string, string, Record<string, string>][] = [
        ['ab1', 'ab1', { password: M.length }],
        ['abcdefghi12', 'abcdefghi12', { password: M.length }],
        ['sinnumeros', 'sinnumeros', { password: M.digit }],
        ['clave-2027', 'clave-2027', { password: M.characters }],
        ['con espac1', 'con espac1', { password: M.characters }],
        ['buena2027', 'buena2028', { passwordConfirmation: M.mismatch }],
        ['abc123', 'abc123', { password: M.common }],
        ['Abc123', 'Abc123', { password: M.common }],
        [member.document, member.document, { password: M.personal }],
        [`a${member.document}`, `a${member.document}`, { password: M.personal }],
        [`x${member.member_number}`, `x${member.member_number}`, { password: M.personal }],
        ['', '', { password: M.required, passwordConfirmation: M.repeat }],
      ];
      for (const [password, confirmation, expected] of cases) {
        const response = await setPassword(rig, token, password, confirmation);
        assert.deepEqual(fieldsOf(response), expected, `«${password}» / «${confirmation}»`);
      }
      assert.equal((await logIn(rig, member.document, 'clave2026')).statusCode, 200, 'unchanged');

      const good = await setPassword(rig, token, 'buena2027');
      assert.equal(good.statusCode, 200, good.body);
      assert.equal((await logIn(rig, member.document, 'buena2027')).statusCode, 200);
    });

    it('re-renders the change-password page with the messages next to the fields, and the link still works after', async () => {
      const member = await createMember(rig.db);
      const cookie = await linkCookie(rig, member);

      const page = await rig.send({
        method: 'GET',
        url: '/cambiar-contrasena',
        headers: { cookie },
      });
      assert.ok(page.body.includes(MANUAL_RULE), 'the manual’s rule text');

      const short = await postChangeForm(rig, cookie, 'ab1');
      assert.equal(short.statusCode, 400);
      assert.match(
        short.body,
        /id="password-error"[^>]*>.*La contraseña debe tener entre 6 y 10 caracteres\./s,
      );
      assert.match(short.body, /aria-invalid="true"/);
      assert.ok(short.body.includes(MANUAL_RULE));

      const mismatch = await postChangeForm(rig, cookie, 'buena2027', 'otra2027');
      assert.equal(mismatch.statusCode, 400);
      assert.match(
        mismatch.body,
        /id="passwordConfirmation-error"[^>]*>.*Las contraseñas no coinciden/s,
      );

      const common = await postChangeForm(rig, cookie, 'abc123');
      assert.match(common.body, /Esa contraseña es muy común/);
      const personal = await postChangeForm(rig, cookie, member.document);
      assert.match(personal.body, /no puede contener su documento/);
      const symbols = await postChangeForm(rig, cookie, 'clave#2027');
      assert.match(symbols.body, /sin espacios ni símbolos/);
      const noDigit = await postChangeForm(rig, cookie, 'sinnumero');
      assert.match(
        noDigit.body,
        /al menos un número\.<\/p>|La contraseña debe incluir al menos un número\./,
      );

      const done = await postChangeForm(rig, cookie, 'buena2027');
      assert.equal(done.statusCode, 200);
      assert.match(done.body, /Contraseña modificada correctamente/);
    });

    it('follows PASSWORD_POLICY=asvs: 8 to 64 printable characters, phrases welcome, common ones refused, its own rule text', async () => {
      const member = await createMember(asvs.db);
      const cookie = await linkCookie(asvs, member);
      const page = await asvs.send({
        method: 'GET',
        url: '/cambiar-contrasena',
        headers: { cookie },
      });
      assert.ok(page.body.includes(ASVS_RULE), 'the asvs rule text');
      assert.ok(!page.body.includes(MANUAL_RULE));

      const token = await tokenForCode(asvs, member.document, await textedCode(asvs, member));
      const refused: [string, Record<string, string>][] = [
        ['corta 1', { password: M.lengthAsvs }],
        ['x'.repeat(65), { password: M.lengthAsvs }],
        ['abc12345', { password: M.common }],
        ['password', { password: M.common }],
        ['con\u0007campana', { password: M.printable }],
        [`doc ${member.document}`, { password: M.personal }],
      ];
      for (const [password, expected] of refused) {
        assert.deepEqual(fieldsOf(await setPassword(asvs, token, password)), expected, password);
      }
      assert.deepEqual(
        fieldsOf(await setPassword(asvs, token, 'una frase larga!', 'una frase larga')),
        {
          passwordConfirmation: M.mismatch,
        },
      );

      const phrase = await setPassword(asvs, token, 'una frase larga!');
      assert.equal(phrase.statusCode, 200, phrase.body);
      assert.equal((await logIn(asvs, member.document, 'una frase larga!')).statusCode, 200);

      // The longest and some non-ASCII printable passwords are fine too.
      const other = await createMember(asvs.db);
      const longest = 'ñandú 🦩 '.repeat(8).slice(0, 64);
      const otherToken = await tokenForCode(asvs, other.document, await textedCode(asvs, other));
      assert.equal((await setPassword(asvs, otherToken, `${'a'.repeat(63)}!`)).statusCode, 200);
      assert.ok([...longest].length <= 64);
      const again = await tokenForCode(asvs, other.document, await textedCode(asvs, other));
      assert.equal((await setPassword(asvs, again, longest)).statusCode, 200);
      assert.equal((await logIn(asvs, other.document, longest)).statusCode, 200);
    });
  });

  describe('no account enumeration', () => {
    /** A 202 body and what must not have happened, for one kind of document. */
    async function compareApi(channel: 'email' | 'sms') {
      const known = await createMember(rig.db);
      const inactive = await createMember(rig.db, { status: 'inactive' });
      const contactless = await createMember(
        rig.db,
        channel === 'email' ? { email: null } : { mobile: null },
      );
      const overLimit = await createMember(rig.db);
      for (let i = 0; i < 5; i += 1)
        assert.equal((await requestPassword(rig, overLimit.document, 'email')).statusCode, 202);
      await rig.deliver();
      const sentBefore = { email: smtp.messages.length, sms: sms.requests.length };

      const answers = {
        known: await requestPassword(rig, known.document, channel),
        unknown: await requestPassword(rig, '7777777', channel),
        unknownMemberNumber: await requestPassword(rig, '999999999', channel),
        inactive: await requestPassword(rig, inactive.document, channel),
        contactless: await requestPassword(rig, contactless.document, channel),
        overLimit: await requestPassword(rig, overLimit.document, channel),
      };
      const expected = answers.known;
      assert.equal(expected.statusCode, 202);
      for (const [kind, answer] of Object.entries(answers)) {
        assert.equal(answer.statusCode, 202, kind);
        assert.equal(answer.body, expected.body, `${kind}: the same bytes`);
        assert.equal(answer.headers['content-length'], expected.headers['content-length'], kind);
        assert.equal(answer.headers['content-type'], expected.headers['content-type'], kind);
      }

      await rig.deliver();
      const sent = {
        email: smtp.messages.length - sentBefore.email,
        sms: sms.requests.length - sentBefore.sms,
      };
      assert.deepEqual(sent, channel === 'email' ? { email: 1, sms: 0 } : { email: 0, sms: 1 });
      const queued = await rig.db
        .selectFrom('outbox')
        .select(['member_id'])
        .where('member_id', 'in', [inactive.id, contactless.id])
        .execute();
      assert.deepEqual(queued, [], 'nothing queued for the inactive or contactless member');
      const overLimitRows = await rig.db
        .selectFrom('outbox')
        .select('id')
        .where('member_id', '=', overLimit.id)
        .execute();
      assert.equal(overLimitRows.length, 5, 'nothing more queued over the limit');

      const reasons = await rig.db
        .selectFrom('audit_events')
        .select(['member_id', 'outcome', 'detail'])
        .where('type', '=', channel === 'email' ? 'link_sent' : 'code_sent')
        .where('member_id', 'in', [known.id, inactive.id, contactless.id, overLimit.id])
        .orderBy('id', 'desc')
        .execute();
      const reasonOf = (member: Member) => {
        const row = reasons.find((r) => r.member_id === member.id);
        const detail = (row?.detail ?? {}) as { reason?: string; via?: string };
        assert.equal(detail.via, channel);
        return [row?.outcome, detail.reason];
      };
      assert.deepEqual(reasonOf(known), ['ok', undefined]);
      assert.deepEqual(reasonOf(inactive), ['ignored', 'inactive']);
      assert.deepEqual(reasonOf(contactless), ['ignored', 'no_contact']);
      assert.deepEqual(reasonOf(overLimit), ['ignored', 'member_limit']);
      const unknownRows = await rig.db
        .selectFrom('audit_events')
        .select(['outcome', 'detail', 'document_hash'])
        .where('member_id', 'is', null)
        .where('type', '=', channel === 'email' ? 'link_sent' : 'code_sent')
        .execute();
      assert.ok(
        unknownRows.some(
          (r) => r.outcome === 'ignored' && (r.detail as { reason?: string }).reason === 'unknown',
        ),
      );
      assert.ok(unknownRows.every((r) => r.document_hash && !r.document_hash.includes('7777777')));
      return expected.body;
    }

    it('answers POST /api/v1/password-requests with the same bytes for known, unknown, inactive, contactless and over-the-limit members, by both channels, and sends nothing for the others', async () => {
      const email = await compareApi('email');
      const smsBody = await compareApi('sms');
      assert.equal(email, smsBody, 'the same answer for both channels');
      assert.deepEqual(JSON.parse(email), {
        message:
          'Si los datos corresponden a un socio, le enviamos el link o el código por el medio elegido.',
      });
    });

    it('shows the same page for one typed document whether it is unknown, known, inactive, without contact data or over the limit', async () => {
      for (const channel of ['email', 'sms'] as const) {
        const document = channel === 'email' ? '4111111' : '4222222';
        const typed = channel === 'email' ? '4.111.111' : '4222222';
        const post = () =>
          rig.send({
            method: 'POST',
            url: '/olvide-mi-contrasena',
            headers: FORM,
            payload: new URLSearchParams({ document: typed, channel }).toString(),
          });
        const pages: Record<string, LightMyRequestResponse> = {};
        pages.unknown = await post();
        const member = await createMember(rig.db, { document });
        pages.known = await post();
        await rig.db
          .updateTable('members')
          .set({ status: 'inactive' })
          .where('id', '=', member.id)
          .execute();
        pages.inactive = await post();
        await rig.db
          .updateTable('members')
          .set(
            channel === 'email'
              ? { status: 'active', email: null }
              : { status: 'active', mobile: null },
          )
          .where('id', '=', member.id)
          .execute();
        pages.contactless = await post();
        await rig.db
          .updateTable('members')
          .set({ email: member.email, mobile: member.mobile })
          .where('id', '=', member.id)
          .execute();
        for (let i = 0; i < 4; i += 1) await requestPassword(rig, document, 'email');
        pages.overLimit = await post();

        for (const [kind, page] of Object.entries(pages)) {
          assert.equal(page.statusCode, 200, kind);
          assert.equal(
            withoutFormToken(page.body),
            withoutFormToken(pages.unknown?.body ?? ''),
            `${channel}, ${kind}: the same page`,
          );
        }
        assert.match(
          pages.known?.body ?? '',
          channel === 'email'
            ? /Le hemos enviado en un e-mail/
            : /Ingrese el código que le hemos enviado/,
        );
        const rows = await rig.db
          .selectFrom('outbox')
          .select('channel')
          .where('member_id', '=', member.id)
          .execute();
        assert.equal(rows.length, 5, 'the known request and the four emails, nothing else');
        assert.equal(rows.filter((r) => r.channel === channel).length, channel === 'email' ? 5 : 1);
      }
    });
  });

  describe('message limits', () => {
    it('sends nothing for a sixth request of a member within an hour, answers the same, and sends again an hour later', async () => {
      const member = await createMember(rig.db);
      const answers: string[] = [];
      for (const channel of ['email', 'sms', 'email', 'sms', 'email', 'email'] as const) {
        const response = await requestPassword(rig, member.document, channel);
        assert.equal(response.statusCode, 202);
        answers.push(response.body);
        // Delivered before the next request, which retires this link or code.
        await rig.deliver();
      }
      assert.equal(new Set(answers).size, 1);
      await rig.deliver();
      assert.equal(smtp.to(member.email as string).length, 3);
      assert.equal(sms.to(member.mobile as string).length, 2);

      rig.clock.advanceMinutes(61);
      await requestPassword(rig, member.document, 'email');
      await rig.deliver();
      assert.equal(smtp.to(member.email as string).length, 4);
    });

    it('does not count the «Su contraseña fue modificada» notice as a request of the member', async () => {
      const member = await createMember(rig.db);
      // Each delivered before the next request, which retires its link.
      for (let i = 0; i < 3; i += 1) {
        await requestPassword(rig, member.document, 'email');
        await rig.deliver();
      }
      const token = tokenIn(lastMailTo(rig, member));
      assert.equal((await setPassword(rig, token, 'nueva2027')).statusCode, 200);
      await requestPassword(rig, member.document, 'email');
      await rig.deliver();
      await requestPassword(rig, member.document, 'email');
      await rig.deliver();
      // One run delivers a batch in parallel: compare what arrived, not the order.
      const subjects = smtp.to(member.email as string).map((m) => m.parsed.subject);
      assert.deepEqual(subjects.sort(), [
        'Solicitud nueva contraseña',
        'Solicitud nueva contraseña',
        'Solicitud nueva contraseña',
        'Solicitud nueva contraseña',
        'Solicitud nueva contraseña',
        'Su contraseña fue modificada',
      ]);
    });

    it('sends at most 3 SMS an hour and 10 a day to one number, whoever asks', async () => {
      const shared = '+59899300300';
      const members = await Promise.all(
        Array.from({ length: 4 }, () => createMember(rig.db, { mobile: shared })),
      );
      const ask = async (member: Member) => {
        const response = await requestPassword(rig, member.document, 'sms');
        assert.equal(response.statusCode, 202);
      };
      const delivered = async () => {
        await rig.deliver();
        return sms.to(shared).length;
      };

      for (const member of members) await ask(member);
      assert.equal(await delivered(), 3, 'the fourth SMS within the hour is not sent');

      // 3 more in each of the next two hours, 1 in the third: 10 in the day.
      for (const hour of [1, 2]) {
        rig.clock.advanceMinutes(61);
        for (const member of members) await ask(member);
        assert.equal(await delivered(), 3 + 3 * hour);
      }
      rig.clock.advanceMinutes(61);
      await ask(members[0] as Member);
      await ask(members[1] as Member);
      assert.equal(await delivered(), 10, 'the eleventh SMS of the day is not sent');
      rig.clock.advanceMinutes(61);
      await ask(members[2] as Member);
      assert.equal(await delivered(), 10);

      const reasons = await rig.db
        .selectFrom('audit_events')
        .select('detail')
        .where(
          'member_id',
          'in',
          members.map((m) => m.id),
        )
        .where('outcome', '=', 'ignored')
        .execute();
      const counts = reasons.map((r) => (r.detail as { reason: string }).reason);
      assert.ok(counts.includes('number_hour_limit'));
      assert.ok(counts.includes('number_day_limit'));

      // A day after the first three, the number may receive again.
      rig.clock.advanceMinutes(24 * 60 - 4 * 61 + 1);
      await ask(members[3] as Member);
      assert.equal(await delivered(), 11);
    });

    it('keeps the per-member limit when one member asks ten times at once', async () => {
      const member = await createMember(rig.db);
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => requestPassword(rig, member.document, 'email')),
      );
      assert.ok(answers.every((a) => a.statusCode === 202));
      const queued = await rig.db
        .selectFrom('outbox')
        .select('id')
        .where('member_id', '=', member.id)
        .execute();
      assert.equal(queued.length, 5);
      // Each newer link killed the one before: exactly one is still usable.
      const live = await rig.db
        .selectFrom('one_time_secrets')
        .select('id')
        .where('member_id', '=', member.id)
        .where('used_at', 'is', null)
        .execute();
      assert.equal(live.length, 1);
    });

    it('keeps the per-number limit when several members sharing a number ask at the same time', async () => {
      const shared = '+59899400400';
      const members = await Promise.all(
        Array.from({ length: 8 }, () => createMember(rig.db, { mobile: shared })),
      );
      const answers = await Promise.all(
        members.map((m) => requestPassword(rig, m.document, 'sms')),
      );
      assert.ok(answers.every((a) => a.statusCode === 202));
      const queued = await rig.db
        .selectFrom('outbox')
        .select('id')
        .where('recipient', '=', shared)
        .execute();
      assert.equal(queued.length, 3);
    });
  });

  describe('CAPTCHA (ALTCHA)', () => {
    let altcha: DeliveryRig;
    before(async () => {
      altcha = await buildDeliveryRig({
        database,
        smtp,
        sms,
        env: { CAPTCHA_PROVIDER: 'altcha', ALTCHA_COST: '10' },
      });
    });
    after(async () => {
      await altcha.close();
    });

    it('is required on POST /api/v1/password-requests and POST /api/v1/password, and a refusal uses nothing up', async () => {
      const member = await createMember(altcha.db);
      const missing = await requestPassword(altcha, member.document, 'email');
      assert.equal(missing.statusCode, 400);
      assert.equal(missing.json().error.code, 'CAPTCHA_REQUIRED');
      const wrong = await requestPassword(altcha, member.document, 'email', {
        captcha: 'bm9wZQ==',
      });
      assert.equal(wrong.statusCode, 400);
      assert.equal(wrong.json().error.code, 'CAPTCHA_FAILED');
      const none = await altcha.db
        .selectFrom('outbox')
        .select('id')
        .where('member_id', '=', member.id)
        .execute();
      assert.deepEqual(none, [], 'nothing queued without the CAPTCHA');

      const solved = await solveAltcha(altcha.app);
      const ok = await requestPassword(altcha, member.document, 'email', { captcha: solved });
      assert.equal(ok.statusCode, 202, ok.body);
      const replay = await requestPassword(altcha, member.document, 'email', { captcha: solved });
      assert.equal(replay.json().error.code, 'CAPTCHA_FAILED', 'a solution works once');
      await altcha.deliver();
      const token = tokenIn(lastMailTo(altcha, member));

      const noCaptcha = await setPassword(altcha, token, 'robot2027');
      assert.equal(noCaptcha.statusCode, 400);
      assert.equal(noCaptcha.json().error.code, 'CAPTCHA_REQUIRED');
      const withCaptcha = await setPassword(altcha, token, 'humano2027', 'humano2027', {
        captcha: await solveAltcha(altcha.app),
      });
      assert.equal(withCaptcha.statusCode, 200, withCaptcha.body);
      assert.equal((await logIn(rig, member.document, 'humano2027')).statusCode, 200);
    });
  });
});
