// The production install, as docs/deploy.md describes it: the compiled
// dist/ with public/, package.json and package-lock.json, dependencies
// installed with `npm ci --omit=dev`, started with `node dist/server.js`.
// Proves that it serves, stops cleanly on SIGTERM, and loads no TypeScript
// tooling: every module the process loads is recorded by a loader hook, and
// none is tsx, esbuild, typescript or a .ts file. Needs dist/ (scripts/test.sh
// runs `npm run build` first) and the npm registry or its cache.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOOLING = /\/node_modules\/(tsx|esbuild|@esbuild|typescript|@typescript|@types)\//;

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('the production install (npm ci --omit=dev, node dist/server.js)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'autogestion-production-'));
  const app = join(dir, 'app');
  const trace = join(dir, 'loaded.txt');
  let installSeconds = 0;

  before(() => {
    assert.ok(
      existsSync(join(ROOT, 'dist', 'server.js')),
      'dist/server.js is missing: run `npm run build` first',
    );
    for (const name of ['package.json', 'package-lock.json', 'dist', 'public'])
      cpSync(join(ROOT, name), join(app, name), { recursive: true });
    const installStart = Date.now();
    const install = spawnSync(
      'npm',
      ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'],
      { cwd: app, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    assert.equal(install.status, 0, `npm ci --omit=dev failed:\n${install.stderr}`);
    installSeconds = (Date.now() - installStart) / 1000;
    // The loader hook that records every module the server loads.
    writeFileSync(
      join(dir, 'hooks.mjs'),
      `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(${JSON.stringify(trace)}, url + '\\n');
  return next(url, context);
}\n`,
    );
    writeFileSync(
      join(dir, 'trace.mjs'),
      `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});\n`,
    );
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('installs no TypeScript tooling', () => {
    const installed = readdirSync(join(app, 'node_modules'));
    for (const name of ['tsx', 'esbuild', 'typescript', '@types', '@biomejs', '@playwright'])
      assert.ok(!installed.includes(name), `${name} is installed with --omit=dev`);
    const listed = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
      cwd: app,
      encoding: 'utf8',
    });
    assert.equal(listed.status, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, TOOLING);
  });

  it('serves from dist/, loads no TypeScript tooling, and exits 0 on SIGTERM', async (t) => {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', join(dir, 'trace.mjs'), 'dist/server.js'], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? tmpdir(),
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    t.after(() => child.kill('SIGKILL'));

    const started = Date.now();
    const deadline = started + 240_000;
    while (!output.includes('Autogestión is listening') && !output.includes('listening on')) {
      assert.ok(Date.now() < deadline, `the server did not start:\n${output}`);
      assert.equal(child.exitCode, null, `the server exited:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const base = `http://127.0.0.1:${port}`;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const login = await fetch(`${base}/`);
    assert.equal(login.status, 200);
    assert.match(await login.text(), /<form/);

    const ready = Date.now();
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `exit code after SIGTERM:\n${output}`);
    t.diagnostic(
      `npm ci --omit=dev ${installSeconds.toFixed(1)} s, start ${((ready - started) / 1000).toFixed(1)} s, stop ${((Date.now() - ready) / 1000).toFixed(1)} s`,
    );

    const loaded = readFileSync(trace, 'utf8').trim().split('\n');
    assert.ok(loaded.length > 100, `only ${loaded.length} modules recorded`);
    const tooling = loaded.filter((url) => TOOLING.test(url) || /\.(c|m)?ts$/.test(url));
    assert.deepEqual(tooling, [], 'TypeScript tooling or sources loaded');
    const ours = loaded.filter((url) => url.startsWith('file:') && !url.includes('/node_modules/'));
    const outside = ours.filter((url) => !url.startsWith(pathToFileURL(join(app, 'dist')).href));
    assert.deepEqual(outside, [], 'modules loaded from outside dist/');
    t.diagnostic(`${loaded.length} modules loaded, ${ours.length} of them from dist/`);
  });
});
