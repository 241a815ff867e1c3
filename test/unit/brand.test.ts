// The brand settings (src/site/brand.ts, read by src/config.ts): defaults,
// what is derived, and every refusal naming its variable.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';
import {
  type BrandEnv,
  brandFromEnv,
  colourProblem,
  contrast,
  deriveShortName,
  PAGE_BACKGROUND,
  smsSafe,
} from '../../src/site/brand.ts';

function problemsOf(env: BrandEnv): string[] {
  const problems: string[] = [];
  brandFromEnv(env, problems);
  return problems;
}

function configProblems(env: Record<string, string>): string[] {
  try {
    loadConfig({ NODE_ENV: 'test', ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('the brand settings', () => {
  let folder: string;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'brand-test-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  it('defaults to the portal as it was: Autogestión, #a0102e, 144, the default mark', () => {
    const problems: string[] = [];
    const brand = brandFromEnv({}, problems);
    assert.deepEqual(problems, []);
    assert.equal(brand.name, 'Autogestión');
    assert.equal(brand.smsName, 'Autogestion');
    assert.equal(brand.shortName, 'Autogestión');
    assert.equal(brand.primaryColor, '#a0102e');
    assert.equal(brand.callCenter, '144');
    assert.equal(brand.callCenterTel, '144');
    assert.equal(brand.logo, null);
  });

  it('is what the config carries, with the sender name and the password words from it', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      BRAND_NAME: 'Mutualista del Ejemplo',
      BRAND_CALL_CENTER: '0800 1234',
      BRAND_PRIMARY_COLOR: '#0B5394',
    });
    assert.equal(config.brand.name, 'Mutualista del Ejemplo');
    assert.equal(config.brand.primaryColor, '#0b5394');
    assert.equal(config.brand.callCenterTel, '08001234');
    assert.equal(config.mailFrom, 'Mutualista del Ejemplo <no-reply@localhost>');
    for (const word of ['casmu', 'autogestion', 'portal', 'socio', 'mutualista', 'ejemplo']) {
      assert.ok(config.passwordServiceWords.includes(word), word);
    }
    assert.ok(!config.passwordServiceWords.includes('del'), 'short words are left out');
    const set = loadConfig({
      NODE_ENV: 'test',
      BRAND_NAME: 'Mutualista del Ejemplo',
      PASSWORD_SERVICE_WORDS: 'uno1,dos22',
      MAIL_FROM: 'Portal <portal@example.org>',
    });
    assert.deepEqual(set.passwordServiceWords, ['uno1', 'dos22']);
    assert.equal(set.mailFrom, 'Portal <portal@example.org>');
  });

  it('derives the home-screen label: the name when it fits, else its first words that fit, else 12 characters', () => {
    assert.equal(deriveShortName('CASMU'), 'CASMU');
    assert.equal(deriveShortName('Mutualista del Ejemplo'), 'Mutualista');
    assert.equal(deriveShortName('Salud Verde Cooperativa'), 'Salud Verde');
    assert.equal(deriveShortName('Supercalifragilístico Médica'), 'Supercalifra');
    assert.deepEqual(problemsOf({ BRAND_SHORT_NAME: 'Un nombre demasiado largo' }), [
      'BRAND_SHORT_NAME: expected the home-screen label, 1 to 12 printable characters',
    ]);
  });

  it('writes the name for SMS without accents, and refuses one SMS cannot carry or with six digits', () => {
    assert.equal(smsSafe('Asociación Española'), 'Asociacion Espanola');
    assert.match(
      problemsOf({ BRAND_NAME: 'Клиника' }).join('\n'),
      /^BRAND_NAME: needs Latin letters/,
    );
    assert.match(
      problemsOf({ BRAND_NAME: 'Salud 123456' }).join('\n'),
      /^BRAND_NAME: may not hold six digits/,
    );
    assert.match(problemsOf({ BRAND_NAME: 'x'.repeat(41) }).join('\n'), /^BRAND_NAME: expected/);
    assert.match(problemsOf({ BRAND_NAME: 'Dos\nlíneas' }).join('\n'), /^BRAND_NAME: expected/);
  });

  it('refuses a colour white text or the page cannot be read on, naming the variable and the ratios', () => {
    // #a0102e: white on it about 7.7:1, it on the page about 6.8:1.
    assert.ok(contrast('#a0102e', '#ffffff') > 7);
    assert.equal(colourProblem('#a0102e'), null);
    const yellow = configProblems({ BRAND_PRIMARY_COLOR: '#ffcc00' });
    assert.equal(yellow.length, 1);
    assert.match(
      yellow[0] as string,
      /^BRAND_PRIMARY_COLOR: #ffcc00 is unreadable: white text on it has a contrast of 1\.\d\d:1 and it as text on the page background \(#f3f1ef\) 1\.\d\d:1; both need 4\.5:1/,
    );
    // Passes on white (4.5:1 or more) but not on the page background: refused too.
    const edge = '#767676';
    assert.ok(contrast(edge, '#ffffff') >= 4.5);
    assert.ok(contrast(edge, PAGE_BACKGROUND) < 4.5);
    assert.equal(configProblems({ BRAND_PRIMARY_COLOR: edge }).length, 1);
    for (const bad of ['red', '#abc', '#12345g', 'a0102e']) {
      assert.deepEqual(configProblems({ BRAND_PRIMARY_COLOR: bad }), [
        'BRAND_PRIMARY_COLOR: expected a colour written #rrggbb, such as #a0102e',
      ]);
    }
  });

  it('keeps the page background of the stylesheet in step with the contrast check', () => {
    const css = readFileSync(new URL('../../public/app.css', import.meta.url), 'utf8');
    assert.match(css, new RegExp(`--page: ${PAGE_BACKGROUND};`));
  });

  it('takes a call centre as members dial it, and its tel: link without separators', () => {
    for (const [given, tel] of [
      ['144', '144'],
      ['0800 1234', '08001234'],
      ['+598 2487-1234', '+59824871234'],
      ['*144#', '*144%23'],
    ] as const) {
      const problems: string[] = [];
      assert.equal(brandFromEnv({ BRAND_CALL_CENTER: given }, problems).callCenterTel, tel);
      assert.deepEqual(problems, [], given);
    }
    for (const bad of ['llamar', '144 ext. 3', '1'.repeat(22), '<script>']) {
      assert.match(problemsOf({ BRAND_CALL_CENTER: bad }).join('\n'), /^BRAND_CALL_CENTER: /, bad);
    }
  });

  it('reads the logo once and refuses one that is missing, of another kind, too small or not what it says', () => {
    const svg = join(folder, 'logo.svg');
    writeFileSync(
      svg,
      '<?xml version="1.0"?>\n<!-- mark --><svg xmlns="http://www.w3.org/2000/svg"/>',
    );
    const problems: string[] = [];
    const brand = brandFromEnv({ BRAND_LOGO: svg }, problems);
    assert.deepEqual(problems, []);
    assert.equal(brand.logo?.type, 'svg');

    const fakeSvg = join(folder, 'fake.svg');
    writeFileSync(fakeSvg, '<html><body>no</body></html>');
    const tinyPng = join(folder, 'tiny.png');
    const header = Buffer.alloc(33);
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(header, 0);
    header.writeUInt32BE(13, 8);
    header.write('IHDR', 12, 'latin1');
    header.writeUInt32BE(64, 16);
    header.writeUInt32BE(64, 20);
    writeFileSync(tinyPng, header);
    const notPng = join(folder, 'not.png');
    writeFileSync(notPng, 'GIF89a');
    const cases: [string, RegExp][] = [
      [join(folder, 'missing.svg'), /cannot read .*missing\.svg \(no such file\)/],
      [join(folder, 'logo.gif'), /expected a \.svg or \.png file/],
      [fakeSvg, /is not an SVG document/],
      [tinyPng, /is 64×64 px; a PNG logo needs at least 192 px/],
      [notPng, /is not a PNG image/],
    ];
    for (const [path, message] of cases) {
      const found = configProblems({ BRAND_LOGO: path });
      assert.equal(found.length, 1, path);
      assert.match(found[0] as string, /^BRAND_LOGO: /);
      assert.match(found[0] as string, message);
    }
  });
});
