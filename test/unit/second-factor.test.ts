// The staff second factor against published vectors (RFC 6238 Appendix B,
// RFC 4648 base32) and the library it is built on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeBase32, encodeBase32UpperCaseNoPadding } from '@oslojs/encoding';
import { createTOTPKeyURI, generateHOTP, generateTOTP } from '@oslojs/otp';
import QRCode from 'qrcode';
import { openText, sealText } from '../../src/auth/secrets.ts';
import {
  keyForManualEntry,
  newRecoveryCodes,
  newTotpKey,
  normalizeRecoveryCode,
  openTotpKey,
  qrSvg,
  randomCode,
  recoveryCodeHash,
  sealTotpKey,
  TOTP_DIGITS,
  TOTP_PERIOD_SECONDS,
  timeStep,
  totpUri,
  UNAMBIGUOUS_ALPHABET,
  verifyTotp,
} from '../../src/staff/second-factor.ts';
import { TEST_SECRET } from '../helper.ts';

/** RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890". */
const RFC_KEY = new TextEncoder().encode('12345678901234567890');

/** RFC 6238 Appendix B, SHA-1 rows: unix time, T (hex in the RFC), 8-digit TOTP. */
const RFC_VECTORS = [
  { seconds: 59, step: 0x1, totp8: '94287082' },
  { seconds: 1111111109, step: 0x23523ec, totp8: '07081804' },
  { seconds: 1111111111, step: 0x23523ed, totp8: '14050471' },
  { seconds: 1234567890, step: 0x273ef07, totp8: '89005924' },
  { seconds: 2000000000, step: 0x3f940aa, totp8: '69279037' },
  { seconds: 20000000000, step: 0x27bc86aa, totp8: '65353130' },
];

const at = (seconds: number) => new Date(seconds * 1000);
/** A moment in the middle of a time step, away from either edge. */
const inStep = (step: number) => at(step * TOTP_PERIOD_SECONDS + 15);

const CODE_PATTERN = new RegExp(`^[${UNAMBIGUOUS_ALPHABET}]{5}-[${UNAMBIGUOUS_ALPHABET}]{5}$`);

describe('TOTP parameters', () => {
  it('are 6 digits every 30 seconds', () => {
    assert.equal(TOTP_DIGITS, 6);
    assert.equal(TOTP_PERIOD_SECONDS, 30);
  });
});

describe('timeStep', () => {
  it('matches the T column of RFC 6238 Appendix B', () => {
    for (const { seconds, step } of RFC_VECTORS) assert.equal(timeStep(at(seconds)), step);
  });

  it('changes exactly on the 30-second boundary', () => {
    assert.equal(timeStep(new Date(29_999)), 0);
    assert.equal(timeStep(new Date(30_000)), 1);
  });

  it('refuses an invalid date', () => {
    assert.throws(() => timeStep(new Date(Number.NaN)), RangeError);
  });
});

describe('verifyTotp against RFC 6238 Appendix B (SHA-1)', () => {
  for (const { seconds, step, totp8 } of RFC_VECTORS) {
    const code = totp8.slice(-6);
    it(`accepts ${code} at T=${seconds} and returns step ${step}`, () => {
      assert.equal(verifyTotp(RFC_KEY, code, at(seconds), null), step);
    });

    it(`agrees with the library's generator at T=${seconds}`, (t) => {
      assert.equal(generateHOTP(RFC_KEY, BigInt(step), 8), totp8);
      assert.equal(generateHOTP(RFC_KEY, BigInt(step), TOTP_DIGITS), code);
      t.mock.timers.enable({ apis: ['Date'], now: seconds * 1000 });
      assert.equal(generateTOTP(RFC_KEY, TOTP_PERIOD_SECONDS, TOTP_DIGITS), code);
    });
  }

  it('accepts a code typed with spaces around and inside it', () => {
    assert.equal(verifyTotp(RFC_KEY, ' 287 082 ', at(59), null), 1);
    assert.equal(verifyTotp(RFC_KEY, '\t005924\n', at(1234567890), null), 0x273ef07);
  });

  it('refuses a wrong code', () => {
    assert.equal(verifyTotp(RFC_KEY, '287083', at(59), null), null);
    assert.equal(verifyTotp(RFC_KEY, '287082', at(59), null), 1);
  });

  it('refuses the right code under another key', () => {
    const otherKey = new TextEncoder().encode('12345678901234567891');
    assert.equal(verifyTotp(otherKey, '287082', at(59), null), null);
  });
});

