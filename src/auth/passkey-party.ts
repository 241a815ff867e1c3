// Who the portal is to a passkey (WebAuthn's "relying party"), read from the
// configuration once: its id (PUBLIC_URL's host name), the origins whose
// answers are accepted (PUBLIC_URL's, and the Android apps' named in
// PASSKEY_ANDROID_APPS), and the native apps that share its passkeys
// (served at /.well-known/assetlinks.json and
// /.well-known/apple-app-site-association, src/routes/well-known.ts).
import { isIP } from 'node:net';

export interface AndroidApp {
  packageName: string;
  /** The signing certificate's SHA-256, as Android tools print it: "AA:BB:…" (32 bytes). */
  fingerprint: string;
}

export interface PasskeyParty {
  /**
   * PUBLIC_URL's host name; null when it is an IP address, which WebAuthn
   * refuses as a relying party: passkeys are then off (the button is not shown).
   */
  readonly rpId: string | null;
  /** The origins a passkey's answer may come from. */
  readonly origins: readonly string[];
  readonly androidApps: readonly AndroidApp[];
  /** "TEAMID.bundle.id" of iOS apps (apple-app-site-association's webcredentials). */
  readonly appleAppIds: readonly string[];
}

const FINGERPRINT = /^[0-9A-F]{2}(?::[0-9A-F]{2}){31}$/;
const PACKAGE = /^[a-zA-Z][a-zA-Z0-9_]*(?:\.[a-zA-Z][a-zA-Z0-9_]*)+$/;
const APPLE_APP_ID = /^[A-Z0-9]{10}\.[a-zA-Z0-9.-]+$/;

/** "uy.example.portal=AA:BB:…, …" → apps; problems in English for the operator. */
export function parseAndroidApps(raw: string | undefined, problems: string[]): AndroidApp[] {
  if (!raw) return [];
  const apps: AndroidApp[] = [];
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [packageName = '', fingerprint = ''] = entry.split('=').map((p) => p.trim());
    const upper = fingerprint.toUpperCase();
    if (!PACKAGE.test(packageName) || !FINGERPRINT.test(upper)) {
      problems.push(
        `PASSKEY_ANDROID_APPS: "${entry.slice(0, 120)}" is not package=SHA256_FINGERPRINT (e.g. uy.example.portal=AB:CD:…, 32 pairs of hex digits)`,
      );
      continue;
    }
    apps.push({ packageName, fingerprint: upper });
  }
  return apps;
}

export function parseAppleAppIds(raw: string | undefined, problems: string[]): string[] {
  if (!raw) return [];
  const ids = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const id of ids)
    if (!APPLE_APP_ID.test(id))
      problems.push(
        `PASSKEY_APPLE_APP_IDS: "${id.slice(0, 120)}" is not TEAMID.bundle.id (a 10-character team id, a dot, the bundle id)`,
      );
  return ids.filter((id) => APPLE_APP_ID.test(id));
}

/** The origin an Android app's passkey answers carry: its signing key's hash, base64url. */
export function androidOrigin(app: AndroidApp): string {
  const bytes = Buffer.from(app.fingerprint.replaceAll(':', ''), 'hex');
  return `android:apk-key-hash:${bytes.toString('base64url')}`;
}

export function passkeyParty(
  publicUrl: string,
  androidApps: readonly AndroidApp[],
  appleAppIds: readonly string[],
): PasskeyParty {
  const url = new URL(publicUrl);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return Object.freeze({
    rpId: isIP(host) === 0 ? host : null,
    origins: Object.freeze([url.origin, ...androidApps.map(androidOrigin)]),
    androidApps: Object.freeze([...androidApps]),
    appleAppIds: Object.freeze([...appleAppIds]),
  });
}
