// A server process under test: our src/server.ts (or a peer's), started as a
// child with its own environment, ready when its health probe answers, with
// its resident memory read from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export interface RunningServer {
  url: string;
  child: ChildProcess;
  /** Resident memory now and its peak so far (VmRSS, VmHWM), in MB. */
  memory(): { rssMb: number; peakMb: number };
  /** Forgets the peak so far (the next memory().peakMb starts from now). */
  resetPeak(): void;
  stop(): Promise<void>;
  output(): string;
}

export interface StartOptions {
  command: string[];
  env: Record<string, string>;
  cwd?: string;
  url: string;
  /** Path that answers 2xx once the server is ready. */
  readyPath: string;
  readyTimeoutMs?: number;
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const [command, ...args] = options.command;
  const child = spawn(command as string, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
  for (;;) {
    if (exited) throw new Error(`the server exited before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server was not ready in time:\n${output}`);
    }
    try {
      const answer = await fetch(options.url + options.readyPath);
      if (answer.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const pid = child.pid as number;
  const status = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) / 1024 : 0;
  };
  return {
    url: options.url,
    child,
    memory: () => ({ rssMb: status('VmRSS'), peakMb: status('VmHWM') }),
    resetPeak: () => {
      // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux).
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
      } catch {
        // not permitted: the peak then includes the start
      }
    },
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
    output: () => output,
  };
}
