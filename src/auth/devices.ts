// Device cookies, as OWASP recommends against targeted lockout ("Slow Down
// Online Guessing Attacks with Device Cookies"): a browser or app that has
// logged in as a member carries a signed token naming that member. Its login
// tries are counted against the device's own small budget, not against the
// account's wait that tries from elsewhere start; its password requests have
// their own share of the member's message budget and are not cancelled by
// requests from elsewhere (ADR 016).
//
// The token is `v1.<member id>.<issued, seconds>.<nonce>.<mac>`, the mac an
// HMAC of the rest under APP_SECRET. Nothing is stored at issue time; the
// nonce names the device's budget (hashed, in account_lockouts).
import { randomBytes } from 'node:crypto';
import { equalStrings, keyedHash } from './secrets.ts';

/** How long a device stays known without a new login (each login renews it). */
export const DEVICE_TOKEN_DAYS = 180;
const DEVICE_TOKEN_MS = DEVICE_TOKEN_DAYS * 86_400_000;
const FORMAT = /^v1\.(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{22})\.([a-f0-9]{64})$/;

export interface KnownDevice {
  memberId: number;
  /** The key of this device's own login budget (never the raw nonce). */
  budgetKey: string;
}

/** A new device token for `memberId`, issued at `now`. */
export function issueDeviceToken(secret: string, memberId: number, now: Date): string {
  const body = `v1.${memberId}.${Math.floor(now.getTime() / 1000)}.${randomBytes(16).toString('base64url')}`;
  return `${body}.${keyedHash(secret, 'device-token', body)}`;
}

/** The device a token names, when it is ours, unaltered and not older than its lifetime. */
export function readDeviceToken(
  secret: string,
  token: string | null | undefined,
  now: Date,
): KnownDevice | null {
  if (!token || token.length > 160) return null;
  const match = FORMAT.exec(token);
  if (!match) return null;
  const [, memberId, issued, nonce, mac] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  const body = token.slice(0, token.length - mac.length - 1);
  if (!equalStrings(mac, keyedHash(secret, 'device-token', body))) return null;
  const age = now.getTime() - Number(issued) * 1000;
  if (age < -60_000 || age > DEVICE_TOKEN_MS) return null;
  return { memberId: Number(memberId), budgetKey: `device:${keyedHash(secret, 'device', nonce)}` };
}

/** The device, when the token names exactly this member. */
export function knownDeviceFor(
  secret: string,
  token: string | null | undefined,
  memberId: number | undefined,
  now: Date,
): KnownDevice | null {
  if (memberId === undefined) return null;
  const device = readDeviceToken(secret, token, now);
  return device?.memberId === memberId ? device : null;
}