describe('verifyTotp window', () => {
  const { step, totp8 } = RFC_VECTORS[3] as (typeof RFC_VECTORS)[number];
  const code = totp8.slice(-6);

  it('accepts the code of the previous step (the clock has moved on)', () => {
    assert.equal(verifyTotp(RFC_KEY, code, inStep(step + 1), null), step);
  });

  it('accepts the code of the next step (the phone is a little ahead)', () => {
    assert.equal(verifyTotp(RFC_KEY, code, inStep(step - 1), null), step);
  });

  it('accepts at both edges of the code’s own step', () => {
    assert.equal(verifyTotp(RFC_KEY, code, at(step * 30), null), step);
    assert.equal(verifyTotp(RFC_KEY, code, new Date((step + 1) * 30_000 - 1), null), step);
  });

  it('refuses the code two steps away on either side', () => {
    assert.equal(verifyTotp(RFC_KEY, code, inStep(step + 2), null), null);
    assert.equal(verifyTotp(RFC_KEY, code, inStep(step - 2), null), null);
  });
});

describe('verifyTotp replay', () => {
  const { step, totp8 } = RFC_VECTORS[3] as (typeof RFC_VECTORS)[number];
  const code = totp8.slice(-6);

  it('refuses the same code once its step is stored as used', () => {
    const used = verifyTotp(RFC_KEY, code, inStep(step), null);
    assert.equal(used, step);
    assert.equal(verifyTotp(RFC_KEY, code, inStep(step), used), null);
    // Still inside the window a step later, and still refused.
    assert.equal(verifyTotp(RFC_KEY, code, inStep(step + 1), used), null);
  });

  it('refuses an older code after a newer one was used', () => {
    assert.equal(verifyTotp(RFC_KEY, code, inStep(step), step + 1), null);
  });

  it('accepts the code of a later step', () => {
    const next = generateHOTP(RFC_KEY, BigInt(step + 1), TOTP_DIGITS);
    assert.equal(verifyTotp(RFC_KEY, next, inStep(step + 1), step), step + 1);
    assert.equal(verifyTotp(RFC_KEY, code, inStep(step), step - 1), step);
  });
});

describe('verifyTotp malformed input', () => {
  const cases = [
    ['five digits', '28708'],
    ['seven digits', '2870820'],
    ['eight-digit RFC value', '94287082'],
    ['letters', 'abcdef'],
    ['a digit replaced by a letter', '28708a'],
    ['empty', ''],
    ['only spaces', '   '],
    ['a sign', '-87082'],
    ['full-width digits', '２８７０８２'],
    ['a dash inside', '287-082'],
  ] as const;
  for (const [name, typed] of cases) {
    it(`returns null for ${name}`, () => {
      assert.equal(verifyTotp(RFC_KEY, typed, at(59), null), null);
    });
  }
});

describe('TOTP key', () => {
  it('is 20 random bytes', () => {
    const key = newTotpKey();
    assert.ok(key instanceof Uint8Array);
    assert.equal(key.length, 20);
    assert.notDeepEqual(newTotpKey(), key);
  });

  it('is shown for manual entry as RFC 4648 base32 in groups of 4', () => {
    assert.equal(keyForManualEntry(RFC_KEY), 'GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ');
  });

  it('decodes from its manual-entry form back to the same bytes', () => {
    for (let i = 0; i < 20; i++) {
      const key = newTotpKey();
      const typed = keyForManualEntry(key);
      assert.match(typed, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/);
      assert.deepEqual(decodeBase32(typed.replaceAll(' ', '')), key);
    }
  });
});

