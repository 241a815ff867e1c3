// The provider's brand (BRAND_* settings): its name, home-screen label,
// logo, colour and call centre, checked once at start. config.ts parses the
// variables with brandFromEnv(); pages, emails, SMS and the app manifest
// read the result. The colour must stay readable where the portal uses it:
// white text on it (header, buttons) and it as text (links) on the page
// background, both at WCAG AA's 4.5:1 (ADR 022).
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** The page background of public/app.css (--page), where the colour is used for text. */
export const PAGE_BACKGROUND = '#f3f1ef';
/** WCAG 2 AA for normal text. */
export const MIN_CONTRAST = 4.5;

export const DEFAULT_BRAND_NAME = 'Autogestión';
export const DEFAULT_PRIMARY_COLOR = '#a0102e';
export const DEFAULT_CALL_CENTER = '144';
export const MAX_NAME_LENGTH = 40;
export const MAX_SHORT_NAME_LENGTH = 12;
export const MAX_LOGO_BYTES = 1024 * 1024;
/** The smallest PNG logo side: the 192 px icon is made from it. */
export const MIN_PNG_LOGO_SIDE = 192;

export interface BrandLogo {
  /** The file as configured (for messages); the bytes are read once, here. */
  readonly path: string;
  readonly type: 'svg' | 'png';
  readonly bytes: Buffer;
}

export interface Brand {
  /** BRAND_NAME as written: pages, titles, emails, manifest. */
  readonly name: string;
  /** The name in the SMS alphabet (GSM-7: no accents), for SMS. */
  readonly smsName: string;
  /** BRAND_SHORT_NAME, or derived: the home-screen label (≤ 12 characters). */
  readonly shortName: string;
  /** BRAND_PRIMARY_COLOR, lower case #rrggbb. */
  readonly primaryColor: string;
  /** A darker shade of it, for links and hovered buttons. */
  readonly primaryDark: string;
  /** BRAND_CALL_CENTER as members read it ("144", "0800 1234"). */
  readonly callCenter: string;
  /** The same for a tel: link: spaces and separators dropped, # escaped. */
  readonly callCenterTel: string;
  /** BRAND_LOGO; null: the default mark, drawn in the primary colour. */
  readonly logo: BrandLogo | null;
  /** Words of the brand no password may contain (folded, 4+ letters). */
  readonly words: readonly string[];
}

