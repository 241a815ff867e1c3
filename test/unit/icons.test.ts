import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { type BrandLogo, DEFAULT_PRIMARY_COLOR, pngSize } from '../../src/site/brand.ts';
import {
  brandImages,
  DEFAULT_ICON_FILES,
  DEFAULT_ICONS_DIR,
  defaultMarkSvg,
  iconRenderCount,
  renderBrandImages,
} from '../../src/site/icons.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function assertPng(bytes: Buffer, width: number, height: number, name: string): void {
  assert.deepEqual(pngSize(bytes), { width, height }, `${name} is a ${width}×${height} PNG`);
}

/** The RGBA of one pixel. */
async function pixel(png: Buffer, x: number, y: number): Promise<[number, number, number, number]> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * 4;
  return [data[i], data[i + 1], data[i + 2], data[i + 3]] as [number, number, number, number];
}

async function hasAlpha(png: Buffer): Promise<boolean> {
  return (await sharp(png).metadata()).hasAlpha;
}

function logo(type: 'svg' | 'png', bytes: Buffer): BrandLogo {
  return { path: `/etc/autogestion/logo.${type}`, type, bytes };
}

/** A PNG chunk, with its length and CRC. */
function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

describe('the brand images', () => {
  it('serves the default brand from the committed PNGs, drawing nothing', async () => {
    const before = iconRenderCount();
    const images = await brandImages({ logo: null, primaryColor: DEFAULT_PRIMARY_COLOR });
    assert.equal(iconRenderCount(), before, 'no child process for the default brand');
    assertPng(images.icon192, 192, 192, 'icon192');
    assertPng(images.icon512, 512, 512, 'icon512');
    assertPng(images.maskable512, 512, 512, 'maskable512');
    assertPng(images.appleTouch180, 180, 180, 'appleTouch180');
    assert.deepEqual(
      images.icon192,
      readFileSync(join(DEFAULT_ICONS_DIR, DEFAULT_ICON_FILES.icon192)),
    );
    assert.equal(images.favicon.type, 'image/svg+xml');
    assert.equal(images.favicon.bytes.toString(), defaultMarkSvg(DEFAULT_PRIMARY_COLOR));
    assert.equal(images.headerLogo.type, 'image/svg+xml');
    assert.deepEqual([images.headerLogo.width, images.headerLogo.height], [80, 80]);
    // The maskable and iOS icons are opaque, in the colour to the corner.
    assert.equal(await hasAlpha(images.maskable512), false);
    assert.equal(await hasAlpha(images.appleTouch180), false);
    assert.deepEqual(await pixel(images.maskable512, 0, 0), [0xa0, 0x10, 0x2e, 255]);
  });

  it('keeps the committed PNGs small', () => {
    for (const file of Object.values(DEFAULT_ICON_FILES)) {
      const size = readFileSync(join(DEFAULT_ICONS_DIR, file)).length;
      assert.ok(size < 8 * 1024, `${file} is ${size} bytes`);
    }
  });

  it('commits the PNGs that the drawing code draws today', async () => {
    // What scripts/render-default-icons.ts would write; pixels compared with
    // a little slack, as another libimagequant may pick its palette slightly
    // differently.
    const fresh = await renderBrandImages({ logo: null, primaryColor: DEFAULT_PRIMARY_COLOR });
    for (const [key, file] of Object.entries(DEFAULT_ICON_FILES)) {
      const committed = await sharp(join(DEFAULT_ICONS_DIR, file)).ensureAlpha().raw().toBuffer();
      const drawn = await sharp(fresh[key as keyof typeof DEFAULT_ICON_FILES])
        .ensureAlpha()
        .raw()
        .toBuffer();
      assert.equal(committed.length, drawn.length, file);
      let worst = 0;
      for (let i = 0; i < drawn.length; i++)
        worst = Math.max(worst, Math.abs((drawn[i] as number) - (committed[i] as number)));
      assert.ok(worst <= 16, `${file} differs (by ${worst}): run scripts/render-default-icons.ts`);
    }
  });

  it('draws the default mark in another colour', async () => {
    const images = await brandImages({ logo: null, primaryColor: '#1d4ed8' });
    assertPng(images.icon192, 192, 192, 'icon192');
    assertPng(images.icon512, 512, 512, 'icon512');
    assertPng(images.maskable512, 512, 512, 'maskable512');
    assertPng(images.appleTouch180, 180, 180, 'appleTouch180');
    assert.deepEqual(await pixel(images.maskable512, 0, 0), [0x1d, 0x4e, 0xd8, 255]);
    assert.deepEqual(await pixel(images.appleTouch180, 179, 179), [0x1d, 0x4e, 0xd8, 255]);
    // The white cross in the middle; the "any" icon transparent at its corner.
    assert.deepEqual(await pixel(images.maskable512, 256, 256), [255, 255, 255, 255]);
    assert.equal((await pixel(images.icon512, 0, 0))[3], 0);
    assert.equal(images.favicon.bytes.toString(), defaultMarkSvg('#1d4ed8'));
  });

  it('draws every image from a PNG logo, the header one 80 px high in proportion', async () => {
    const png = await sharp({
      create: { width: 300, height: 200, channels: 4, background: '#0000ff' },
    })
      .png()
      .toBuffer();
    const images = await brandImages({ logo: logo('png', png), primaryColor: '#1d4ed8' });
    assertPng(images.icon192, 192, 192, 'icon192');
    assertPng(images.icon512, 512, 512, 'icon512');
    assertPng(images.maskable512, 512, 512, 'maskable512');
    assertPng(images.appleTouch180, 180, 180, 'appleTouch180');
    assert.equal(images.favicon.type, 'image/png');
    assertPng(images.favicon.bytes, 48, 48, 'favicon');
    assert.equal(images.headerLogo.type, 'image/png');
    assert.deepEqual([images.headerLogo.width, images.headerLogo.height], [120, 80]);
    assertPng(images.headerLogo.bytes, 120, 80, 'headerLogo');
    // A logo's maskable icon: white to the edge, the logo inside the safe zone.
    assert.deepEqual(await pixel(images.maskable512, 0, 0), [255, 255, 255, 255]);
    assert.deepEqual(await pixel(images.maskable512, 256, 256), [0, 0, 255, 255]);
    assert.deepEqual(await pixel(images.maskable512, 256, 100), [255, 255, 255, 255]);
    // The "any" icon: the logo contained, transparent above and below it.
    assert.equal((await pixel(images.icon512, 256, 20))[3], 0);
    assert.deepEqual(await pixel(images.icon512, 256, 256), [0, 0, 255, 255]);
  });

  it('draws an SVG logo sharp, and never serves the SVG itself', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 20 10"><rect x="1" width="18" height="10" fill="#008000"/></svg>',
    );
    const images = await brandImages({ logo: logo('svg', svg), primaryColor: '#1d4ed8' });
    assertPng(images.icon192, 192, 192, 'icon192');
    assertPng(images.icon512, 512, 512, 'icon512');
    assertPng(images.maskable512, 512, 512, 'maskable512');
    assertPng(images.appleTouch180, 180, 180, 'appleTouch180');
    assert.equal(images.favicon.type, 'image/png');
    assert.equal(images.headerLogo.type, 'image/png');
    assert.deepEqual([images.headerLogo.width, images.headerLogo.height], [160, 80]);
    assertPng(images.headerLogo.bytes, 160, 80, 'headerLogo');
    // 20 units drawn 448 px wide from x = 32, the rectangle from 32 + 22.4: a
    // hard edge there, not the blur of a 20 px wide image scaled up.
    assert.deepEqual(await pixel(images.icon512, 56, 256), [0, 128, 0, 255]);
    assert.equal((await pixel(images.icon512, 53, 256))[3], 0);
  });

  it('caps a wide logo at 240 px in the header', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 10"><rect width="40" height="10" fill="#008000"/></svg>',
    );
    const images = await renderBrandImages({ logo: logo('svg', svg), primaryColor: '#1d4ed8' });
    assert.deepEqual([images.headerLogo.width, images.headerLogo.height], [240, 60]);
    assertPng(images.headerLogo.bytes, 240, 60, 'headerLogo');
  });

  it('refuses a PNG that cannot be decoded, naming BRAND_LOGO and the reason', async () => {
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(300, 0);
    ihdr.writeUInt32BE(300, 4);
    ihdr.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
    const corrupt = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      Buffer.from('this is not compressed image data, nor any PNG chunk at all'.repeat(20)),
    ]);
    assert.deepEqual(pngSize(corrupt), { width: 300, height: 300 });
    const brand = { logo: logo('png', corrupt), primaryColor: '#1d4ed8' };
    await assert.rejects(brandImages(brand), (error: Error) => {
      assert.equal(
        error.message,
        'BRAND_LOGO: cannot make the app icons from /etc/autogestion/logo.png: the PNG cannot be decoded (Input buffer has corrupt header)',
      );
      return true;
    });
    // A failure is not remembered: the next call draws again (and fails again).
    const count = iconRenderCount();
    await assert.rejects(brandImages(brand), { message: /^BRAND_LOGO: / });
    assert.equal(iconRenderCount(), count + 1);
  });

  it('gives up on a render that takes too long', async () => {
    await assert.rejects(
      renderBrandImages({ logo: null, primaryColor: '#1d4ed8' }, { timeoutMs: 1 }),
      (error: Error) => {
        assert.equal(
          error.message,
          'BRAND_LOGO: cannot make the app icons from the default mark in #1d4ed8: the image process took longer than 0.001 s',
        );
        return true;
      },
    );
  });

  it('draws a brand once per process', async () => {
    const before = iconRenderCount();
    const brand = { logo: null, primaryColor: '#0f5132' };
    const [first, second] = await Promise.all([brandImages(brand), brandImages(brand)]);
    const third = await brandImages({ ...brand, primaryColor: '#0F5132' });
    assert.equal(iconRenderCount(), before + 1);
    assert.equal(first, second);
    assert.equal(first, third);
    // Another colour is another drawing (#1d4ed8 was drawn above).
    assert.notEqual(first, await brandImages({ logo: null, primaryColor: '#1d4ed8' }));
    assert.equal(iconRenderCount(), before + 1);
  });

  it('keeps libvips out of the server process', { skip: !existsSync('/proc/self/maps') }, () => {
    // In a process of its own: this test file has loaded sharp itself.
    const program = `
      import { readFileSync } from 'node:fs';
      import { brandImages } from './src/site/icons.ts';
      await brandImages({ logo: null, primaryColor: '#a0102e' });
      await brandImages({ logo: null, primaryColor: '#1d4ed8' });
      console.log(readFileSync('/proc/self/maps', 'utf8').includes('libvips') ? 'loaded' : 'clean');
    `;
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', program],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout.trim(), 'clean');
  });
});
