// `npm start` and the operator commands (`npm run staff:create`, …):
// `node scripts/run.mjs ENTRY [args…]` builds dist/ first when it is missing
// or older than the sources (a fresh clone, a `git pull`), then runs
// dist/ENTRY.js in this process, with ENTRY taken out of process.argv so the
// command sees only its own arguments. In production, start
// `node dist/server.js` directly.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from './build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', 'BUILD');

/** The newest modification time under these paths (files and folders). */
function newest(paths) {
  let latest = 0;
  for (const path of paths) {
    if (!existsSync(path)) continue;
    const stat = statSync(path);
    latest = Math.max(latest, stat.mtimeMs);
    if (stat.isDirectory())
      latest = Math.max(latest, newest(readdirSync(path).map((name) => join(path, name))));
  }
  return latest;
}

function stale() {
  if (!existsSync(stamp)) return true;
  const sources = ['src', 'migrations', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];
  return newest(sources.map((name) => join(root, name))) > statSync(stamp).mtimeMs;
}

const entry = process.argv[2];
if (!entry || !/^[a-z][a-z0-9/-]*$/.test(entry)) {
  process.stderr.write(
    'usage: node scripts/run.mjs ENTRY [args…]   (ENTRY: server, src/cli/audit, …)\n',
  );
  process.exit(2);
}
const target = join(root, 'dist', `${entry}.js`);
try {
  if (stale()) build();
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
if (!existsSync(target)) {
  process.stderr.write(`dist/${entry}.js does not exist after the build\n`);
  process.exit(1);
}
process.argv.splice(2, 1);
await import(pathToFileURL(target).href);
