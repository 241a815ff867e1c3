import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EmailContent, SmsContent } from '../../src/courier/message.ts';
import {
  contactChangedEmail,
  contactChangedSms,
} from '../../src/courier/templates/contact-changed.ts';
import { contactCodeMessage } from '../../src/courier/templates/contact-code.ts';
import { contactLinkEmail } from '../../src/courier/templates/contact-link.ts';
import { passwordChangedEmail } from '../../src/courier/templates/password-changed.ts';
import { passwordRequestEmail } from '../../src/courier/templates/password-request.ts';
import { smsCodeMessage } from '../../src/courier/templates/sms-code.ts';
import { type Brand, type BrandEnv, brandFromEnv } from '../../src/site/brand.ts';

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

/** A brand as config.ts makes it from BRAND_* variables; the variables must be valid. */
function brandOf(env: BrandEnv): Brand {
  const problems: string[] = [];
  const brand = brandFromEnv(env, problems);
  assert.deepEqual(problems, [], 'the test brand is valid');
  return brand;
}

/** No BRAND_* set: the provider of the manual. */
const DEFAULT_BRAND = brandOf({});

/** Another provider, as the tests configure it. */
const OTHER_BRAND = brandOf({
  BRAND_NAME: 'Mutualista del Ejemplo',
  BRAND_PRIMARY_COLOR: '#0b5394',
  BRAND_CALL_CENTER: '0800 1234',
});

/** What must not appear once another brand is configured: the default's name, colours and number. */
const DEFAULT_TRACES = [
  'Autogestión',
  'Autogestion',
  '#a0102e',
  '#7a0c23',
  DEFAULT_BRAND.primaryDark,
  ' 144',
  'tel:144',
];

const LINK = 'https://portal.example.org/cambiar-contrasena?token=abc_DEF-123';
// 2026-11-25 15:45 UTC is 12:45 in Montevideo (UTC−3 all year).
const AT = new Date('2026-11-25T15:45:00Z');

/** Every email the portal sends, rendered for a brand. */
function everyEmail(brand: Brand): [string, EmailContent][] {
  return [
    ['password request', passwordRequestEmail({ brand, link: LINK, minutes: 30 })],
    ...['email', 'sms', 'settings', 'desk'].map((via): [string, EmailContent] => [
      `password changed (${via})`,
      passwordChangedEmail({ brand, at: AT, via }),
    ]),
    ['contact link', contactLinkEmail({ brand, link: LINK, minutes: 30 })],
    ['contact changed (email)', contactChangedEmail({ brand, at: AT, kind: 'email' })],
    ['contact changed (mobile)', contactChangedEmail({ brand, at: AT, kind: 'mobile' })],
  ];
}

/** Every SMS the portal sends, rendered for a brand, with the longest code text's inputs. */
function everySms(brand: Brand, code = '999999', minutes = 30): [string, SmsContent][] {
  return [
    ['code', smsCodeMessage({ brand, code, minutes })],
    ['contact code', contactCodeMessage({ brand, code, minutes })],
    ['contact changed', contactChangedSms({ brand })],
  ];
}

describe('the SMS with the code', () => {
  it('uses only GSM-7 characters and at most 160 of them, for any code', () => {
    for (const code of ['000000', '123456', '999999', '504030']) {
      const { body } = smsCodeMessage({ brand: DEFAULT_BRAND, code, minutes: 10 });
      assert.ok(isGsm7(body), `not GSM-7: ${[...body].filter((c) => !GSM7_BASIC.includes(c))}`);
      assert.ok(body.length <= 160, `${body.length} characters`);
    }
  });

  it('carries the code as its only run of six digits, and says how long it lasts', () => {
    const { body } = smsCodeMessage({ brand: DEFAULT_BRAND, code: '042917', minutes: 10 });
    assert.deepEqual(body.match(/\d{6,}/g), ['042917']);
    assert.match(body, /10 minutos/);
    assert.match(body, /No lo comparta/);
  });
});

describe('the email «Solicitud nueva contraseña»', () => {
  const link = LINK;
  const email = passwordRequestEmail({ brand: DEFAULT_BRAND, link, minutes: 30 });

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
      brand: DEFAULT_BRAND,
      link: 'https://x.example/?a=1&b="><script>x</script>',
      minutes: 30,
    });
    assert.doesNotMatch(odd.html, /<script>/);
    assert.match(odd.html, /a=1&amp;b=&quot;&gt;&lt;script&gt;/);
    assertNothingRemote(email.html);
  });
});

describe('the email «Su contraseña fue modificada»', () => {
  const at = AT;

  it('says when (Uruguay time) and how the password changed, and whom to call', () => {
    const email = passwordChangedEmail({ brand: DEFAULT_BRAND, at, via: 'sms' });
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
    const text = (via: string) => passwordChangedEmail({ brand: DEFAULT_BRAND, at, via }).text;
    assert.match(text('email'), /con el link que le enviamos por email/);
    assert.match(text('settings'), /desde su sesión/);
    assert.match(text('desk'), /centro de atención/);
    assert.match(text('otro'), /en el Portal del Socio\./);
  });
});

describe('emails and SMS with the default brand', () => {
  it('sign with «Autogestión», paint the header and buttons #a0102e and link the call centre 144', () => {
    for (const [name, email] of everyEmail(DEFAULT_BRAND)) {
      for (const part of [email.text, email.html]) {
        assert.ok(part.includes('Atentamente, Autogestión'), `${name}: signature`);
        assert.ok(part.includes('CALL CENTER 144'), `${name}: call centre`);
      }
      assert.ok(email.html.includes('background:#a0102e;color:#ffffff'), `${name}: header`);
      assert.ok(email.html.includes('href="tel:144"'), `${name}: tel: link`);
      assertNothingRemote(email.html);
    }
    for (const [name, sms] of everySms(DEFAULT_BRAND)) {
      assert.ok(sms.body.startsWith('Autogestion: '), `${name}: ${sms.body}`);
    }
  });
});

