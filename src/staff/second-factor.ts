// The staff second factor: TOTP (RFC 6238 over @oslojs/otp's HOTP) and the
// single-use recovery codes that stand in for a lost authenticator. Pure
// functions: the caller owns the clock, the storage and the throttling.
import { randomBytes, randomInt } from 'node:crypto';
import { encodeBase32UpperCaseNoPadding } from '@oslojs/encoding';
import { verifyHOTP } from '@oslojs/otp';
import QRCode from 'qrcode';
import { keyedHash, openText, sealText } from '../auth/secrets.ts';
import { escapeHtml } from '../views/html.ts';

export const TOTP_DIGITS = 6;
export const TOTP_PERIOD_SECONDS = 30;

/** RFC 4226 §4 recommends 160 bits, which is also SHA-1's block-friendly size. */
const TOTP_KEY_BYTES = 20;
/** RFC 4226 §4 forbids shorter keys; anything shorter read back is corruption. */
const TOTP_KEY_MIN_BYTES = 16;

const SEAL_PURPOSE_TOTP_KEY = 'staff-totp-key';
const HASH_PURPOSE_RECOVERY_CODE = 'staff-recovery-code';

/** A new TOTP key: 20 random bytes (160 bits, RFC 4226's recommendation). */
export function newTotpKey(): Uint8Array {
  // A plain Uint8Array rather than the Buffer itself, so it compares and
  // serialises like every other key in the code.
  return new Uint8Array(randomBytes(TOTP_KEY_BYTES));
}

/** The key as members of staff type it by hand: base32 without padding, in groups of 4 ("ABCD EFGH …"). */
export function keyForManualEntry(key: Uint8Array): string {
  const base32 = encodeBase32UpperCaseNoPadding(key);
  return (base32.match(/.{1,4}/g) ?? []).join(' ');
}

/**
 * otpauth:// URI for authenticator apps: issuer = the brand's name, account = the staff email.
 *
 * Built here rather than with @oslojs/otp's createTOTPKeyURI because that one
 * writes the issuer parameter through URLSearchParams, which turns spaces into
 * "+"; the Key URI Format asks for RFC 3986 percent-encoding ("ACME%20Co"),
 * and some authenticator apps show a literal "+" in a brand name otherwise.
 * The fields and their values are the same as the library's.
 */
export function totpUri(key: Uint8Array, issuer: string, account: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const params = [
    ['secret', encodeBase32UpperCaseNoPadding(key)],
    ['issuer', issuer],
    ['algorithm', 'SHA1'],
    ['digits', String(TOTP_DIGITS)],
    ['period', String(TOTP_PERIOD_SECONDS)],
  ]
    .map(([name, value]) => `${name}=${encodeURIComponent(value as string)}`)
    .join('&');
  return `otpauth://totp/${label}?${params}`;
}

/**
 * The QR code of that URI as an inline SVG string (error correction M), with
 * role="img" and the caller's aria-label. qrcode 1.5 emits presentation
 * attributes only (fill, stroke, viewBox); any style attribute is removed all
 * the same, because the CSP forbids inline styles and a future version of the
 * renderer must not break the enrolment page silently.
 */
