import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { passwordChangedEmail } from '../../src/courier/templates/password-changed.ts';
import { passwordRequestEmail } from '../../src/courier/templates/password-request.ts';
import { smsCodeMessage } from '../../src/courier/templates/sms-code.ts';

/** The GSM 03.38 basic character set: a message in it fits 160 characters per SMS. */
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

function isGsm7(text: string): boolean {
  return [...text].every((char) => GSM7_BASIC.includes(char));
}

/** No image, script, frame, style sheet or CSS url(): nothing loads from elsewhere. */
function assertNothingRemote(html: string): void {
  assert.doesNotMatch(html, /<(img|script|iframe|link|object|embed)\b/i);
  assert.doesNotMatch(html, /\bsrc\s*=/i);
  assert.doesNotMatch(html, /url\(/i);
}

describe('the SMS with the code', () => {
  it('uses only GSM-7 characters and at most 160 of them, for any code', () => {
    for (const code of ['000000', '123456', '999999', '504030']) {
      const { body } = smsCodeMessage({ code, minutes: 10 });
      assert.ok(isGsm7(body), `not GSM-7: ${[...body].filter((c) => !GSM7_BASIC.includes(c))}`);
      assert.ok(body.length <= 160, `${body.length} characters`);
    }
  });

  it('carries the code as its only run of six digits, and says how long it lasts', () => {
    const { body } = smsCodeMessage({ code: '042917', minutes: 10 });
    assert.deepEqual(body.match(/\d{6,}/g), ['042917']);
    assert.match(body, /10 minutos/);
    assert.match(body, /No lo comparta/);
  });
});

describe('the email «Solicitud nueva contraseña»', () => {
  const link = 'https://portal.example.org/cambiar-contrasena?token=abc_DEF-123';
  const email = passwordRequestEmail({ link, minutes: 30 });

  it('has the manual’s subject, greeting, link and «no tome en cuenta» paragraph in both parts', () => {
    assert.equal(email.subject, 'Solicitud nueva contraseña');
    for (const part of [email.text, email.html]) {
      assert.match(
        part,
        /Estimado\/a Afiliado\/a: hemos recibido su solicitud para obtener una nueva contraseña\./,
      );
      assert.match(part, /haga click en el siguiente link para activar el cambio de contraseña/);
      assert.match(
        part,
        /Si Usted no ha solicitado una nueva contraseña por favor no tome en cuenta este correo/,
      );
      assert.match(part, /30 minutos/);
      assert.match(part, /CALL CENTER 144/);
      assert.match(part, /Atentamente, Autogestión/);
    }
  });

  it('puts the link on a line of its own in the text part and as a button and a visible address in the HTML part', () => {
    assert.ok(email.text.split('\n').includes(link));
    assert.equal(email.html.split(`href="${link}"`).length - 1, 2);
    assert.match(email.html, /Cambiar mi contraseña/);
    assert.match(email.html, /^<!doctype html>\n<html lang="es-UY">/);
  });

  it('escapes the link in the HTML part and loads nothing remote', () => {
    const odd = passwordRequestEmail({
      link: 'https://x.example/?a=1&b="><script>x</script>',
      minutes: 30,
    });
    assert.doesNotMatch(odd.html, /<script>/);
    assert.match(odd.html, /a=1&amp;b=&quot;&gt;&lt;script&gt;/);
    assertNothingRemote(email.html);
  });
});

describe('the email «Su contraseña fue modificada»', () => {
  // 2026-11-25 15:45 UTC is 12:45 in Montevideo (UTC−3 all year).
  const at = new Date('2026-11-25T15:45:00Z');

  it('says when (Uruguay time) and how the password changed, and whom to call', () => {
    const email = passwordChangedEmail({ at, via: 'sms' });
    assert.equal(email.subject, 'Su contraseña fue modificada');
    for (const part of [email.text, email.html]) {
      assert.match(part, /Estimado\/a Afiliado\/a/);
      assert.match(part, /25 de noviembre de 2026/);
      assert.match(part, /12:45/);
      assert.match(part, /hora de Uruguay/);
      assert.match(part, /con el código que le enviamos por SMS/);
      assert.match(part, /CALL CENTER 144/);
    }
    assertNothingRemote(email.html);
  });

  it('names each way a password can change, and a neutral one for anything else', () => {
    assert.match(
      passwordChangedEmail({ at, via: 'email' }).text,
      /con el link que le enviamos por email/,
    );
    assert.match(passwordChangedEmail({ at, via: 'settings' }).text, /desde su sesión/);
    assert.match(passwordChangedEmail({ at, via: 'desk' }).text, /centro de atención/);
    assert.match(passwordChangedEmail({ at, via: 'otro' }).text, /en el Portal del Socio\./);
  });
});
