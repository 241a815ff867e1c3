// "¿Olvidaste tu contraseña?" by SMS, through real parts: the dispatcher
// posts to an HTTP SMS gateway stub, the test reads the code from the JSON
// the gateway received and uses it through the API and the pages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { computeCheckDigit } from '../../src/auth/documents.ts';
import { cookieFrom, createMember, databaseLabel } from '../helper.ts';
import { buildDeliveryRig, type DeliveryRig } from '../support/delivery.ts';
import {
  emailedLink,
  logIn,
  requestPassword,
  setPassword,
  textedCode,
  tokenForCode,
  tokenIn,
  verifyCode,
} from '../support/recovery.ts';
import { codeIn } from '../support/sms-gateway.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const GENERIC_CODE_ERROR = {
  code: 'CODE_INVALID',
  message:
    'El código no es correcto o ya venció. Revíselo, o vuelva atrás y solicite un código nuevo.',
  fields: {
    code: 'El código no es correcto o ya venció. Revíselo, o vuelva atrás y solicite un código nuevo.',
  },
};
/** The GSM 03.38 basic character set (no escape table needed for our texts). */
const GSM7 = /^[@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&'()*+,\-./0-9:;<=>?¡A-ZÄÖÑÜ§¿a-zäöñüà]*$/;

/** A code that is not `code`. */
function wrongCode(code: string): string {
  return code === '000000' ? '111111' : '000000';
}

describe(`recovery by SMS code (${databaseLabel})`, () => {
  let rig: DeliveryRig;

  before(async () => {
    rig = await buildDeliveryRig();
  });
  after(async () => {
    await rig.close();
  });

  it('posts {to, body} to the gateway: the code is the only run of six digits, in at most 160 GSM-7 characters', async () => {
    const member = await createMember(rig.db, { mobile: '+59899111222' });
    const response = await requestPassword(rig, member.document, 'sms');
    assert.equal(response.statusCode, 202);
    assert.equal(
      rig.sms.to('+59899111222').length,
      0,
      'nothing is sent before the dispatcher runs',
    );

    assert.equal(await rig.deliver(), 1);
    const [sms] = rig.sms.to('+59899111222');
    assert.ok(sms);
    assert.match(codeIn(sms), /^\d{6}$/);
    assert.ok(sms.body.length <= 160, `${sms.body.length} characters`);
    assert.match(sms.body, GSM7);
    assert.match(sms.body, /Autogestion/);
  });

  it('exchanges the right code for a set-password token that sets the password: the new one logs in, the old one does not', async () => {
    const member = await createMember(rig.db);
    const code = await textedCode(rig, member);

    const token = await tokenForCode(rig, member.document, code);
    const changed = await setPassword(rig, token, 'movil2027');
    assert.equal(changed.statusCode, 200, changed.body);
    assert.deepEqual(changed.json(), { message: 'Contraseña modificada correctamente' });

    assert.equal((await logIn(rig, member.document, 'movil2027')).statusCode, 200);
    assert.equal((await logIn(rig, member.document, 'clave2026')).statusCode, 401);

    await rig.deliver();
    const notice = rig.smtp.to(member.email as string).at(-1);
    assert.equal(notice?.parsed.subject, 'Su contraseña fue modificada');
    assert.match(notice?.parsed.text ?? '', /con el código que le enviamos por SMS/);
  });

  it('walks the same steps on the pages: the code field, then the change-password page', async () => {
    const member = await createMember(rig.db);
    const asked = await rig.send({
      method: 'POST',
      url: '/olvide-mi-contrasena',
      headers: FORM,
      payload: new URLSearchParams({ document: member.document, channel: 'sms' }).toString(),
    });
    assert.equal(asked.statusCode, 200);
    assert.match(
      asked.body,
      /Ingrese el código que le hemos enviado en un sms a su número de celular\./,
    );
    assert.match(asked.body, /name="code"/);

    await rig.deliver();
    const code = codeIn(rig.sms.to(member.mobile as string).at(-1) as { body: string });
    const wrong = await rig.send({
      method: 'POST',
      url: '/olvide-mi-contrasena/codigo',
      headers: FORM,
      payload: new URLSearchParams({ document: member.document, code: wrongCode(code) }).toString(),
    });
    assert.equal(wrong.statusCode, 400);
    assert.match(wrong.body, /El código no es correcto o ya venció/);

    const right = await rig.send({
      method: 'POST',
      url: '/olvide-mi-contrasena/codigo',
      headers: FORM,
      payload: new URLSearchParams({ document: member.document, code }).toString(),
    });
    assert.equal(right.statusCode, 303);
    assert.equal(right.headers.location, '/cambiar-contrasena');
    const cookie = cookieFrom(right);
    const done = await rig.send({
      method: 'POST',
      url: '/cambiar-contrasena',
      headers: { ...FORM, cookie },
      payload: new URLSearchParams({
        password: 'pagina2027',
        passwordConfirmation: 'pagina2027',
      }).toString(),
    });
    assert.match(done.body, /Contraseña modificada correctamente/);
    assert.equal((await logIn(rig, member.document, 'pagina2027')).statusCode, 200);
  });

  it('accepts the cédula with its check digit when asking for the code and when verifying it', async () => {
    const member = await createMember(rig.db, { document: '4555555' });
    const typed = `4555555${computeCheckDigit('4555555')}`;
    assert.equal((await requestPassword(rig, typed, 'sms')).statusCode, 202);
    await rig.deliver();
    const received = rig.sms.to(member.mobile as string);
    assert.equal(received.length, 1);
    const token = await tokenForCode(rig, typed, codeIn(received[0] as { body: string }));
    assert.equal((await setPassword(rig, token, 'digito2027')).statusCode, 200);
    assert.equal((await logIn(rig, member.document, 'digito2027')).statusCode, 200);
  });

  it('refuses a wrong code with one generic 400, the same as for an unknown document', async () => {
    const member = await createMember(rig.db);
    const code = await textedCode(rig, member);

    const wrong = await verifyCode(rig, member.document, wrongCode(code));
    assert.equal(wrong.statusCode, 400);
    assert.deepEqual(wrong.json().error, GENERIC_CODE_ERROR);
    const unknown = await verifyCode(rig, '7654321', code);
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.body, wrong.body);

    // The wrong try cost one of the five, but the right code still works.
    assert.equal((await verifyCode(rig, member.document, code)).statusCode, 200);
  });

  it('refuses the code 11 minutes after sending, and accepts it at 9', async () => {
    const early = await createMember(rig.db);
    const earlyCode = await textedCode(rig, early);
    const late = await createMember(rig.db);
    const lateCode = await textedCode(rig, late);

    rig.clock.advanceMinutes(9);
    assert.equal((await verifyCode(rig, early.document, earlyCode)).statusCode, 200);
    rig.clock.advanceMinutes(2);
    const expired = await verifyCode(rig, late.document, lateCode);
    assert.equal(expired.statusCode, 400);
    assert.deepEqual(expired.json().error, GENERIC_CODE_ERROR);
  });

  it('refuses even the right code after five wrong tries', async () => {
    const member = await createMember(rig.db);
    const code = await textedCode(rig, member);
    for (let i = 0; i < 5; i += 1) {
      const wrong = await verifyCode(rig, member.document, wrongCode(code));
      assert.equal(wrong.statusCode, 400);
    }
    const right = await verifyCode(rig, member.document, code);
    assert.equal(right.statusCode, 400);
    assert.deepEqual(right.json().error, GENERIC_CODE_ERROR);
    const row = await rig.db
      .selectFrom('one_time_secrets')
      .select(['attempts', 'used_at'])
      .where('member_id', '=', member.id)
      .where('kind', '=', 'sms_code')
      .executeTakeFirstOrThrow();
    assert.equal(row.attempts, 5);
    assert.equal(row.used_at, null);
  });

  it('uses a code and its set-password token once each', async () => {
    const member = await createMember(rig.db);
    const code = await textedCode(rig, member);
    const token = await tokenForCode(rig, member.document, code);
    assert.equal((await verifyCode(rig, member.document, code)).statusCode, 400, 'the code again');

    assert.equal((await setPassword(rig, token, 'unavez2027')).statusCode, 200);
    const again = await setPassword(rig, token, 'dosveces27');
    assert.equal(again.statusCode, 400);
    assert.equal(again.json().error.code, 'TOKEN_INVALID');
    assert.equal((await logIn(rig, member.document, 'unavez2027')).statusCode, 200);
  });

  it('kills the older code when a newer request is made, by SMS or by email', async () => {
    const member = await createMember(rig.db);
    const first = await textedCode(rig, member);
    const second = await textedCode(rig, member);
    assert.equal(
      (await verifyCode(rig, member.document, first)).statusCode,
      first === second ? 200 : 400,
    );

    const third = await textedCode(rig, member);
    const link = await emailedLink(rig, member);
    const stale = await verifyCode(rig, member.document, third);
    assert.equal(stale.statusCode, 400, 'an emailed link supersedes the SMS code');
    assert.equal((await setPassword(rig, tokenIn(link), 'ultimo2027')).statusCode, 200);
  });

  it('turns 50 concurrent verifies of one right code into exactly one token', async () => {
    const member = await createMember(rig.db);
    const code = await textedCode(rig, member);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => verifyCode(rig, member.document, code)),
    );
    const ok = answers.filter((a) => a.statusCode === 200);
    assert.equal(ok.length, 1, `${ok.length} tokens`);
    assert.ok(answers.every((a) => a.statusCode === 200 || a.statusCode === 400));
    const tokens = await rig.db
      .selectFrom('one_time_secrets')
      .select('id')
      .where('member_id', '=', member.id)
      .where('kind', '=', 'set_password')
      .execute();
    assert.equal(tokens.length, 1);
  });

  it('sets the password exactly once for 50 concurrent uses of one token', async () => {
    const member = await createMember(rig.db);
    const token = await tokenForCode(rig, member.document, await textedCode(rig, member));
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        setPassword(rig, token, `carrera${String(i).padStart(2, '0')}`),
      ),
    );
    const ok = answers.flatMap((a, i) => (a.statusCode === 200 ? [i] : []));
    assert.equal(ok.length, 1, `${ok.length} successes`);
    assert.ok(
      answers.every((a) => a.statusCode === 200 || a.json().error.code === 'TOKEN_INVALID'),
    );

    const winner = `carrera${String(ok[0]).padStart(2, '0')}`;
    assert.equal((await logIn(rig, member.document, winner)).statusCode, 200);
    const notices = await rig.db
      .selectFrom('outbox')
      .select('id')
      .where('member_id', '=', member.id)
      .where('template', '=', 'password-changed')
      .execute();
    assert.equal(notices.length, 1, 'one notice email');
  });
});
