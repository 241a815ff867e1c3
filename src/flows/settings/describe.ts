// How the member home shows what it stores: a session's device and browser
// (from its user agent, by ua-parser-js), an address, a time, a contact, all
// masked or named for a member to read. Pure functions, no database.
import { isIP } from 'node:net';
import { UAParser } from 'ua-parser-js';
import { account } from '../../messages/es.ts';
import { DISPLAY_TIME_ZONE } from './state.ts';

export interface DeviceNames {
  /** "Android", "iPhone", "Windows", "Mac"…, or "Dispositivo desconocido". */
  device: string;
  /** "Chrome", "Safari", "Firefox"…, "App del Portal" for the app, or "Navegador desconocido". */
  browser: string;
  /** Whether either name came from the user agent (else both are the unknown ones). */
  known: boolean;
}

/**
 * Browsers shown by name, keyed by the parser's name without "Mobile ". Only
 * these: a user agent is whatever the client sent, and a name the parser
 * lifted from it must never put a stranger's words on the member's page.
 */
const BROWSERS: Readonly<Record<string, string>> = {
  Chrome: 'Chrome',
  'Chrome WebView': 'Chrome',
  'Chrome Headless': 'Chrome',
  Chromium: 'Chromium',
  Safari: 'Safari',
  Firefox: 'Firefox',
  Edge: 'Edge',
  Opera: 'Opera',
  'Opera Mini': 'Opera Mini',
  'Samsung Internet': 'Samsung Internet',
  'Huawei Browser': 'Huawei Browser',
  'MIUI Browser': 'MIUI Browser',
  UCBrowser: 'UC Browser',
  Vivaldi: 'Vivaldi',
  Yandex: 'Yandex',
  Brave: 'Brave',
  IE: 'Internet Explorer',
};

/** Operating systems shown as the device, by the parser's name. */
const SYSTEMS: Readonly<Record<string, string>> = {
  Android: 'Android',
  iOS: 'iPhone',
  iPadOS: 'iPad',
  macOS: 'Mac',
  Windows: 'Windows',
  'Chrome OS': 'Chromebook',
  'Chromium OS': 'Chromebook',
  Linux: 'Linux',
  Ubuntu: 'Linux',
  Debian: 'Linux',
  Fedora: 'Linux',
  HarmonyOS: 'HarmonyOS',
};

/** A session's (or an audit event's) device and browser, named for the member. */
export function describeUserAgent(
  userAgent: string | null,
  kind: 'web' | 'api' | string | null,
): DeviceNames {
  const result = userAgent ? new UAParser(userAgent.slice(0, 300)).getResult() : null;
  const model = result?.device.model;
  const device =
    model === 'iPhone' || model === 'iPad'
      ? model
      : (SYSTEMS[result?.os.name ?? ''] ?? account.unknownDevice);
  const parsedBrowser = BROWSERS[(result?.browser.name ?? '').replace(/^Mobile /, '')];
  const browser = kind === 'api' ? account.portalApp : (parsedBrowser ?? account.unknownBrowser);
  return {
    device,
    browser,
    known: device !== account.unknownDevice || parsedBrowser !== undefined,
  };
}

/**
 * "Chrome en Android" (or only the half that is known: "App del Portal",
 * "Android"), or null when nothing is known of it.
 */
export function describeWhere(userAgent: string | null, kind: string | null): string | null {
  const { device, browser } = describeUserAgent(userAgent, kind);
  const knownDevice = device !== account.unknownDevice;
  const knownBrowser = browser !== account.unknownBrowser;
  if (knownDevice && knownBrowser) return account.browserOnDevice(browser, device);
  if (knownBrowser) return browser;
  return knownDevice ? device : null;
}

/**
 * Enough of an address for a member to recognise a place, too little to
 * find anyone: IPv4 a.b.*.*; IPv6 its first two groups and ":…"; an
 * IPv4-mapped IPv6 address as the IPv4 one it carries; null for anything else.
 */
export function maskedAddress(ip: string | null): string | null {
  if (!ip) return null;
  const address = (ip.split('%')[0] ?? '').toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address)?.[1];
  if (mapped) return maskedAddress(mapped);
  const version = isIP(address);
  if (version === 4) {
    const [a, b] = address.split('.');
    return `${a}.${b}.*.*`;
  }
  if (version !== 6) return null;
  const [head = ''] = address.split('::');
  const groups = head.split(':').filter((group) => group !== '');
  const firstTwo = [...groups, '0', '0'].slice(0, 2);
  return `${firstTwo.join(':')}:…`;
}

/** "a***@example.org": the first character of the mailbox and the domain. */
export function maskedEmail(email: string | null): string | null {
  if (!email) return null;
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email.charAt(0)}***${email.slice(at)}`;
}

/**
 * "09*****222": a mobile stored as +5989XXXXXXX shown in its national form
 * (09…), only its last three digits kept; any other form keeps the last three.
 */
export function maskedMobile(mobile: string | null): string | null {
  if (!mobile) return null;
  const national = /^\+598(9\d{7})$/.test(mobile);
  return `${national ? '09' : ''}*****${mobile.slice(-3)}`;
}

const DISPLAY_FORMAT = new Intl.DateTimeFormat('es-UY', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: DISPLAY_TIME_ZONE,
});

/** "25 nov. 2026, 9:00 a. m.": a time as a member in Uruguay reads it. */
export function displayTime(at: Date): string {
  return DISPLAY_FORMAT.format(at);
}
