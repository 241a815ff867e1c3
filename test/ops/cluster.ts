// The fault tests' rig, as an operator deploys the portal: a throwaway
// PostgreSQL of its own (initdb in a temporary folder), N server processes
// started as the operator starts them, nginx in front with the operator's
// configuration (deploy/nginx/autogestion.conf, only its listen port and
// instance addresses changed), a real SMTP server (stoppable and restartable
// on its port) and an SMS gateway stub (switchable to fail). Members are
// written to the database; a client drives the JSON API through nginx.
//
// Everything it starts is stopped by `stop()`, and, should the test process
// end without it, by an exit handler (SIGKILL to the servers, nginx told to
// stop, PostgreSQL stopped immediately): no orphan is left on the machine.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PasswordHasher } from '../../src/auth/passwords.ts';
import { LEASE_MS } from '../../src/courier/dispatcher.ts';
import { PASSWORD_REQUEST_SUBJECT } from '../../src/courier/templates/password-request.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import type { Database, Member } from '../../src/db/schema.ts';
import { createMember } from '../helper.ts';
import { SmsGatewayStub } from '../support/sms-gateway.ts';
import { reservePort, SmtpStub } from '../support/smtp.ts';

const run = promisify(execFile);

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const NGINX = '/usr/sbin/nginx';
export const NGINX_CONF = join(ROOT, 'deploy/nginx/autogestion.conf');
export const APP_SECRET = 'ops-faults-secret-ops-faults-secret-0123456789';
/** Every member's password in these tests. */
export const PASSWORD = 'clave2026';