/** Lower case, no accents: how the password policy compares words. */
function fold(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

// The GSM 03.38 basic character set, less its accented letters (an SMS
// stays plain, and a member's phone shows it the same everywhere).
const GSM7_PLAIN = /[A-Za-z0-9 @£$¥_!"#%&'()*+,\-./:;<=>?¡¿§]/;

/** The name in plain GSM-7: accents dropped, other characters left out. */
export function smsSafe(value: string): string {
  return [...value.normalize('NFD').replace(/\p{M}/gu, '')]
    .filter((c) => GSM7_PLAIN.test(c))
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The home-screen label when BRAND_SHORT_NAME is unset: the name when it
 * fits, else as many of its first words as fit ("Salud Verde" of "Salud
 * Verde Cooperativa"), else its first word cut to 12 characters.
 */
export function deriveShortName(name: string): string {
  const fits = (value: string) => [...value].length <= MAX_SHORT_NAME_LENGTH;
  if (fits(name)) return name;
  const words = name.split(/\s+/);
  let label = '';
  for (const word of words) {
    const next = label ? `${label} ${word}` : word;
    if (!fits(next)) break;
    label = next;
  }
  return label || [...(words[0] ?? name)].slice(0, MAX_SHORT_NAME_LENGTH).join('');
}

function channels(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** WCAG 2 relative luminance of #rrggbb. */
export function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2 contrast ratio of two #rrggbb colours (1 to 21). */
export function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** The colour mixed with black: `amount` 0.2 is 20 % darker. */
export function darken(hex: string, amount: number): string {
  return `#${channels(hex)
    .map((c) =>
      Math.round(c * (1 - amount))
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/** Why a colour is unreadable, or null when it is readable. */
export function colourProblem(hex: string): string | null {
  const onWhite = contrast(hex, '#ffffff');
  const onPage = contrast(hex, PAGE_BACKGROUND);
  if (onWhite >= MIN_CONTRAST && onPage >= MIN_CONTRAST) return null;
  const ratio = (r: number) => `${(Math.floor(r * 100) / 100).toFixed(2)}:1`;
  return `${hex} is unreadable: white text on it has a contrast of ${ratio(onWhite)} and it as text on the page background (${PAGE_BACKGROUND}) ${ratio(onPage)}; both need ${MIN_CONTRAST}:1 (WCAG AA). Choose a darker colour`;
}

/** The width and height of a PNG, from its header; null when it is not a PNG. */
export function pngSize(bytes: Buffer): { width: number; height: number } | null {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(signature)) return null;
  if (bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** An SVG document: its root element is <svg> (after an XML prolog, comments, a doctype). */
export function looksLikeSvg(bytes: Buffer): boolean {
  const head = bytes
    .subarray(0, 4096)
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  const rest = head.replace(/^(\s|<\?xml[^>]*\?>|<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)*/i, '');
  return /^<svg[\s>]/i.test(rest);
}

function readLogo(path: string, problems: string[]): BrandLogo | null {
  const absolute = resolve(path);
  const lower = path.toLowerCase();
  const type = lower.endsWith('.svg') ? 'svg' : lower.endsWith('.png') ? 'png' : null;
  if (!type) {
    problems.push(`BRAND_LOGO: expected a .svg or .png file, got ${path}`);
    return null;
  }
  let bytes: Buffer;
  try {
    const size = statSync(absolute).size;
    if (size > MAX_LOGO_BYTES) {
      problems.push(`BRAND_LOGO: ${path} is ${size} bytes; at most ${MAX_LOGO_BYTES} are accepted`);
      return null;
    }
    bytes = readFileSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    problems.push(
      `BRAND_LOGO: cannot read ${path} (${code === 'ENOENT' ? 'no such file' : (code ?? 'unreadable')})`,
    );
    return null;
  }
  if (type === 'svg') {
    if (!looksLikeSvg(bytes)) {
      problems.push(`BRAND_LOGO: ${path} is not an SVG document (no <svg> root element)`);
      return null;
    }
  } else {
    const size = pngSize(bytes);
    if (!size) {
      problems.push(`BRAND_LOGO: ${path} is not a PNG image`);
      return null;
    }
    if (Math.min(size.width, size.height) < MIN_PNG_LOGO_SIDE) {
      problems.push(
        `BRAND_LOGO: ${path} is ${size.width}×${size.height} px; a PNG logo needs at least ${MIN_PNG_LOGO_SIDE} px on each side (512 px or an SVG look best)`,
      );
      return null;
    }
  }
  return { path, type, bytes };
}

export interface BrandEnv {
  BRAND_NAME?: string | undefined;
  BRAND_SHORT_NAME?: string | undefined;
  BRAND_LOGO?: string | undefined;
  BRAND_PRIMARY_COLOR?: string | undefined;
  BRAND_CALL_CENTER?: string | undefined;
}

const blank = (value: string | undefined) =>
  value === undefined || value.trim() === '' ? undefined : value.trim();

// Printable characters only: no control characters, no line breaks.
const PRINTABLE = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;

/** The brand from its variables; problems are pushed as "VARIABLE: why" lines. */
export function brandFromEnv(env: BrandEnv, problems: string[]): Brand {
  const name = blank(env.BRAND_NAME) ?? DEFAULT_BRAND_NAME;
  if ([...name].length > MAX_NAME_LENGTH || !PRINTABLE.test(name) || !/\p{L}/u.test(name))
    problems.push(
      `BRAND_NAME: expected the provider's name, 1 to ${MAX_NAME_LENGTH} printable characters with at least one letter`,
    );
  const smsName = smsSafe(name);
  if (!/[A-Za-z]/.test(smsName))
    problems.push('BRAND_NAME: needs Latin letters, which SMS messages can carry');
  // A phone picks the code out of an SMS as its only run of six digits.
  if (/\d{6}/.test(smsName))
    problems.push('BRAND_NAME: may not hold six digits in a row (SMS codes are six digits)');

  const shortName = blank(env.BRAND_SHORT_NAME) ?? deriveShortName(name);
  if ([...shortName].length > MAX_SHORT_NAME_LENGTH || !PRINTABLE.test(shortName))
    problems.push(
      `BRAND_SHORT_NAME: expected the home-screen label, 1 to ${MAX_SHORT_NAME_LENGTH} printable characters`,
    );

  let primaryColor = (blank(env.BRAND_PRIMARY_COLOR) ?? DEFAULT_PRIMARY_COLOR).toLowerCase();
  if (!/^#[0-9a-f]{6}$/.test(primaryColor)) {
    problems.push('BRAND_PRIMARY_COLOR: expected a colour written #rrggbb, such as #a0102e');
    primaryColor = DEFAULT_PRIMARY_COLOR;
  } else {
    const problem = colourProblem(primaryColor);
    if (problem) problems.push(`BRAND_PRIMARY_COLOR: ${problem}`);
  }

  const callCenter = (blank(env.BRAND_CALL_CENTER) ?? DEFAULT_CALL_CENTER).replace(/\s+/g, ' ');
  if (!/^\+?[0-9*#][0-9*# ().-]{0,19}$/.test(callCenter) || !/[0-9]/.test(callCenter))
    problems.push(
      'BRAND_CALL_CENTER: expected a number as members dial it, up to 20 digits, spaces, + * # ( ) . - (such as 144 or 0800 1234)',
    );
  const callCenterTel = callCenter.replace(/[\s().-]/g, '').replace(/#/g, '%23');

  const logoPath = blank(env.BRAND_LOGO);
  const logo = logoPath ? readLogo(logoPath, problems) : null;

  const words = [
    ...new Set(
      [name, shortName]
        .flatMap((value) => [value, ...value.split(/[\s\-_.,·]+/)])
        .map((value) => fold(value).replace(/[^a-z0-9]/g, ''))
        .filter((word) => word.length >= 4 && word.length <= 40),
    ),
  ];

  return Object.freeze({
    name,
    smsName,
    shortName,
    primaryColor,
    primaryDark: darken(primaryColor, 0.2),
    callCenter,
    callCenterTel,
    logo,
    words: Object.freeze(words),
  });
}
