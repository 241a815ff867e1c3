// How the member home names and masks what it stores (src/flows/settings/
// describe.ts), and the texts it sends to a new or an old contact.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  contactChangedEmail,
  contactChangedSms,
} from '../../src/courier/templates/contact-changed.ts';
import { contactCodeMessage } from '../../src/courier/templates/contact-code.ts';
import { contactLinkEmail } from '../../src/courier/templates/contact-link.ts';
import {
  describeUserAgent,
  describeWhere,
  maskedAddress,
  maskedEmail,
  maskedMobile,
} from '../../src/flows/settings/describe.ts';
import { brandFromEnv } from '../../src/site/brand.ts';

/** The GSM 03.38 basic character set: a message in it fits 160 characters per SMS. */
const GSM7_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const isGsm7 = (text: string) => [...text].every((char) => GSM7_BASIC.includes(char));

/** The default brand (no BRAND_* set). */
const problems: string[] = [];
const brand = brandFromEnv({}, problems);
assert.deepEqual(problems, []);

describe("a session's device and browser", () => {
  const cases: [string, string, string][] = [
    [
      'Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36',
      'Android',
      'Chrome',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'iPhone',
      'Safari',
    ],
    [
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0',
      'Windows',
      'Edge',
    ],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
      'Mac',
      'Safari',
    ],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Linux', 'Firefox'],
  ];

  it('names common devices and browsers from the user agent', () => {
    for (const [userAgent, device, browser] of cases)
      assert.deepEqual(
        { ...describeUserAgent(userAgent, 'web') },
        { device, browser, known: true },
        userAgent,
      );
  });

  it('says "desconocido" for what it cannot tell, and names the app for API sessions', () => {
    assert.deepEqual(describeUserAgent(null, 'web'), {
      device: 'Dispositivo desconocido',
      browser: 'Navegador desconocido',
      known: false,
    });
    assert.equal(describeUserAgent('okhttp/4.12.0', 'api').browser, 'App del Portal');
    assert.equal(describeWhere(null, 'web'), null);
    assert.equal(describeWhere('okhttp/4.12.0', 'api'), 'App del Portal');
  });

  it('never shows words a client put in its user agent (only names from a fixed list)', () => {
    // The parser lifts a model name from the user agent as sent: "Llame al 0800 1234".
    const crafted =
      'Mozilla/5.0 (Linux; Android 14; Llame al 0800 1234 Build/X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/1 Mobile Safari/537.36';
    assert.deepEqual(
      { ...describeUserAgent(crafted, 'web') },
      { device: 'Android', browser: 'Chrome', known: true },
    );
    const unknown = describeUserAgent('LlameAl0800Fraude/1.0 (Llame al 0800 1234)', 'web');
    assert.equal(unknown.device, 'Dispositivo desconocido');
    assert.equal(unknown.browser, 'Navegador desconocido');
  });
});

describe('an address, masked', () => {
  it('keeps the first two parts of an IPv4 address and the first two groups of an IPv6 one', () => {
    assert.equal(maskedAddress('203.0.113.7'), '203.0.*.*');
    assert.equal(maskedAddress('2001:db8:85a3::8a2e:370:7334'), '2001:db8:…');
    assert.equal(maskedAddress('2001:db8::1'), '2001:db8:…');
    assert.equal(maskedAddress('::FFFF:198.51.100.23'), '198.51.*.*');
    assert.equal(maskedAddress('fe80::1%eth0'), 'fe80:0:…');
  });

  it('shows nothing for a missing or malformed address', () => {
    assert.equal(maskedAddress(null), null);
    assert.equal(maskedAddress('not-an-address'), null);
    assert.equal(maskedAddress('203.0.113'), null);
  });
});

describe('contacts, masked', () => {
  it('keeps the first character and the domain of an email', () => {
    assert.equal(maskedEmail('ana.perez@example.org'), 'a***@example.org');
    assert.equal(maskedEmail(null), null);
  });

  it('shows a Uruguayan mobile in its national form, keeping the last three digits', () => {
    assert.equal(maskedMobile('+59899111222'), '09*****222');
    assert.equal(maskedMobile('+5491155554444'), '*****444');
    assert.equal(maskedMobile(null), null);
  });
});

describe('the messages of a contact change', () => {
  it('sends the code in GSM-7, under 160 characters, as its only run of six digits', () => {
    for (const code of ['000000', '123456', '999999']) {
      const { body } = contactCodeMessage({ brand, code, minutes: 10 });
      assert.ok(isGsm7(body), body);
      assert.ok(body.length <= 160, `${body.length} characters`);
      assert.deepEqual(body.match(/\d{6,}/g), [code]);
    }
  });

  it('tells the old mobile in GSM-7, under 160 characters, without any number', () => {
    const { body } = contactChangedSms({ brand });
    assert.ok(isGsm7(body), body);
    assert.ok(body.length <= 160);
    assert.match(body, /datos de contacto/);
  });

  it('emails the link in both parts, and the notice says what changed', () => {
    const link = 'https://portal.example.org/mi-cuenta/contacto/confirmar?token=abc';
    const email = contactLinkEmail({ brand, link, minutes: 30 });
    assert.equal(email.subject, 'Confirme su nuevo email');
    for (const part of [email.text, email.html]) {
      assert.ok(part.includes(link));
      assert.match(part, /30 minutos/);
    }
    const notice = contactChangedEmail({
      brand,
      at: new Date('2026-11-25T12:00:00Z'),
      kind: 'mobile',
    });
    assert.equal(notice.subject, 'Sus datos de contacto fueron modificados');
    assert.match(notice.text, /El número de celular de su cuenta/);
    assert.match(notice.text, /25 de noviembre de 2026/);
  });
});