describe('totpUri', () => {
  const key = newTotpKey();
  const issuer = 'Obra Social Ñandú';
  const account = 'ana.pérez+mesa@example.org';
  const uri = totpUri(key, issuer, account);

  it('carries the parameters authenticator apps read', () => {
    assert.ok(uri.startsWith('otpauth://totp/'));
    assert.ok(uri.includes('digits=6'));
    assert.ok(uri.includes('period=30'));
    assert.ok(uri.includes('algorithm=SHA1'));
    assert.ok(uri.includes(`secret=${encodeBase32UpperCaseNoPadding(key)}`));
  });

  it('URL-encodes the issuer and the account, spaces as %20', () => {
    const encodedIssuer = 'Obra%20Social%20%C3%91and%C3%BA';
    const encodedAccount = 'ana.p%C3%A9rez%2Bmesa%40example.org';
    assert.ok(uri.startsWith(`otpauth://totp/${encodedIssuer}:${encodedAccount}?`));
    assert.ok(uri.includes(`issuer=${encodedIssuer}`));
    assert.ok(!uri.includes('+'), 'no "+" that an app could show as a literal plus');
  });

  it('parses back to the same key, issuer and account', () => {
    const parsed = new URL(uri);
    assert.equal(parsed.protocol, 'otpauth:');
    assert.equal(parsed.host, 'totp');
    assert.equal(decodeURIComponent(parsed.pathname), `/${issuer}:${account}`);
    assert.equal(parsed.searchParams.get('issuer'), issuer);
    assert.deepEqual(decodeBase32(parsed.searchParams.get('secret') ?? ''), key);
  });

  it('says the same as the library’s createTOTPKeyURI', () => {
    const ours = new URL(uri);
    const theirs = new URL(createTOTPKeyURI(issuer, account, key, 30, 6));
    assert.equal(ours.pathname, theirs.pathname);
    const sorted = (url: URL) => [...url.searchParams.entries()].sort();
    assert.deepEqual(sorted(ours), sorted(theirs));
  });
});

describe('qrSvg', () => {
  const uri = totpUri(RFC_KEY, 'Obra Social', 'ana@example.org');

  it('is an inline SVG with role="img", the aria-label and no style attribute', async () => {
    const svg = await qrSvg(uri, 'Código QR para la aplicación de autenticación');
    assert.ok(svg.startsWith('<svg'));
    assert.ok(svg.endsWith('</svg>'));
    assert.ok(svg.includes(' role="img"'));
    assert.ok(svg.includes(' aria-label="Código QR para la aplicación de autenticación"'));
    assert.ok(!svg.includes('style='));
  });

  it('escapes the label inside the attribute', async () => {
    const svg = await qrSvg(uri, 'a "quoted" <label> & more');
    assert.ok(svg.includes(' aria-label="a &quot;quoted&quot; &lt;label&gt; &amp; more"'));
  });

  it('is qrcode’s own drawing of the URI at error correction M, attributes aside', async () => {
    const svg = await qrSvg(uri, 'QR');
    const plain = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M' });
    assert.equal(svg.replace(' role="img" aria-label="QR"', ''), plain.trim());
    const other = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'L' });
    assert.notEqual(svg.replace(' role="img" aria-label="QR"', ''), other.trim());
  });
});

describe('unambiguous alphabet and randomCode', () => {
  it('has no 0/O and no 1/I/L, and no repeated symbol', () => {
    for (const c of '0O1IL') assert.ok(!UNAMBIGUOUS_ALPHABET.includes(c), c);
    assert.equal(new Set(UNAMBIGUOUS_ALPHABET).size, UNAMBIGUOUS_ALPHABET.length);
    assert.match(UNAMBIGUOUS_ALPHABET, /^[2-9A-Z]+$/);
    assert.equal(UNAMBIGUOUS_ALPHABET.length, 31);
  });

  it('draws codes of the asked length from the alphabet only', () => {
    for (const length of [1, 10, 32]) {
      const code = randomCode(length);
      assert.equal(code.length, length);
      for (const c of code) assert.ok(UNAMBIGUOUS_ALPHABET.includes(c), c);
    }
  });

  it('uses every symbol of the alphabet', () => {
    // 3100 draws: the chance that one of 31 symbols never shows is about 31·e^-102.
    const seen = new Set(randomCode(3100));
    assert.equal(seen.size, UNAMBIGUOUS_ALPHABET.length);
  });

  it('refuses a length that is not a positive integer', () => {
    for (const length of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => randomCode(length), RangeError);
    }
  });
});

