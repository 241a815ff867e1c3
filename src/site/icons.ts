// The brand's images: the app icons of the web app manifest (192 and 512 px,
// one maskable), the iOS home-screen icon, the favicon and the header logo.
//
// The default brand (the default mark in the default colour) is served from
// PNGs committed under public/icons/, read from disk: a portal that keeps
// the default look loads no image library at all. Any other brand is drawn
// with sharp, in a short-lived child process (render-icons.ts): libvips
// stays mapped in a process once loaded (~25 MB RSS), and the server needs
// it for a few hundred milliseconds at start, never again. The child reads
// its order as JSON on stdin and answers JSON on stdout, both with the
// images in base64. scripts/render-default-icons.ts renders the committed
// PNGs through the same child, so both paths draw the same pictures.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PUBLIC_DIR } from '../paths.ts';
import { type Brand, type BrandLogo, DEFAULT_PRIMARY_COLOR, pngSize } from './brand.ts';

export interface BrandImages {
  /** 192×192 PNG, manifest purpose "any": the mark contained, transparent around it. */
  readonly icon192: Buffer;
  /** 512×512 PNG, manifest purpose "any". */
  readonly icon512: Buffer;
  /** 512×512 opaque PNG, purpose "maskable": the mark inside the central safe circle. */
  readonly maskable512: Buffer;
  /** 180×180 opaque PNG for iOS, which fills transparency with black. */
  readonly appleTouch180: Buffer;
  /** The default mark as SVG; a configured logo as a 48×48 PNG. */
  readonly favicon: { readonly bytes: Buffer; readonly type: 'image/svg+xml' | 'image/png' };
  /**
   * The header's logo, shown 40 CSS px high on a white chip. `width` and
   * `height` are its size in device pixels at 2× (80 px high): the page
   * shows it at half of each. A configured logo is always a PNG rendered
   * here, never the operator's SVG as is: an SVG served from our origin
   * could carry script.
   */
  readonly headerLogo: {
    readonly bytes: Buffer;
    readonly type: 'image/svg+xml' | 'image/png';
    readonly width: number;
    readonly height: number;
  };
}

/** What the images depend on. */
export type BrandLook = Pick<Brand, 'logo' | 'primaryColor'>;

/** The header logo's height in device pixels (40 CSS px at 2×) and its widest. */
export const HEADER_LOGO_HEIGHT = 80;
export const HEADER_LOGO_MAX_WIDTH = 240;
/** How long a render may take before it counts as failed. */
export const RENDER_TIMEOUT_MS = 30_000;

/** The committed images of the default brand. */
export const DEFAULT_ICONS_DIR = join(PUBLIC_DIR, 'icons');
export const DEFAULT_ICON_FILES = {
  icon192: 'icon-192.png',
  icon512: 'icon-512.png',
  maskable512: 'icon-maskable-512.png',
  appleTouch180: 'apple-touch-180.png',
} as const;

// The mark on a 32-unit grid: a rounded square, and a white cross spanning
// 18 units (56 % of the side) whose farthest corner lies 9.5 units from the
// centre, inside a maskable icon's safe circle (12.8 units) even full bleed.
const CROSS_PATH = 'M13 7h6v6h6v6h-6v6h-6v-6H7v-6h6z';

function checkColour(color: string): string {
  // The colour goes into SVG markup: only a validated #rrggbb may.
  if (!/^#[0-9a-fA-F]{6}$/.test(color)) throw new Error(`expected a #rrggbb colour, got ${color}`);
  return color.toLowerCase();
}

/** The default mark, drawn in `color`: a rounded square in the colour with a white cross. */
export function defaultMarkSvg(color: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="${checkColour(color)}"/><path d="${CROSS_PATH}" fill="#fff"/></svg>`;
}

/**
 * The default mark full bleed: the colour to every edge, the cross where the
 * mark has it. The maskable icon and the iOS icon, which the platform crops
 * to its own shape.
 */
export function fullBleedMarkSvg(color: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" fill="${checkColour(color)}"/><path d="${CROSS_PATH}" fill="#fff"/></svg>`;
}

// --- The child's protocol ----------------------------------------------------

/** What render-icons.ts reads on stdin. */
export interface RenderOrder {
  readonly color: string;
  /** null: the default mark in `color`. */
  readonly logo: { readonly type: 'svg' | 'png'; readonly base64: string } | null;
}

/** What render-icons.ts writes on stdout (PNGs in base64). */
export interface RenderAnswer {
  readonly icon192: string;
  readonly icon512: string;
  readonly maskable512: string;
  readonly appleTouch180: string;
  /** Only for a logo: the default mark's favicon and header logo are its SVG. */
  readonly favicon48: string | null;
  readonly header: { readonly png: string; readonly width: number; readonly height: number } | null;
}

// --- Rendering -----------------------------------------------------------------

let renders = 0;

/** How many child renders this process has started (memoisation is visible in it). */
export function iconRenderCount(): number {
  return renders;
}

/** The child's file, next to this one, in the same language (.ts under tsx, .js compiled). */
function childScript(): string {
  const self = fileURLToPath(import.meta.url);
  return join(dirname(self), `render-icons${self.endsWith('.ts') ? '.ts' : '.js'}`);
}

/**
 * The parent's node options that the child needs (its loader, --import tsx),
 * less those that would make it something else: the test runner's, watch
 * mode, a debugger on the parent's port, or the parent's -e program.
 */
function childExecArgv(): string[] {
  const kept: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (['-e', '--eval', '-p', '--print'].includes(arg)) {
      i++;
      continue;
    }
    if (/^--(test|watch|inspect|debug|eval|print|input-type)/.test(arg)) continue;
    kept.push(arg);
  }
  return kept;
}

