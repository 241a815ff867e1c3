// `npm run build`: compiles src/ and migrations/ to plain JavaScript in dist/
// with tsc, then writes dist/server.js, the entry operators start with
// `node dist/server.js`. Production runs only what is in dist/ (and the
// runtime dependencies): no TypeScript tooling is loaded (ADR 027).
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

export function build({ quiet = false } = {}) {
  let tsc;
  try {
    const manifest = createRequire(join(root, 'package.json')).resolve('typescript/package.json');
    tsc = join(dirname(manifest), 'bin', 'tsc');
  } catch {
    throw new Error(
      'dist/ must be built, and TypeScript is not installed (dependencies installed with --omit=dev?). ' +
        'Run `npm ci && npm run build` on a build machine and ship dist/ with the code.',
    );
  }
  if (!quiet) process.stderr.write('Building dist/ (tsc)…\n');
  rmSync(dist, { recursive: true, force: true });
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('tsc failed: dist/ was not built');
  writeFileSync(
    join(dist, 'server.js'),
    "// The portal's entry: `node dist/server.js` (written by scripts/build.mjs).\nimport './src/server.js';\n",
  );
  // Written last: its presence says the build finished.
  writeFileSync(join(dist, 'BUILD'), `${new Date().toISOString()}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    build();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
