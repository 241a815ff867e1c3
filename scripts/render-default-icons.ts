// Renders the default brand's app icons into public/icons/, where the
// server reads them without loading an image library. They are drawn by the
// same child process that draws any other brand's (src/site/render-icons.ts):
// run this again after changing the default mark or how icons are drawn.
//   node --import tsx scripts/render-default-icons.ts

import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { DEFAULT_PRIMARY_COLOR } from '../src/site/brand.ts';
import { DEFAULT_ICON_FILES, DEFAULT_ICONS_DIR, renderBrandImages } from '../src/site/icons.ts';

const started = performance.now();
const images = await renderBrandImages({ logo: null, primaryColor: DEFAULT_PRIMARY_COLOR });
const elapsed = Math.round(performance.now() - started);
mkdirSync(DEFAULT_ICONS_DIR, { recursive: true });
for (const [key, file] of Object.entries(DEFAULT_ICON_FILES)) {
  const bytes = images[key as keyof typeof DEFAULT_ICON_FILES];
  const path = join(DEFAULT_ICONS_DIR, file);
  await writeFile(path, bytes);
  console.log(`${relative(process.cwd(), path)}: ${bytes.length} bytes`);
}
console.log(`rendered in ${elapsed} ms`);