function who(look: BrandLook): string {
  return look.logo
    ? `BRAND_LOGO: cannot make the app icons from ${look.logo.path}`
    : `BRAND_LOGO: cannot make the app icons from the default mark in ${look.primaryColor}`;
}

/** Runs render-icons.ts on the order; its answer, or a rejection with the reason. */
function runChild(order: RenderOrder, timeoutMs: number): Promise<RenderAnswer> {
  renders++;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...childExecArgv(), childScript()], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    // A child that dies before reading its order closes the pipe: its exit says why.
    child.stdin.on('error', () => {});
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`the image process could not start (${error.message})`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new Error(`the image process took longer than ${timeoutMs / 1000} s`));
        return;
      }
      if (code !== 0) {
        const lines = Buffer.concat(err).toString('utf8').trim().split('\n');
        const last = (lines[lines.length - 1] ?? '').trim().slice(0, 500);
        reject(
          new Error(
            last ||
              (signal
                ? `the image process ended on ${signal}`
                : `the image process exited ${code}`),
          ),
        );
        return;
      }
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as RenderAnswer);
      } catch {
        reject(new Error('the image process answered something else than its images'));
      }
    });
    child.stdin.end(JSON.stringify(order));
  });
}

/** A PNG of the child's answer, checked to be a PNG of the expected size. */
function png(base64: string, width: number, height: number, name: string): Buffer {
  const bytes = Buffer.from(base64, 'base64');
  const size = pngSize(bytes);
  if (!size || size.width !== width || size.height !== height)
    throw new Error(`the image process made a wrong ${name}`);
  return bytes;
}

/**
 * Draws the images for a brand in a child process, every time (brandImages
 * remembers them). Rejects with an English message naming BRAND_LOGO and the
 * reason: the server prints it and refuses to start.
 */
export async function renderBrandImages(
  look: BrandLook,
  options: { timeoutMs?: number } = {},
): Promise<BrandImages> {
  const logo: BrandLogo | null = look.logo;
  try {
    const answer = await runChild(
      {
        color: checkColour(look.primaryColor),
        logo: logo && { type: logo.type, base64: logo.bytes.toString('base64') },
      },
      options.timeoutMs ?? RENDER_TIMEOUT_MS,
    );
    const common = {
      icon192: png(answer.icon192, 192, 192, 'icon192'),
      icon512: png(answer.icon512, 512, 512, 'icon512'),
      maskable512: png(answer.maskable512, 512, 512, 'maskable512'),
      appleTouch180: png(answer.appleTouch180, 180, 180, 'appleTouch180'),
    };
    if (!logo) return { ...common, ...markImages(look.primaryColor) };
    const { header, favicon48 } = answer;
    if (
      !header ||
      !favicon48 ||
      header.height > HEADER_LOGO_HEIGHT ||
      header.width > HEADER_LOGO_MAX_WIDTH
    )
      throw new Error('the image process left out the favicon or the header logo');
    return {
      ...common,
      favicon: { bytes: png(favicon48, 48, 48, 'favicon'), type: 'image/png' },
      headerLogo: {
        bytes: png(header.png, header.width, header.height, 'header logo'),
        type: 'image/png',
        width: header.width,
        height: header.height,
      },
    };
  } catch (error) {
    throw new Error(`${who(look)}: ${(error as Error).message}`);
  }
}

/** The favicon and header logo of the default mark: its SVG, which is ours. */
function markImages(color: string): Pick<BrandImages, 'favicon' | 'headerLogo'> {
  const svg = Buffer.from(defaultMarkSvg(color));
  return {
    favicon: { bytes: svg, type: 'image/svg+xml' },
    headerLogo: {
      bytes: svg,
      type: 'image/svg+xml',
      width: HEADER_LOGO_HEIGHT,
      height: HEADER_LOGO_HEIGHT,
    },
  };
}

/** The committed images of the default brand, from disk. */
async function defaultImages(): Promise<BrandImages> {
  const read = (file: string) =>
    readFile(join(DEFAULT_ICONS_DIR, file)).catch((error: NodeJS.ErrnoException) => {
      throw new Error(
        `the default app icon ${join(DEFAULT_ICONS_DIR, file)} is missing or unreadable (${error.code ?? error.message}); scripts/render-default-icons.ts makes it`,
      );
    });
  const [icon192, icon512, maskable512, appleTouch180] = await Promise.all([
    read(DEFAULT_ICON_FILES.icon192),
    read(DEFAULT_ICON_FILES.icon512),
    read(DEFAULT_ICON_FILES.maskable512),
    read(DEFAULT_ICON_FILES.appleTouch180),
  ]);
  return { icon192, icon512, maskable512, appleTouch180, ...markImages(DEFAULT_PRIMARY_COLOR) };
}

const remembered = new Map<string, Promise<BrandImages>>();

/** The images for a brand, memoised per process by (logo bytes, colour). */
export function brandImages(brand: BrandLook): Promise<BrandImages> {
  const color = brand.primaryColor.toLowerCase();
  const logoKey = brand.logo ? createHash('sha256').update(brand.logo.bytes).digest('hex') : 'mark';
  const key = `${logoKey}:${color}`;
  let images = remembered.get(key);
  if (!images) {
    images =
      !brand.logo && color === DEFAULT_PRIMARY_COLOR ? defaultImages() : renderBrandImages(brand);
    // A failure is not remembered: a later call (a test, a retry) tries again.
    images.catch(() => remembered.delete(key));
    remembered.set(key, images);
  }
  return images;
}
