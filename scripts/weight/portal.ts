// The portal as a newcomer starts it (`node --import tsx src/server.ts`),
// with nothing configured but where it listens and keeps its data: the
// embedded database, the ALTCHA widget, development. Unlike the benchmark's
// starter (bench/lib/server.ts) the process is in hand from the first
// moment, so an interrupted start still stops it.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../bench/lib/ports.ts';
import { ROOT } from '../../bench/lib/servers.ts';

const READY_TIMEOUT_MS = 120_000;
const POLL_MS = 200;

export interface Portal {
  url: string;
  /** Resolves once /readyz answers; rejects if the process ends first or never gets ready. */
  ready: Promise<void>;
  /** SIGTERM, then SIGKILL after 15 s; resolves once the process has ended. */
  stop(): Promise<void>;
}

export async function startPortal(dataDir: string): Promise<Portal> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src', 'server.ts')],
    {
      cwd: ROOT,
      // Nothing from this shell (a DATABASE_URL, another CAPTCHA) changes what is measured.
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        PORT: String(port),
        PUBLIC_URL: url,
        DATA_DIR: dataDir,
        NODE_ENV: 'development',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });

  const ready = (async () => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (exited) throw new Error(`the portal exited before it was ready:\n${output}`);
      if (Date.now() > deadline) throw new Error(`the portal was not ready in time:\n${output}`);
      try {
        if ((await fetch(`${url}/readyz`)).ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  // Whoever awaits `ready` sees its failure; stop() must not.
  ready.catch(() => {});

  return {
    url,
    ready,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