describe('recovery codes', () => {
  it('are 10 unique codes "XXXXX-XXXXX" from the unambiguous alphabet', () => {
    const codes = newRecoveryCodes();
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const code of codes) assert.match(code, CODE_PATTERN);
  });

  it('differ from one set to the next', () => {
    const first = new Set(newRecoveryCodes());
    assert.ok(newRecoveryCodes().every((code) => !first.has(code)));
  });

  it('normalise to upper case without dashes or spaces', () => {
    assert.equal(normalizeRecoveryCode('ABCDE-FGHJK'), 'ABCDEFGHJK');
    assert.equal(normalizeRecoveryCode('abcde-fghjk'), 'ABCDEFGHJK');
    assert.equal(normalizeRecoveryCode('  abcde fghjk '), 'ABCDEFGHJK');
    assert.equal(normalizeRecoveryCode('AB CD-EF GH-JK'), 'ABCDEFGHJK');
    assert.equal(normalizeRecoveryCode('ABCDE\u2013FGHJK'), 'ABCDEFGHJK');
    assert.equal(normalizeRecoveryCode('ABCDEFGHJK'), 'ABCDEFGHJK');
  });

  it('normalise every freshly made code back to itself without the dash', () => {
    for (const code of newRecoveryCodes()) {
      assert.equal(normalizeRecoveryCode(code), code.replace('-', ''));
      assert.equal(normalizeRecoveryCode(code.toLowerCase()), code.replace('-', ''));
    }
  });

  it('normalise malformed input to null', () => {
    for (const typed of [
      '',
      '   ',
      'ABCDE-FGHJ',
      'ABCDE-FGHJKM',
      'ABCDE-FGHJ0',
      'ABCDE-FGHJO',
      'ABCDE-FGHJ1',
      'ABCDE-FGHJI',
      'ABCDE-FGHJL',
      'ABCDE_FGHJK',
      'ÁBCDE-FGHJK',
      `ABCDE-FGHJK${' '.repeat(100)}`,
    ]) {
      assert.equal(normalizeRecoveryCode(typed), null, JSON.stringify(typed));
    }
  });

  it('hash stably, the shown and the canonical form alike', () => {
    const hash = recoveryCodeHash(TEST_SECRET, 'ABCDEFGHJK');
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(recoveryCodeHash(TEST_SECRET, 'ABCDEFGHJK'), hash);
    assert.equal(recoveryCodeHash(TEST_SECRET, 'ABCDE-FGHJK'), hash);
    assert.notEqual(recoveryCodeHash(TEST_SECRET, 'ABCDEFGHJM'), hash);
  });

  it('hash under the secret: another secret gives another hash', () => {
    assert.notEqual(
      recoveryCodeHash(TEST_SECRET, 'ABCDEFGHJK'),
      recoveryCodeHash(`${TEST_SECRET}-other`, 'ABCDEFGHJK'),
    );
  });

  it('refuse to hash a malformed code', () => {
    assert.throws(() => recoveryCodeHash(TEST_SECRET, 'not a code'), TypeError);
  });
});

describe('sealed TOTP key', () => {
  it('opens to the same bytes', () => {
    const key = newTotpKey();
    assert.deepEqual(openTotpKey(TEST_SECRET, sealTotpKey(TEST_SECRET, key)), key);
  });

  it('does not show the key in the sealed text', () => {
    const key = newTotpKey();
    const sealed = sealTotpKey(TEST_SECRET, key);
    assert.ok(!sealed.includes(Buffer.from(key).toString('base64')));
    assert.ok(!sealed.includes(Buffer.from(key).toString('base64url')));
    assert.notEqual(sealTotpKey(TEST_SECRET, key), sealed, 'a fresh nonce every time');
  });

  it('refuses to open under another secret', () => {
    const sealed = sealTotpKey(TEST_SECRET, newTotpKey());
    assert.throws(() => openTotpKey(`${TEST_SECRET}-other`, sealed));
  });

  it('refuses a sealed text of another purpose', () => {
    const base64 = Buffer.from(newTotpKey()).toString('base64');
    assert.throws(() => openTotpKey(TEST_SECRET, sealText(TEST_SECRET, 'outbox', base64)));
    const sealed = sealTotpKey(TEST_SECRET, newTotpKey());
    assert.throws(() => openText(TEST_SECRET, 'outbox', sealed));
  });

  it('refuses an altered sealed text', () => {
    const sealed = sealTotpKey(TEST_SECRET, newTotpKey());
    const [iv, tag, body] = sealed.split('.') as [string, string, string];
    const flipped = Buffer.from(body, 'base64url');
    flipped[0] = (flipped[0] as number) ^ 1;
    assert.throws(() =>
      openTotpKey(TEST_SECRET, [iv, tag, flipped.toString('base64url')].join('.')),
    );
  });

  it('refuses a sealed text that holds no key', () => {
    const sealed = sealText(TEST_SECRET, 'staff-totp-key', '');
    assert.throws(() => openTotpKey(TEST_SECRET, sealed), /malformed/);
  });
});
