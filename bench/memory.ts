// The server's memory: starts src/server.ts as `npm start` does (a child
// process), reads its resident memory from /proc idle after start, then during
// a login load (autocannon, POST /api/v1/login as the demo member), and prints
// idle, peak and the logins per second. Issue 11's targets: peak RSS ≤ 200 MB
// on PostgreSQL, ≤ 300 MB on the embedded PGlite (docs/decisions/020-server-memory.md).
//
//   node --import tsx bench/memory.ts [--pglite | --postgres [URL]] [--restart]
//       [--seconds 10] [--connections 8] [--idle-seconds 5]
//       [--command "node --import tsx src/server.ts"]
//
// `--command` starts the server another way (e.g. a compiled build), from the
// repository's folder; node is this process's own binary.
// `--postgres` without a URL starts a throwaway PostgreSQL (bench/lib/postgres.ts).
// Each run uses a fresh temp DATA_DIR (PGlite's database, the dev secret), so
// the measured start creates the embedded database; with `--restart` a first
// start creates it (and the demo member) and is stopped, and the measured start
// is the second one, as a server that has run before.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort } from './lib/ports.ts';
import { startPostgres, type ThrowawayPostgres } from './lib/postgres.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const SAMPLE_EVERY_MS = 100;

/** The memory figures of /proc/PID/status we report, in kB. */
interface MemorySample {
  VmRSS: number;
  VmHWM: number;
  RssAnon: number;
  RssFile: number;
}

function readMemory(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return {
    VmRSS: field('VmRSS'),
    VmHWM: field('VmHWM'),
    RssAnon: field('RssAnon'),
    RssFile: field('RssFile'),
  };
}

/**
 * CPU time the process has used so far (user + system, all its threads), in
 * ms: /proc/PID/stat fields 14 and 15, in clock ticks (100 a second on Linux).
 * CPU per login is steadier than req/s on a machine shared with others.
 */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: count fields after its ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const mb = (kB: number) => `${(kB / 1024).toFixed(0)} MB`;

/** Samples the child's memory every SAMPLE_EVERY_MS until stopped; keeps the largest VmRSS. */
function sampler(pid: number) {
  let peak = readMemory(pid);
  const timer = setInterval(() => {
    const sample = readMemory(pid);
    if (sample.VmRSS > peak.VmRSS) peak = sample;
  }, SAMPLE_EVERY_MS);
  return {
    stop(): { peak: MemorySample; last: MemorySample } {
      clearInterval(timer);
      return { peak, last: readMemory(pid) };
    },
  };
}

interface Started {
  child: ChildProcess;
  document: string;
  password: string;
  seconds: string;
}

const NPM_START = 'node --import tsx src/server.ts';

/** Starts the server and waits for its welcome lines (which carry the demo member). */
function startServer(command: string, env: NodeJS.ProcessEnv): Promise<Started> {
  const [program, ...args] = command.split(/\s+/);
  const child = spawn(program === 'node' ? process.execPath : (program as string), args, {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const demo = /Demo member[^:]*: document (\S+), password (\S+)/.exec(output);
      const ready = /ready in ([\d.]+) s/.exec(output);
      if (demo && ready) {
        child.stdout?.off('data', onData);
        // Keep draining the logs so the child never blocks on a full pipe.
        child.stdout?.resume();
        resolve({
          child,
          document: demo[1] as string,
          password: demo[2] as string,
          seconds: ready[1] as string,
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}):\n${output}`)));
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pglite: { type: 'boolean' },
      postgres: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      connections: { type: 'string', default: '8' },
      'idle-seconds': { type: 'string', default: '5' },
      restart: { type: 'boolean', default: false },
      command: { type: 'string', default: NPM_START },
    },
    // `--postgres` may come without a URL: parseArgs then sees it last with no value.
    args: process.argv
      .slice(2)
      .map((arg, i, all) =>
        arg === '--postgres' && (i === all.length - 1 || all[i + 1]?.startsWith('--'))
          ? '--postgres=start'
          : arg,
      ),
  });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const idleSeconds = Number(values['idle-seconds']);

  let postgres: ThrowawayPostgres | undefined;
  let databaseUrl: string | undefined;
  if (values.postgres === 'start') {
    postgres = await startPostgres();
    databaseUrl = postgres.url;
  } else if (values.postgres) databaseUrl = values.postgres;

  const dataDir = mkdtempSync(join(tmpdir(), 'autogestion-bench-memory-'));
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    CAPTCHA_PROVIDER: 'none',
    DEMO_MEMBER: 'true',
    LOGIN_FREE_FAILURES: '100',
    LOGIN_FAILURES_PER_ADDRESS: '100000/1m',
    DATABASE_URL: databaseUrl ?? '',
  };
  if (!databaseUrl) delete env.DATABASE_URL;

  const database = databaseUrl ? 'PostgreSQL' : 'PGlite';
  let server: Started | undefined;
  try {
    if (values.restart) {
      const first = await startServer(values.command, env);
      const firstPeak = readMemory(first.child.pid as number).VmHWM;
      await stopServer(first.child);
      process.stdout.write(
        `${database}: first start (creates the database) ready in ${first.seconds} s, high-water ${mb(firstPeak)}; restarting\n`,
      );
    }
    server = await startServer(values.command, env);
    const pid = server.child.pid as number;
    const atStart = readMemory(pid);
    await sleep(idleSeconds * 1000);
    const idle = readMemory(pid);

    const url = `http://127.0.0.1:${port}/api/v1/login`;
    const request = {
      method: 'POST' as const,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ document: server.document, password: server.password }),
    };
    // One login first: a load of refusals would measure nothing.
    const probe = await fetch(url, request);
    if (!probe.ok) throw new Error(`the demo login answers ${probe.status}: ${await probe.text()}`);

    const cpuBefore = cpuMs(pid);
    const load = sampler(pid);
    const result = await autocannon({
      url,
      ...request,
      connections,
      duration: seconds,
    });
    const { peak, last } = load.stop();
    const cpuPerLogin = (cpuMs(pid) - cpuBefore) / Math.max(1, result['2xx']);

    const ok = result['2xx'];
    const lines = [
      `${database}: ready in ${server.seconds} s`,
      `  idle     RSS ${mb(idle.VmRSS)} (anon ${mb(idle.RssAnon)}, file ${mb(idle.RssFile)}); just after start ${mb(atStart.VmRSS)}; start-up high-water ${mb(idle.VmHWM)}`,
      `  load     peak RSS ${mb(peak.VmRSS)} (anon ${mb(peak.RssAnon)}, file ${mb(peak.RssFile)}); high-water ${mb(last.VmHWM)}; after ${mb(last.VmRSS)}`,
      `  logins   ${result.requests.average.toFixed(1)} req/s (${connections} connections, ${seconds} s; ${ok} × 2xx, ${result.non2xx} other, ${result.errors} errors); latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; server CPU ${cpuPerLogin.toFixed(1)} ms a login`,
      `  SUMMARY ${database} idle=${(idle.VmRSS / 1024).toFixed(0)}MB peak=${(last.VmHWM / 1024).toFixed(0)}MB req/s=${result.requests.average.toFixed(1)} cpu/login=${cpuPerLogin.toFixed(1)}ms`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (ok === 0 || result.non2xx > 0) process.exitCode = 1;
  } finally {
    if (server) await stopServer(server.child);
    rmSync(dataDir, { recursive: true, force: true });
    postgres?.stop();
  }
}

await main();