describe('emails and SMS with another brand', () => {
  const brand = OTHER_BRAND;

  it('carry its name and call centre in both parts of every email, and none of the default brand', () => {
    for (const [name, email] of everyEmail(brand)) {
      for (const [partName, part] of [
        ['text', email.text],
        ['html', email.html],
      ] as const) {
        const where = `${name}, ${partName} part`;
        assert.ok(part.includes('Atentamente, Mutualista del Ejemplo'), `${where}: signature`);
        assert.ok(part.includes('CALL CENTER 0800 1234'), `${where}: call centre`);
        for (const trace of DEFAULT_TRACES)
          assert.ok(!part.includes(trace), `${where} still carries «${trace}»`);
      }
      assert.ok(email.html.includes('#0b5394'), `${name}: the brand's colour`);
      assert.ok(email.html.includes('href="tel:08001234"'), `${name}: the tel: link`);
      assertNothingRemote(email.html);
    }
  });

  it('paint the header band and the button in its colour with white text, and links in its darker shade', () => {
    const email = passwordRequestEmail({ brand, link: LINK, minutes: 30 });
    const header = /<td style="([^"]*)">([^<]*)<\/td>/.exec(email.html);
    assert.ok(header, 'a header band');
    assert.match(header[1] as string, /background:#0b5394;color:#ffffff;/);
    assert.equal(header[2], 'Mutualista del Ejemplo · Portal del Socio');

    const escaped = LINK.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const button = new RegExp(
      `<a href="${escaped}" style="([^"]*)">Cambiar mi contraseña</a>`,
    ).exec(email.html);
    assert.ok(button, 'a button');
    assert.match(button[1] as string, /background:#0b5394;color:#ffffff;/);

    assert.equal(brand.primaryDark, '#094276');
    assert.ok(email.html.includes(`<a href="${LINK}" style="color:#094276;">${LINK}</a>`));
    assert.ok(
      email.html.includes(
        '<a href="tel:08001234" style="color:#094276;font-weight:bold;">CALL CENTER 0800 1234</a>',
      ),
    );
  });

  it('name it in every SMS, with its number where the SMS names one, and none of the default brand', () => {
    for (const [name, sms] of everySms(brand)) {
      assert.ok(sms.body.startsWith('Mutualista del Ejemplo: '), `${name}: ${sms.body}`);
      for (const trace of DEFAULT_TRACES)
        assert.ok(!sms.body.includes(trace), `${name} still carries «${trace}»`);
    }
    assert.match(contactChangedSms({ brand }).body, /llame al 0800 1234\.$/);
  });

  it('escape a name with markup characters in the HTML part and keep it as written in the text part', () => {
    const odd = brandOf({ BRAND_NAME: 'Salud & Vida <Norte>' });
    for (const [name, email] of everyEmail(odd)) {
      assert.ok(email.text.includes('Atentamente, Salud & Vida <Norte>'), name);
      assert.ok(email.html.includes('Salud &amp; Vida &lt;Norte&gt; · Portal del Socio'), name);
      assert.ok(!email.html.includes('<Norte>'), name);
    }
  });
});

describe('SMS with a long accented name', () => {
  const name = 'Asociación Médica Española de Socorros M';
  const brand = brandOf({ BRAND_NAME: name, BRAND_CALL_CENTER: '+0800 1234 5678 90123' });

  it('stay GSM-7 and within 160 characters with the longest name, code text and number', () => {
    assert.equal([...name].length, 40, 'BRAND_NAME at its longest');
    assert.equal(
      brand.callCenter.replace(/^\+/, '').length,
      20,
      'BRAND_CALL_CENTER at its longest',
    );
    for (const [kind, sms] of everySms(brand, '999999', 30)) {
      assert.ok(
        isGsm7(sms.body),
        `${kind} not GSM-7: ${[...sms.body].filter((c) => !GSM7_BASIC.includes(c))}`,
      );
      assert.ok(sms.body.length <= 160, `${kind}: ${sms.body.length} characters`);
    }
    for (const [kind, sms] of everySms(brand, '042917', 30).slice(0, 2))
      assert.deepEqual(sms.body.match(/\d{6,}/g), ['042917'], kind);
  });

  it('write the name without accents (the brand’s SMS name), and the emails with them', () => {
    assert.equal(brand.smsName, 'Asociacion Medica Espanola de Socorros M');
    for (const [kind, sms] of everySms(brand)) {
      assert.ok(sms.body.startsWith(`${brand.smsName}: `), `${kind}: ${sms.body}`);
      assert.doesNotMatch(sms.body, /[óéñ]/, kind);
    }
    const email = passwordRequestEmail({ brand, link: LINK, minutes: 30 });
    assert.ok(email.text.includes(`Atentamente, ${name}`));
  });
});

describe('the templates’ source', () => {
  it('writes no name, colour or number of the default brand: they come from the brand', () => {
    const folder = fileURLToPath(new URL('../../src/courier/templates/', import.meta.url));
    const files = readdirSync(folder).filter((file) => file.endsWith('.ts'));
    assert.ok(files.length >= 7, files.join(', '));
    for (const file of files) {
      const source = readFileSync(`${folder}${file}`, 'utf8');
      for (const trace of ['#a0102e', '#7a0c23', 'Autogestión', 'Autogestion', '144'])
        assert.ok(!source.includes(trace), `${file} writes «${trace}»`);
    }
  });
});
