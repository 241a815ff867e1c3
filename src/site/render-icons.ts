// The child process that draws the brand's images with sharp (icons.ts
// starts it; see there why it is a process of its own). It reads a
// RenderOrder as JSON on stdin, writes a RenderAnswer as JSON on stdout and
// exits 0; on any failure it writes the reason as the last line of stderr
// and exits 1. Nothing else may write to stdout.
//
// What it draws, on a square of side S:
// - "any" icons (192, 512): the mark fitted in 7/8 of S, transparent around;
// - maskable (512): opaque, full bleed; the default mark is the brand colour
//   with its white cross, a logo sits on white inside 56 % of S, the largest
//   square within the safe circle (80 % of S) that launchers never crop;
// - iOS (180): opaque the same way, a logo in 3/4 of S, clear of the
//   rounded corners iOS cuts;
// - for a logo only, the favicon (48, transparent, the logo to the edges)
//   and the header logo (80 px high, width in proportion up to 240 px).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import {
  defaultMarkSvg,
  fullBleedMarkSvg,
  HEADER_LOGO_HEIGHT,
  HEADER_LOGO_MAX_WIDTH,
  type RenderAnswer,
  type RenderOrder,
} from './icons.ts';

/** An image to draw from, with its size (an SVG's at 72 dpi, librsvg's default). */
interface Source {
  readonly type: 'svg' | 'png';
  readonly bytes: Buffer;
  readonly width: number;
  readonly height: number;
}

/** A logo of 1 MB may inflate to far more pixels than any logo needs: refuse past 8192². */
const MAX_INPUT_PIXELS = 8192 * 8192;
/** librsvg's default resolution, at which an SVG's own size is measured. */
const SVG_DPI = 72;

type Rgba = { r: number; g: number; b: number; alpha: number };
const TRANSPARENT: Rgba = { r: 0, g: 0, b: 0, alpha: 0 };
const WHITE: Rgba = { r: 255, g: 255, b: 255, alpha: 1 };

/** The PNG encoding of every output: a palette and the strongest compression keep icons small. */
function encode(image: Sharp): Promise<Buffer> {
  return image.png({ palette: true, compressionLevel: 9, effort: 10 }).toBuffer();
}

async function openSource(type: 'svg' | 'png', bytes: Buffer): Promise<Source> {
  const meta = await sharp(bytes, { limitInputPixels: MAX_INPUT_PIXELS }).metadata();
  if (meta.format !== type) throw new Error(`it reads as ${meta.format}`);
  if (!meta.width || !meta.height) throw new Error('the image has no size');
  return { type, bytes, width: meta.width, height: meta.height };
}

/**
 * The source scaled to fit inside boxW×boxH, as a PNG with alpha. An SVG is
 * rasterised at the density that gives that size directly, so it stays sharp
 * at 512 px however small its own size; a PNG is resampled.
 */
async function fitted(
  source: Source,
  boxW: number,
  boxH: number,
): Promise<{ data: Buffer; width: number; height: number }> {
  const scale = Math.min(boxW / source.width, boxH / source.height);
  const width = Math.max(1, Math.min(boxW, Math.round(source.width * scale)));
  const height = Math.max(1, Math.min(boxH, Math.round(source.height * scale)));
  const input =
    source.type === 'svg'
      ? sharp(source.bytes, {
          density: Math.min(100_000, Math.max(1, SVG_DPI * scale)),
          limitInputPixels: MAX_INPUT_PIXELS,
        })
      : sharp(source.bytes, { limitInputPixels: MAX_INPUT_PIXELS, autoOrient: true });
  // The density gives the size to a pixel or so: the resize snaps it exactly.
  const data = await input
    .ensureAlpha()
    .resize(width, height, { fit: 'fill' })
    .png({ compressionLevel: 0 })
    .toBuffer();
  return { data, width, height };
}

/** The source fitted in `share` of a side×side canvas of `background`, centred. */
async function onCanvas(
  source: Source,
  side: number,
  share: number,
  background: Rgba,
): Promise<Buffer> {
  const box = Math.round(side * share);
  const mark = await fitted(source, box, box);
  const drawn = await sharp({ create: { width: side, height: side, channels: 4, background } })
    .composite([
      {
        input: mark.data,
        left: Math.floor((side - mark.width) / 2),
        top: Math.floor((side - mark.height) / 2),
      },
    ])
    .png({ compressionLevel: 0 })
    .toBuffer();
  // An opaque canvas gives an opaque icon: no alpha channel left for a platform to misread.
  const image = background.alpha === 1 ? sharp(drawn).removeAlpha() : sharp(drawn);
  return encode(image);
}

/** Every image of the order. */
export async function renderImages(order: RenderOrder): Promise<RenderAnswer> {
  const b64 = (bytes: Buffer) => bytes.toString('base64');
  if (!order.logo) {
    const mark = await openSource('svg', Buffer.from(defaultMarkSvg(order.color)));
    const bleed = await openSource('svg', Buffer.from(fullBleedMarkSvg(order.color)));
    const opaque = async (side: number) =>
      encode(sharp((await fitted(bleed, side, side)).data).removeAlpha());
    return {
      icon192: b64(await onCanvas(mark, 192, 7 / 8, TRANSPARENT)),
      icon512: b64(await onCanvas(mark, 512, 7 / 8, TRANSPARENT)),
      maskable512: b64(await opaque(512)),
      appleTouch180: b64(await opaque(180)),
      favicon48: null,
      header: null,
    };
  }
  const type = order.logo.type;
  try {
    return await logoImages(await openSource(type, Buffer.from(order.logo.base64, 'base64')));
  } catch (error) {
    // sharp's messages end with libvips' detail, often empty ("…corrupt header:").
    const detail = (error as Error).message.trim().replace(/:$/, '');
    throw new Error(`the ${type.toUpperCase()} cannot be decoded (${detail})`);
  }
}

async function logoImages(logo: Source): Promise<RenderAnswer> {
  const b64 = (bytes: Buffer) => bytes.toString('base64');
  const header = await fitted(logo, HEADER_LOGO_MAX_WIDTH, HEADER_LOGO_HEIGHT);
  // A wide logo is as wide as allowed and less high; any other one is 80 px high.
  return {
    icon192: b64(await onCanvas(logo, 192, 7 / 8, TRANSPARENT)),
    icon512: b64(await onCanvas(logo, 512, 7 / 8, TRANSPARENT)),
    maskable512: b64(await onCanvas(logo, 512, 0.56, WHITE)),
    appleTouch180: b64(await onCanvas(logo, 180, 3 / 4, WHITE)),
    favicon48: b64(await onCanvas(logo, 48, 1, TRANSPARENT)),
    header: {
      png: b64(await encode(sharp(header.data))),
      width: header.width,
      height: header.height,
    },
  };
}

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const order = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RenderOrder;
  // One short job: no cache to keep, and two threads leave a core to the server.
  sharp.cache(false);
  sharp.concurrency(2);
  const answer = await renderImages(order);
  process.stdout.write(JSON.stringify(answer), () => process.exit(0));
}

// Run only as a program (icons.ts spawns this file), not when imported.
const self = fileURLToPath(import.meta.url);
const program = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (program === realpathSync(self)) {
  main().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    // One line: the parent quotes the last line of stderr as the reason.
    process.stderr.write(`\n${message.replace(/\s+/g, ' ').trim()}\n`, () => process.exit(1));
  });
}
