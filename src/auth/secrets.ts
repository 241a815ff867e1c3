// Random tokens and their stored forms. A raw token is only ever handed to
// the member; the database keeps its SHA-256 (or an HMAC for short values).
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';

/** 256 random bits, URL-safe. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A keyed hash for values too short or too guessable for a plain hash (codes, documents). */
export function keyedHash(key: string, purpose: string, value: string): string {
  return createHmac('sha256', key).update(`${purpose}\0${value}`).digest('hex');
}

export function equalStrings(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** AES-256-GCM as sealText uses it: a 96-bit nonce and the full 128-bit tag. */
const SEAL_IV_BYTES = 12;
const SEAL_TAG_BYTES = 16;

function sealKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`seal\0${purpose}`).digest();
}

/**
 * Seals text with AES-256-GCM under a key derived from the app secret, for
 * values that must be stored but read back later (queued messages).
 */
export function sealText(secret: string, purpose: string, plaintext: string): string {
  const iv = randomBytes(SEAL_IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealKey(secret, purpose), iv, {
    authTagLength: SEAL_TAG_BYTES,
  });
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64url')).join('.');
}

/**
 * Opens what sealText sealed; throws if it was altered or sealed with another
 * key. The tag must be the full 16 bytes: GCM would otherwise check only as
 * many bytes as it is given, so a tag cut to 4 bytes could be forged by trial.
 */
export function openText(secret: string, purpose: string, sealed: string): string {
  const [iv, tag, body, extra] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !tag || !body || extra) throw new Error('sealed text is malformed');
  if (iv.length !== SEAL_IV_BYTES || tag.length !== SEAL_TAG_BYTES) {
    throw new Error('sealed text is malformed');
  }
  const decipher = createDecipheriv('aes-256-gcm', sealKey(secret, purpose), iv, {
    authTagLength: SEAL_TAG_BYTES,
  });
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}

/** A code of `length` decimal digits from a uniform CSPRNG draw. */
export function generateNumericCode(length = 6): string {
  return String(randomInt(0, 10 ** length)).padStart(length, '0');
}