/** The newest PostgreSQL server binaries Debian installed, if any. */
function postgresBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base)
    .filter((version) => existsSync(join(base, version, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest ? join(base, newest, 'bin') : null;
}

const isRoot = process.getuid?.() === 0;

/** Why these tests cannot run here, or false. */
export function skipReason(): string | false {
  if (!existsSync(NGINX)) return `needs nginx at ${NGINX} (Debian package nginx)`;
  if (!postgresBin())
    return 'needs the PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb, Debian package postgresql)';
  if (isRoot) {
    try {
      execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
    } catch {
      return 'runs as root but there is no postgres user to run PostgreSQL as';
    }
  }
  return false;
}

/** The newest modification time of the files under `dir`. */
function newestUnder(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

/**
 * Why the compiled build cannot be used, or null: it must be complete
 * (dist/BUILD is written last) and newer than the sources, or the tests
 * would run yesterday's code.
 */
function compiledBuildProblem(): string | null {
  const build = join(ROOT, 'dist', 'BUILD');
  if (!existsSync(join(ROOT, 'dist', 'server.js')) || !existsSync(build)) return 'no dist/ build';
  const built = statSync(build).mtimeMs;
  const sources = Math.max(newestUnder(join(ROOT, 'src')), newestUnder(join(ROOT, 'migrations')));
  return sources > built ? 'dist/ is older than src/ (run npm run build)' : null;
}

/**
 * The command that runs one instance, as an operator starts it: the
 * compiled build (`npm run build` → dist/, `node dist/server.js`) when
 * there is a complete one as new as the sources, else the TypeScript
 * sources through tsx. OPS_SERVER=dist or OPS_SERVER=tsx forces one.
 */
export function serverCommand(): { command: string; args: string[]; label: string } {
  const compiled = {
    command: process.execPath,
    args: ['dist/server.js'],
    label: 'node dist/server.js',
  };
  const sources = {
    command: process.execPath,
    args: ['--import', 'tsx', 'src/server.ts'],
    label: 'node --import tsx src/server.ts',
  };
  if (process.env.OPS_SERVER === 'dist') return compiled;
  if (process.env.OPS_SERVER === 'tsx') return sources;
  const problem = compiledBuildProblem();
  return problem ? { ...sources, label: `${sources.label} (${problem})` } : compiled;
}

// --- Last-resort cleanup ----------------------------------------------------

const lastResorts = new Set<() => void>();
process.once('exit', () => {
  for (const cleanup of lastResorts) {
    try {
      cleanup();
    } catch {
      // Best effort: the process is going away.
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => process.exit(signal === 'SIGINT' ? 130 : 143));

/** Polls `check` until it returns something truthy; fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  everyMs = 25,
): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// --- PostgreSQL ---------------------------------------------------------------

/** A PostgreSQL cluster of its own in a temporary folder, run as the postgres user. */
export class Postgres {
  readonly #cleanup = () => this.#stopNow();

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /**
   * The server's log, one entry per message (a statement may span lines):
   * the session's process id and the text. With log_statement=ddl, every
   * schema change is in it.
   */
  logEntries(): { pid: string; text: string }[] {
    const entries: { pid: string; text: string }[] = [];
    for (const line of this.log().split('\n')) {
      const start = /^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[(\d+)\] (.*)$/.exec(line);
      if (start) entries.push({ pid: start[1] as string, text: start[2] as string });
      else if (entries.length > 0) (entries.at(-1) as { text: string }).text += `\n${line}`;
    }
    return entries;
  }

  /** The server's log as written. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'log'), 'utf8');
    } catch {
      return '';
    }
  }

  /** A new cluster, started; `settings` go to its postgresql.conf after the rig's own. */
  static async create(settings: Record<string, string> = {}): Promise<Postgres> {
    const bin = postgresBin();
    if (!bin) throw new Error('no PostgreSQL binaries');
    const dir = mkdtempSync(join(tmpdir(), 'autogestion-ops-pg-'));
    if (isRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    const postgres = new Postgres(dir, await reservePort(), bin);
    lastResorts.add(postgres.#cleanup);
    await postgres.#as('initdb', [
      '-D',
      postgres.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ]);
    appendFileSync(
      join(postgres.dataDir, 'postgresql.conf'),
      [
        '',
        `port = ${postgres.port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        // A throwaway database: durability is not what these tests are about.
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        // Every CREATE/ALTER in the log, with the process that ran it: the
        // concurrent start counts the migrations' statements there.
        "log_statement = 'ddl'",
        "log_line_prefix = '%m [%p] '",
        'max_connections = 200',
        ...Object.entries(settings).map(([name, value]) => `${name} = ${value}`),
        '',
      ].join('\n'),
    );
    await postgres.start();
    return postgres;
  }

  async start(): Promise<void> {
    await this.#as('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-t',
      '30',
      'start',
    ]);
  }

  /** Stops the server: `fast` ends every connection at once, as a restart by the operator does. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.#as('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', '-t', '30', 'stop']);
  }

  get running(): boolean {
    return existsSync(join(this.dataDir, 'postmaster.pid'));
  }

  async destroy(): Promise<void> {
    if (this.running) await this.stop('immediate').catch(() => {});
    lastResorts.delete(this.#cleanup);
    rmSync(this.dir, { recursive: true, force: true });
  }

  #stopNow(): void {
    if (this.running) {
      const [command, args] = this.#command('pg_ctl', [
        '-D',
        this.dataDir,
        '-m',
        'immediate',
        'stop',
      ]);
      execFileSync(command, args, { stdio: 'ignore' });
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  #command(tool: string, args: string[]): [string, string[]] {
    const path = join(this.bin, tool);
    // PostgreSQL refuses to run as root: as root, it runs as postgres.
    return isRoot ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
  }

  async #as(tool: string, args: string[]): Promise<void> {
    const [command, list] = this.#command(tool, args);
    try {
      await run(command, list, { cwd: this.dir });
    } catch (error) {
      throw new Error(`${tool} ${args.join(' ')} failed: ${error}\n${this.log().slice(-2000)}`);
    }
  }
}

// --- Server processes -------------------------------------------------------

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when it ended. */
  at: number;
}

/** One server process on its own port. */
export class Instance {
  #stdout = '';
  #stderr = '';
  readonly exited: Promise<Exit>;
  exit: Exit | null = null;
  readonly #cleanup = () => this.child.kill('SIGKILL');

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    lastResorts.add(this.#cleanup);
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      this.#stdout += chunk;
    });
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
    this.exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => {
        lastResorts.delete(this.#cleanup);
        this.exit = { code, signal, at: performance.now() };
        resolve(this.exit);
      });
    });
  }

  static spawn(name: string, port: number, env: Record<string, string>): Instance {
    const { command, args } = serverCommand();
    const child = spawn(command, args, {
      cwd: ROOT,
      // Only what the operator sets: nothing of the test runner's
      // environment (NODE_TEST_CONTEXT, LOG_LEVEL) leaks in.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? tmpdir(),
        TMPDIR: tmpdir(),
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Instance(name, port, child);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.exit === null;
  }

  stdout(): string {
    return this.#stdout;
  }

  stderr(): string {
    return this.#stderr;
  }

  /** Its output, labelled, for failure messages (the end of it: the log can be long). */
  output(limit = 6000): string {
    return `--- ${this.name} (port ${this.port}) stdout ---\n${this.#stdout.slice(-limit)}\n--- ${this.name} stderr ---\n${this.#stderr.slice(-limit)}`;
  }

  /** Parsed JSON log lines (pino) of the process so far. */
  logLines(): { level: number; msg: string; [key: string]: unknown }[] {
    return this.#stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line)];
        } catch {
          return [];
        }
      });
  }

  /** Resolves when the process printed its banner (it listens), fails if it exits first. */
  async listening(timeoutMs = 90_000): Promise<void> {
    await Promise.race([
      waitFor(
        () => /listening on http:\/\//.test(this.#stdout),
        `${this.name} to listen`,
        timeoutMs,
      ),
      this.exited.then((exit) => {
        throw new Error(
          `${this.name} exited (${exit.code ?? exit.signal}) before listening\n${this.output()}`,
        );
      }),
    ]);
  }

  /** GET /readyz on the instance itself: its status, or 0 when nothing answers. */
  async readyz(): Promise<number> {
    try {
      const response = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(3000) });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }

  async ready(timeoutMs = 90_000): Promise<void> {
    await this.listening(timeoutMs);
    await waitFor(async () => (await this.readyz()) === 200, `${this.name} /readyz 200`, timeoutMs);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; the exit. */
  async stop(graceMs = 15_000): Promise<Exit> {
    if (!this.running) return this.exit as Exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

// --- nginx ---------------------------------------------------------------------

/** One line of nginx's access log, as the rig's log_format writes it. */
export interface AccessEntry {
  /** Seconds since the epoch when nginx finished the request. */
  msec: number;
  status: number;
  /** The client's x-ops-seq header (the rig's request number), or null. */
  seq: number | null;
  /** Every instance tried, in order ("127.0.0.1:3001, 127.0.0.1:3002"). */
  upstreams: string[];
  upstreamStatuses: string[];
  method: string;
  uri: string;
}

/** The operator's configuration with only the listen port and the instance addresses changed. */
export function renderNginxConf(listenPort: number, upstreamPorts: readonly number[]): string {
  let text = readFileSync(NGINX_CONF, 'utf8');
  const replace = (from: string, to: string) => {
    const count = text.split(from).length - 1;
    assert.equal(count, 1, `${NGINX_CONF} must say "${from}" exactly once (found ${count})`);
    text = text.replace(from, to);
  };
  replace('listen 80;', `listen 127.0.0.1:${listenPort};`);
  const defaults = ['127.0.0.1:3001', '127.0.0.1:3002', '127.0.0.1:3003'];
  upstreamPorts.forEach((port, i) => {
    const from = defaults[i];
    assert.ok(from, 'at most three instances behind nginx');
    replace(from, `127.0.0.1:${port}`);
  });
  return text;
}

export class Nginx {
  readonly #cleanup = () => {
    this.child.kill('SIGTERM');
    rmSync(this.dir, { recursive: true, force: true });
  };
  #stderr = '';
  readonly exited: Promise<void>;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly child: ChildProcess,
  ) {
    lastResorts.add(this.#cleanup);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        lastResorts.delete(this.#cleanup);
        resolve();
      }),
    );
  }

  static async start(upstreamPorts: readonly number[]): Promise<Nginx> {
    const dir = mkdtempSync(join(tmpdir(), 'autogestion-ops-nginx-'));
    // Its workers run as nobody and read nothing here but the temp folders
    // nginx makes for them; the master (this user) writes the logs.
    chmodSync(dir, 0o755);
    const port = await reservePort();
    writeFileSync(join(dir, 'autogestion.conf'), renderNginxConf(port, upstreamPorts));
    writeFileSync(
      join(dir, 'nginx.conf'),
      `# The rig's top level around the operator's file (test/ops/cluster.ts).
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log notice;
events {
    worker_connections 1024;
}
http {
    client_body_temp_path ${dir}/client_body;
    proxy_temp_path ${dir}/proxy;
    fastcgi_temp_path ${dir}/fastcgi;
    uwsgi_temp_path ${dir}/uwsgi;
    scgi_temp_path ${dir}/scgi;
    # Which instance answered which request (the tests' x-ops-seq), and every instance tried.
    log_format ops '$msec|$status|$http_x_ops_seq|$upstream_addr|$upstream_status|$request_method|$uri';
    access_log ${dir}/access.log ops;
    include ${dir}/autogestion.conf;
}
`,
    );
    const nginx = new Nginx(
      dir,
      port,
      spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    await Promise.race([
      waitFor(() => accepts(port), `nginx to listen on ${port}`, 10_000),
      nginx.exited.then(() => {
        throw new Error(`nginx exited: ${nginx.#stderr}\n${nginx.errorLog()}`);
      }),
    ]);
    return nginx;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  errorLog(): string {
    try {
      return readFileSync(join(this.dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  }

  accessLog(): AccessEntry[] {
    let text = '';
    try {
      text = readFileSync(join(this.dir, 'access.log'), 'utf8');
    } catch {
      return [];
    }
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [msec, status, seq, upstreams, statuses, method, uri] = line.split('|');
        const list = (value: string | undefined) =>
          !value || value === '-' ? [] : value.split(/\s*[,:]\s*/);
        return {
          msec: Number(msec),
          status: Number(status),
          seq: seq && seq !== '-' ? Number(seq) : null,
          upstreams: !upstreams || upstreams === '-' ? [] : upstreams.split(/\s*[,:]\s+/),
          upstreamStatuses: list(statuses),
          method: method ?? '',
          uri: uri ?? '',
        };
      });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

// --- The client ------------------------------------------------------------------

export interface Outcome {
  seq: number;
  kind: string;
  method: string;
  path: string;
  /** The HTTP status, or 0 when no answer came (connection failed). */
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API.
  body: any;
  error: string | null;
  /** performance.now() when it was sent and when its answer (or failure) came. */
  started: number;
  ended: number;
  /** What the request was about (a member's document, a recipient), for the checks. */
  tag: Record<string, string>;
}

/** The JSON API through nginx; every request numbered, timed and kept. */
export class Client {
  readonly outcomes: Outcome[] = [];
  readonly #pending = new Map<number, { kind: string; started: number }>();
  #seq = 0;

  constructor(readonly baseUrl: string) {}

  /** The numbers of the requests sent and not answered yet. */
  pending(): number[] {
    return [...this.#pending.keys()];
  }

  async call(
    kind: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    options: { body?: object; token?: string; tag?: Record<string, string> } = {},
  ): Promise<Outcome> {
    this.#seq += 1;
    const seq = this.#seq;
    const headers: Record<string, string> = { 'x-ops-seq': String(seq) };
    if (options.body) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const started = performance.now();
    this.#pending.set(seq, { kind, started });
    let status = 0;
    let body: unknown = null;
    let error: string | null = null;
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        ...(options.body ? { body: JSON.stringify(options.body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
      status = response.status;
      const text = await response.text();
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = text;
      }
    } catch (failure) {
      error = String((failure as { cause?: unknown }).cause ?? failure);
    } finally {
      this.#pending.delete(seq);
    }
    const outcome: Outcome = {
      seq,
      kind,
      method,
      path,
      status,
      body,
      error,
      started,
      ended: performance.now(),
      tag: options.tag ?? {},
    };
    this.outcomes.push(outcome);
    return outcome;
  }

  login(document: string, password = PASSWORD): Promise<Outcome> {
    return this.call('login', 'POST', '/api/v1/login', {
      body: { document, password },
      tag: { document },
    });
  }

  me(token: string): Promise<Outcome> {
    return this.call('me', 'GET', '/api/v1/me', { token });
  }

  passwordRequest(member: Member, channel: 'email' | 'sms'): Promise<Outcome> {
    return this.call(`request-${channel}`, 'POST', '/api/v1/password-requests', {
      body: { document: member.document, channel },
      tag: {
        document: member.document,
        recipient: (channel === 'email' ? member.email : member.mobile) as string,
      },
    });
  }

  setPassword(token: string, password: string, document: string): Promise<Outcome> {
    return this.call('set-password', 'POST', '/api/v1/password', {
      body: { token, password, passwordConfirmation: password },
      tag: { document, password, token },
    });
  }
}

// --- The cluster ------------------------------------------------------------------

export interface ClusterOptions {
  /** postgresql.conf settings of the cluster's PostgreSQL, over the rig's. */
  postgres?: Record<string, string>;
  /** Server processes (default 2). */
  instances?: number;
  /** Put nginx in front (default true). */
  nginx?: boolean;
  /** Environment of every instance, over the rig's defaults. */
  env?: Record<string, string>;
  /** Wait for each instance to answer /readyz 200 (default true). */
  waitReady?: boolean;
}

/** An outbox row as the checks read it. */
export interface OutboxClaim {
  id: string;
  recipient: string;
  channel: 'email' | 'sms';
  template: string;
  status: string;
  locked_until: Date | null;
  attempts: number;
}

/** A member the rig made, with the password PASSWORD. */
export type OpsMember = Member;

let productionHash: Promise<string> | undefined;

export class Cluster {
  readonly instances: Instance[] = [];
  readonly dataDirs: string[] = [];
  nginx: Nginx | null = null;
  client: Client | null = null;
  #db: Database | null = null;
  #stopped = false;
  /** What must end before the processes stop (a load, a prober), even when a test failed. */
  readonly #beforeStop = new Set<() => Promise<void>>();

  private constructor(
    readonly pg: Postgres,
    readonly smtp: SmtpStub,
    readonly sms: SmsGatewayStub,
    readonly ports: number[],
    readonly publicPort: number,
    readonly env: Record<string, string>,
  ) {}

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const count = options.instances ?? 2;
    const [pg, smtp, sms] = await Promise.all([
      Postgres.create(options.postgres),
      SmtpStub.start(),
      SmsGatewayStub.start(),
    ]);
    const ports: number[] = [];
    for (let i = 0; i < count; i += 1) ports.push(await reservePort());
    const publicPort = await reservePort();
    const cluster = new Cluster(pg, smtp, sms, ports, publicPort, options.env ?? {});
    try {
      const started = ports.map((_, i) => cluster.startInstance(i));
      if (options.waitReady ?? true) await Promise.all(started.map((instance) => instance.ready()));
      if (options.nginx ?? true) {
        cluster.nginx = await Nginx.start(ports);
        cluster.client = new Client(cluster.nginx.url);
      }
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** What every instance is started with: an operator's settings, made for the tests. */
  envFor(index: number): Record<string, string> {
    let dataDir = this.dataDirs[index];
    if (!dataDir) {
      const dir = mkdtempSync(join(tmpdir(), `autogestion-ops-data-${index}-`));
      lastResorts.add(() => rmSync(dir, { recursive: true, force: true }));
      this.dataDirs[index] = dir;
      dataDir = dir;
    }
    return {
      // Plain http and NODE_ENV unset (development rules), so CAPTCHA_PROVIDER=none
      // is accepted; everything else as in production: PostgreSQL, real SMTP and
      // SMS gateway, a fixed APP_SECRET shared by the instances, no demo member,
      // no dev mailbox, nginx trusted.
      PUBLIC_URL: `http://127.0.0.1:${this.publicPort}`,
      DATABASE_URL: this.pg.url,
      DATA_DIR: dataDir,
      APP_SECRET,
      CAPTCHA_PROVIDER: 'none',
      SMTP_URL: this.smtp.url,
      SMS_WEBHOOK_URL: this.sms.url,
      DEMO_MEMBER: 'false',
      DEV_MAILBOX: 'false',
      TRUSTED_PROXIES: '127.0.0.1',
      LOG_LEVEL: 'info',
      // Every client of these tests is 127.0.0.1: the per-address budgets
      // would refuse the load itself. Their own tests are elsewhere.
      PASSWORD_REQUESTS_PER_ADDRESS: '1000000/1h',
      LOGIN_FAILURES_PER_ADDRESS: '1000000/15m',
      SMS_CODE_FAILURES_PER_ADDRESS: '1000000/1h',
      SMS_HOURLY_BUDGET: '1000000',
      ...this.env,
    };
  }

  /** Starts (or starts again) instance `index` on its port; does not wait for it. */
  startInstance(index: number, env: Record<string, string> = {}): Instance {
    const old = this.instances[index];
    assert.ok(!old?.running, `instance ${index} is still running`);
    const instance = Instance.spawn(String.fromCharCode(65 + index), this.ports[index] as number, {
      ...this.envFor(index),
      ...env,
    });
    this.instances[index] = instance;
    return instance;
  }

  get http(): Client {
    assert.ok(this.client, 'the cluster has no nginx');
    return this.client;
  }

  /** The test's own connection to the database (for members and checks). */
  async db(): Promise<Database> {
    this.#db ??= await connectDatabase({ kind: 'postgres', url: this.pg.url }, { poolSize: 4 });
    return this.#db;
  }

  /**
   * `count` members with an email, a mobile and the password PASSWORD,
   * hashed once with the production parameters (as an imported member's
   * would be: a login verifies it and does not rehash).
   */
  async createMembers(count: number): Promise<OpsMember[]> {
    productionHash ??= new PasswordHasher().hash(PASSWORD);
    const hash = await productionHash;
    const hasher = { hash: async () => hash } as unknown as PasswordHasher;
    const db = await this.db();
    const members: OpsMember[] = [];
    for (let i = 0; i < count; i += 1) members.push(await createMember(db, {}, hasher));
    return members;
  }

  /** Outbox rows by status. */
  async outboxCounts(): Promise<Record<string, number>> {
    const db = await this.db();
    const rows = await db
      .selectFrom('outbox')
      .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.n)]));
  }

  /** Waits until no message is queued or being delivered. */
  async outboxSettled(timeoutMs = 30_000): Promise<Record<string, number>> {
    return waitFor(
      async () => {
        const counts = await this.outboxCounts();
        return (counts.queued ?? 0) + (counts.processing ?? 0) === 0 ? counts : null;
      },
      'the outbox to be delivered',
      timeoutMs,
      100,
    );
  }

  /**
   * Outbox claims nobody is working on any more: rows still "processing"
   * that were claimed before `claimedBefore` (a wall-clock time), once
   * nothing is due and the set has not changed for `stableMs`. Those wait
   * for their lease to run out (LEASE_MS, 120 s).
   */
  async abandonedClaims(claimedBefore: number, stableMs = 2000): Promise<OutboxClaim[]> {
    const db = await this.db();
    let last = '';
    let since = performance.now();
    return waitFor(
      async () => {
        const rows = (await db
          .selectFrom('outbox')
          .select(['id', 'recipient', 'channel', 'template', 'status', 'locked_until', 'attempts'])
          .where((eb) =>
            eb.or([
              eb('status', '=', 'processing'),
              eb.and([eb('status', '=', 'queued'), eb('next_attempt_at', '<=', new Date())]),
            ]),
          )
          .orderBy('id')
          .execute()) as OutboxClaim[];
        const key = rows.map((row) => `${row.id}:${row.status}:${row.attempts}`).join(',');
        const settled = rows.every(
          (row) =>
            row.status === 'processing' &&
            (row.locked_until as Date).getTime() - LEASE_MS <= claimedBefore,
        );
        if (key !== last || !settled) {
          last = key;
          since = performance.now();
          return null;
        }
        return performance.now() - since >= stableMs ? rows : null;
      },
      'the instances to finish the deliveries they can',
      30_000,
      100,
    );
  }

  /**
   * The lease of these claims runs out now: what the passing of LEASE_MS
   * (120 s, not configurable) would do to them, without waiting for it.
   */
  async endLeases(claims: readonly OutboxClaim[]): Promise<void> {
    if (claims.length === 0) return;
    const db = await this.db();
    await db
      .updateTable('outbox')
      .set({ locked_until: new Date() })
      .where(
        'id',
        'in',
        claims.map((claim) => claim.id),
      )
      .where('status', '=', 'processing')
      .execute();
  }

  /** Everything the instances printed, for a failure message. */
  output(): string {
    return this.instances.map((instance) => instance.output()).join('\n');
  }

  /** Warnings and errors the instances logged (pino levels 40 and up). */
  problems(): { instance: string; level: number; msg: string; err?: unknown }[] {
    return this.instances.flatMap((instance) =>
      instance
        .logLines()
        .filter((line) => line.level >= 40)
        .map((line) => ({
          instance: instance.name,
          level: line.level,
          msg: line.msg,
          ...(line.err ? { err: (line.err as { message?: string }).message } : {}),
        })),
    );
  }

  /** Runs `end` first when the cluster stops. */
  beforeStop(end: () => Promise<void>): void {
    this.#beforeStop.add(end);
  }

  /** Stops everything, whatever state it is in. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.allSettled([...this.#beforeStop].map((end) => end()));
    await Promise.allSettled(this.instances.map((instance) => instance?.stop(5000)));
    await Promise.allSettled([
      this.nginx?.stop(),
      this.#db?.destroy(),
      this.smtp.stop(),
      this.sms.close(),
    ]);
    await this.pg.destroy();
    for (const dir of this.dataDirs) rmSync(dir, { recursive: true, force: true });
  }
}

/** Counts of each distinct value. */
export function tally(values: readonly (string | number)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/**
 * The local TCP ports of a process's connections to `remotePort` on this
 * machine (Linux /proc): which of the connections the SMTP server or the
 * SMS gateway sees belong to it.
 */
export function localPortsOf(pid: number, remotePort: number): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match?.[1]) inodes.add(match[1]);
    } catch {
      // Closed meanwhile.
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      const columns = line.trim().split(/\s+/);
      const local = columns[1]?.split(':')[1];
      const remote = columns[2]?.split(':')[1];
      if (!local || !remote || !columns[9] || !inodes.has(columns[9])) continue;
      if (Number.parseInt(remote, 16) === remotePort) ports.add(Number.parseInt(local, 16));
    }
  }
  return ports;
}

// --- Load ---------------------------------------------------------------------------

export interface LoadPlan {
  /** Members who log in, again and again. */
  loginMembers: readonly OpsMember[];
  /** Members who each ask once for an emailed link, in order. */
  emailMembers?: readonly OpsMember[];
  /** Members who each ask once for an SMS code, in order. */
  smsMembers?: readonly OpsMember[];
  /** Use each emailed link that arrives to set a new password. */
  setPasswords?: boolean;
  /** Clients sending at once (default 6). */
  workers?: number;
  /** Each client's pause between its requests (default 20 ms): a steady stream, not a flood. */
  pauseMs?: number;
}

/** A new password the manual policy takes: 9 letters and digits, never a common one. */
function newPassword(n: number): string {
  const letters = 'abcdefghjkmnpqrstuvwxyz';
  let word = 'q';
  for (let i = 0; i < 6; i += 1) word += letters[Math.floor(Math.random() * letters.length)];
  return `${word}${String(n % 100).padStart(2, '0')}`;
}

/**
 * A steady stream of logins, password requests (email and SMS) and
 * set-password requests with the emailed links, through nginx, from a few
 * concurrent clients; every outcome is kept by the cluster's client.
 */
export class Load {
  #stopping = false;
  #workers: Promise<void>[] = [];
  #nextEmail = 0;
  #nextSms = 0;
  readonly #usedLinks = new Set<string>();
  #count = 0;

  constructor(
    private readonly cluster: Cluster,
    private readonly plan: LoadPlan,
  ) {
    cluster.beforeStop(() => this.stop());
  }

  /** Requests sent so far. */
  get sent(): number {
    return this.#count;
  }

  start(): void {
    const workers = this.plan.workers ?? 6;
    for (let n = 0; n < workers; n += 1) this.#workers.push(this.#worker(n));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#workers);
  }

  async #worker(n: number): Promise<void> {
    const pause = this.plan.pauseMs ?? 20;
    for (let i = n; !this.#stopping; i += 1) {
      this.#count += 1;
      await this.#step(i);
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  #step(i: number): Promise<Outcome> {
    const client = this.cluster.http;
    const { loginMembers, emailMembers = [], smsMembers = [] } = this.plan;
    const kind = i % 4;
    if (kind === 1 && this.#nextEmail < emailMembers.length) {
      const member = emailMembers[this.#nextEmail++] as OpsMember;
      return client.passwordRequest(member, 'email');
    }
    if (kind === 3 && this.plan.setPasswords) {
      const link = this.#unusedLink();
      if (link) return client.setPassword(link.token, newPassword(i), link.document);
    }
    if (kind === 3 && this.#nextSms < smsMembers.length) {
      const member = smsMembers[this.#nextSms++] as OpsMember;
      return client.passwordRequest(member, 'sms');
    }
    const member = loginMembers[i % loginMembers.length] as OpsMember;
    return client.login(member.document);
  }

  /** An emailed link not used yet, and whose member it is. */
  #unusedLink(): { token: string; document: string } | null {
    const emailMembers = this.plan.emailMembers ?? [];
    for (const mail of this.cluster.smtp.messages) {
      if (mail.parsed.subject !== PASSWORD_REQUEST_SUBJECT) continue;
      const token = /[?&]token=([\w-]+)/.exec(mail.parsed.text ?? '')?.[1];
      if (!token || this.#usedLinks.has(token)) continue;
      const member = emailMembers.find((m) => mail.envelope.to.includes(m.email as string));
      if (!member) continue;
      this.#usedLinks.add(token);
      return { token, document: member.document };
    }
    return null;
  }
}

// --- Readiness probes ------------------------------------------------------------------

export interface Probe {
  instance: string;
  /** performance.now() when it was asked, and when it was answered. */
  at: number;
  done: number;
  /** The answer's status, or 0 when nothing answered. */
  status: number;
}

/** Asks each instance's /readyz directly (not through nginx) every `everyMs`, keeping the answers. */
export class ReadinessProber {
  readonly probes: Probe[] = [];
  #running = true;
  readonly #loops: Promise<void>[];

  constructor(cluster: Cluster, everyMs = 50) {
    this.#loops = cluster.instances.map(async (instance) => {
      while (this.#running) {
        const at = performance.now();
        const status = await instance.readyz();
        this.probes.push({ instance: instance.name, at, done: performance.now(), status });
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
    });
    cluster.beforeStop(() => this.stop());
  }

  /** The first answer of `instance` after `since` that satisfies `test`. */
  first(instance: string, since: number, test: (status: number) => boolean): Probe | undefined {
    return this.probes.find((p) => p.instance === instance && p.at > since && test(p.status));
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }
}