export async function qrSvg(uri: string, label: string): Promise<string> {
  const svg = await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M' });
  const withoutStyles = svg.trim().replace(/\sstyle\s*=\s*("[^"]*"|'[^']*')/gi, '');
  if (!withoutStyles.startsWith('<svg ')) throw new Error('qrcode did not return an SVG element');
  return withoutStyles.replace('<svg ', `<svg role="img" aria-label="${escapeHtml(label)}" `);
}

/** The time step (counter) of a moment: floor(unix seconds / 30). */
export function timeStep(now: Date): number {
  const step = Math.floor(now.getTime() / (TOTP_PERIOD_SECONDS * 1000));
  if (!Number.isSafeInteger(step)) throw new RangeError('timeStep needs a valid date');
  return step;
}

/**
 * Checks a 6-digit code against the previous, current and next time step of
 * `now` (one step either way absorbs clock drift and the seconds it takes to
 * type, as RFC 6238 §5.2 suggests). A step at or before `lastUsedStep` is
 * refused: a code is good once, and an older one after a newer one was used
 * is a replay too. Returns the matched step, to be stored as the new
 * lastUsedStep, or null. The comparison is the library's constant-time one.
 */
export function verifyTotp(
  key: Uint8Array,
  code: string,
  now: Date,
  lastUsedStep: number | null,
): number | null {
  const typed = code.trim().replace(/\s+/g, '');
  if (!/^[0-9]{6}$/.test(typed)) return null;
  const current = timeStep(now);
  for (const step of [current - 1, current, current + 1]) {
    if (step < 0) continue;
    if (lastUsedStep !== null && step <= lastUsedStep) continue;
    if (verifyHOTP(key, BigInt(step), TOTP_DIGITS, typed)) return step;
  }
  return null;
}

/**
 * Characters nobody confuses when reading a printed code or typing it from
 * one: no 0/O and no 1/I/L. 31 symbols, so 10 of them carry about 49.5 bits.
 */
export const UNAMBIGUOUS_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/**
 * A random code of `length` characters from UNAMBIGUOUS_ALPHABET. randomInt
 * draws by rejection sampling, so every character is equally likely (a byte
 * taken modulo 31 would favour the first few).
 */
export function randomCode(length: number): string {
  if (!Number.isSafeInteger(length) || length < 1) {
    throw new RangeError('randomCode needs a positive integer length');
  }
  let code = '';
  for (let i = 0; i < length; i++)
    code += UNAMBIGUOUS_ALPHABET[randomInt(UNAMBIGUOUS_ALPHABET.length)];
  return code;
}

const RECOVERY_CODE_COUNT = 10;
const RECOVERY_CODE_LENGTH = 10;
const RECOVERY_CODE_PATTERN = new RegExp(`^[${UNAMBIGUOUS_ALPHABET}]{${RECOVERY_CODE_LENGTH}}$`);
/** Spaces and every dash a keyboard or a copy from a document can produce. */
const RECOVERY_CODE_SEPARATORS = /[\s\-\u2010-\u2015\u2212]/g;
/** Far above any honest typing; keeps the normalisation cheap on junk input. */
const RECOVERY_CODE_MAX_TYPED = 64;

/** 10 recovery codes, each 10 characters from an unambiguous alphabet, shown as "XXXXX-XXXXX". */
export function newRecoveryCodes(): string[] {
  // A Set, so a (vanishingly rare) repeated draw cannot leave a member of
  // staff with fewer usable codes than the page shows.
  const codes = new Set<string>();
  while (codes.size < RECOVERY_CODE_COUNT) {
    const code = randomCode(RECOVERY_CODE_LENGTH);
    codes.add(`${code.slice(0, 5)}-${code.slice(5)}`);
  }
  return [...codes];
}

/** The canonical form of a typed recovery code (upper case, dashes/spaces removed) or null if malformed. */
export function normalizeRecoveryCode(typed: string): string | null {
  if (typed.length > RECOVERY_CODE_MAX_TYPED) return null;
  const canonical = typed.replace(RECOVERY_CODE_SEPARATORS, '').toUpperCase();
  return RECOVERY_CODE_PATTERN.test(canonical) ? canonical : null;
}

/**
 * Keyed hash for storing a recovery code. Keyed (HMAC with the app secret)
 * because ~50 bits could be brute-forced from a leaked plain hash. The code is
 * normalised again so the shown form ("ABCDE-FGHJK") and the canonical one
 * hash alike; anything malformed is a caller bug and throws.
 */
export function recoveryCodeHash(secret: string, normalized: string): string {
  const canonical = normalizeRecoveryCode(normalized);
  if (canonical === null) throw new TypeError('recoveryCodeHash needs a well-formed recovery code');
  return keyedHash(secret, HASH_PURPOSE_RECOVERY_CODE, canonical);
}

/** The TOTP key sealed for the database (AES-256-GCM under a key derived from the app secret). */
export function sealTotpKey(secret: string, key: Uint8Array): string {
  return sealText(secret, SEAL_PURPOSE_TOTP_KEY, Buffer.from(key).toString('base64'));
}

/** Opens what sealTotpKey sealed; throws if it was altered, sealed under another secret or is not a key. */
export function openTotpKey(secret: string, sealed: string): Uint8Array {
  const base64 = openText(secret, SEAL_PURPOSE_TOTP_KEY, sealed);
  const key = new Uint8Array(Buffer.from(base64, 'base64'));
  if (key.length < TOTP_KEY_MIN_BYTES) throw new Error('sealed TOTP key is malformed');
  return key;
}
