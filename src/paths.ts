// Where the project's files are: the folder with package.json above this
// module. Found by walking up rather than by a fixed number of "..", so the
// same code finds public/ from src/ (under tsx) and from dist/src/ (compiled).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));
/** The static files served by the portal (styles, scripts, default icons). */
export const PUBLIC_DIR = join(PROJECT_ROOT, 'public');
