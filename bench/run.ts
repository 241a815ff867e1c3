// `npm run bench [-- --quick]`: measures, in one run on this machine, the
// login and the password request against the bare argon2id hash and
// against Better Auth (bench/peers/better-auth), the login's p99 with
// 10 000 and with 1 000 000 members, the import of a million-row registry,
// and the server's peak memory on PostgreSQL and on the embedded PGlite.
// Prints a table, writes bench/results/<date>.json, and ends with one line
// `BENCH {json}`. See bench/README.md for each scenario and docs/decisions/019.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hash } from '@node-rs/argon2';
import { sql } from 'kysely';
import { DEFAULT_HASH_PARAMETERS } from '../src/auth/passwords.ts';
import { connectDatabase } from '../src/db/connect.ts';
import { type HashOnlyResult, poolSize, runHashOnly } from './lib/hash-only.ts';
import { type LoadResult, postJson, runLoad } from './lib/load.ts';
import { startPostgres, type ThrowawayPostgres } from './lib/postgres.ts';
import type { RunningServer } from './lib/server.ts';
import { baseEnv, PEER, ROOT, startOurs, startPeer } from './lib/servers.ts';
import { SmtpSink } from './lib/smtp-sink.ts';
import { benchMember, writeRegistryCsv } from './registry.ts';

const QUICK = process.argv.includes('--quick');

/** How long and how hard each scenario runs; --quick only proves that every one works. */
const PLAN = QUICK
  ? {
      loginMembers: 40,
      registry: 2_000,
      bigRegistry: 20_000,
      seconds: 2,
      warmup: 1,
      scaleSeconds: 2,
    }
  : {
      loginMembers: 1_000,
      registry: 10_000,
      bigRegistry: 1_000_000,
      seconds: 10,
      warmup: 3,
      scaleSeconds: 30,
    };
/** Enough connections to keep every hashing thread busy while others wait on the database. */
const CONNECTIONS = 16;
/** The fixed, moderate load of the scale scenario: this share of the measured login rate. */
const SCALE_LOAD_SHARE = 0.5;
/** How many times each registry size is measured in the scale scenario (alternating). */
const SCALE_ROUNDS = 2;
/** How long the after-the-answer work of a request run may take to drain before it counts as lost. */
const DRAIN_TIMEOUT_MS = 120_000;

interface Credential {
  document: string;
  email: string;
  password: string;
  hash: string;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const startedAt = performance.now();
  const work = mkdtempSync(join(tmpdir(), 'autogestion-bench-'));
  const sink = await SmtpSink.start();
  let pg: ThrowawayPostgres | undefined;
  try {
    ensurePeerInstalled();
    log('starting a throwaway PostgreSQL');
    pg = await startPostgres();
    pg.createDatabase('autogestion');
    pg.createDatabase('better_auth');
    const ourUrl = pg.urlOf('autogestion');

    log(`hashing ${PLAN.loginMembers} passwords (argon2id, the product's parameters)`);
    const credentials = await makeCredentials(PLAN.loginMembers);

    // The registry: CSV files the way an operator gets them, imported with the operator's command.
    const smallCsv = join(work, 'registry-small.csv');
    const bigCsv = join(work, 'registry-big.csv');
    await writeRegistryCsv(smallCsv, PLAN.registry);
    await writeRegistryCsv(bigCsv, PLAN.bigRegistry);
    importRegistry(smallCsv, { DATABASE_URL: ourUrl });
    await setPasswords({ kind: 'postgres', url: ourUrl }, credentials);

    log('hash-only');
    const hashOnly = await runHashOnly(credentials, PLAN.seconds);

    log('login on PostgreSQL');
    let server = await startOurs({
      DATABASE_URL: ourUrl,
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    });
    const login = await measureLogin(server, credentials);
    const loginMemory = server.memory().peakMb;

    log('Better Auth sign-in');
    // Imported once the peer's own packages are installed (ensurePeerInstalled).
    const { seedUsers } = await import('./peers/better-auth/seed.mjs');
    const peer = await startPeer(pg.urlOf('better_auth'), sink.port);
    await seedUsers(
      pg.urlOf('better_auth'),
      Array.from({ length: PLAN.registry }, (_, i) => ({
        email: benchMember(i).email,
        name: `${benchMember(i).firstName} ${benchMember(i).lastName}`,
        passwordHash: credentials[i % credentials.length]?.hash as string,
      })),
    );
    const peerLogin = await measurePeerLogin(peer, credentials);
    const peerMemory = peer.memory().peakMb;

    log('password request (ours), until its mail is delivered');
    const request = await measureRequests(server, sink, (i) =>
      postJson('/api/v1/password-requests', {
        document: benchMember(i % PLAN.registry).document,
        channel: 'email',
      }),
    );
    log('password reset request (Better Auth), until its mail is delivered');
    const peerReset = await measureRequests(peer, sink, (i) =>
      postJson(
        '/api/auth/request-password-reset',
        { email: benchMember(i % PLAN.registry).email, redirectTo: '/reset' },
        { origin: peer.url },
      ),
    );
    await peer.stop();
    await server.stop();

    // The scale scenario: two registries that differ only in size, each
    // with the same login members and passwords: 10 000 members, and the
    // same grown to a million by the operator's import (timed). The same
    // fixed load on a freshly started server, statistics up to date (as
    // autovacuum would have them), alternating small and big SCALE_ROUNDS
    // times so that the machine's drift falls on both alike.
    const bigUrl = pg.urlOf('autogestion_big');
    pg.createDatabase('autogestion_big');
    importRegistry(smallCsv, { DATABASE_URL: bigUrl });
    await setPasswords({ kind: 'postgres', url: bigUrl }, credentials);
    log(`import of ${PLAN.bigRegistry} members`);
    const importStarted = performance.now();
    const imported = importRegistry(bigCsv, { DATABASE_URL: bigUrl });
    const importSeconds = (performance.now() - importStarted) / 1000;
    await analyze(ourUrl);
    await analyze(bigUrl);
    const scaleRate = Math.max(2, Math.round(login.rps * SCALE_LOAD_SHARE));
    const p99Small: LoadResult[] = [];
    const p99Big: LoadResult[] = [];
    for (let round = 0; round < SCALE_ROUNDS; round += 1) {
      for (const [label, url, runs] of [
        [PLAN.registry, ourUrl, p99Small],
        [PLAN.bigRegistry, bigUrl, p99Big],
      ] as const) {
        log(`login p99 at ${scaleRate}/s with ${label} members (round ${round + 1})`);
        server = await startOurs({ DATABASE_URL: url });
        runs.push(await measureFixedLoad(server, credentials, scaleRate));
        await server.stop();
      }
    }

    log('login on the embedded PGlite');
    const dataDir = join(work, 'pglite');
    importRegistry(smallCsv, { DATA_DIR: dataDir });
    await setPasswords({ kind: 'pglite', dir: dataDir }, credentials);
    const pglite = await startOurs({ DATA_DIR: dataDir });
    const pgliteLogin = await measureLogin(pglite, credentials);
    const pgliteMemory = pglite.memory().peakMb;
    await pglite.stop();

    const result = summarize({
      hashOnly,
      login,
      loginMemory,
      peerLogin,
      request,
      peerReset,
      peerMemory,
      p99Small,
      p99Big,
      scaleRate,
      importSeconds,
      imported,
      pgliteLogin,
      pgliteMemory,
      minutes: (performance.now() - startedAt) / 60_000,
    });
    report(result);
  } finally {
    await sink.stop();
    pg?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** The peer's own node_modules, installed from its lockfile when missing. */
function ensurePeerInstalled(): void {
  if (existsSync(join(PEER, 'node_modules', 'better-auth'))) return;
  log('installing the Better Auth peer (npm ci in bench/peers/better-auth)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: PEER, stdio: 'inherit' });
}

/** Members 0…count-1 of the registry with a password each (distinct passwords, distinct salts). */
async function makeCredentials(count: number): Promise<Credential[]> {
  const credentials: Credential[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const member = benchMember(i);
      const password = `Clave-${i}-bench`;
      credentials[i] = {
        document: member.document,
        email: member.email,
        password,
        hash: await hash(password, { algorithm: 2, ...DEFAULT_HASH_PARAMETERS }),
      };
    }
  };
  await Promise.all(Array.from({ length: poolSize() }, worker));
  return credentials;
}

/** `npm run members:import` as an operator runs it; the counts line it prints. */
function importRegistry(csv: string, env: Record<string, string>): string {
  const output = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src', 'cli', 'members-import.ts'), csv],
    { cwd: ROOT, env: { ...baseEnv(), ...env }, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const counts = ['inserted', 'updated', 'unchanged', 'rejected'].map((label) => {
    const match = new RegExp(`${label}:\\s+([\\d,.\u00a0 ]+)`).exec(output);
    return `${label} ${(match?.[1] ?? '?').trim()}`;
  });
  return counts.join(', ');
}

/**
 * VACUUM ANALYZE, so both scale runs read the tables with fresh statistics,
 * then a CHECKPOINT, so the writes an import left behind are not flushed
 * during a measurement (a steady state, as a registry imported the night
 * before would be).
 */
async function analyze(url: string): Promise<void> {
  const db = await connectDatabase({ kind: 'postgres', url });
  try {
    await sql`vacuum analyze`.execute(db);
    await sql`checkpoint`.execute(db);
  } finally {
    await db.destroy();
  }
}

/** Gives the login members their passwords (the registry import brings none). */
async function setPasswords(
  target: { kind: 'postgres'; url: string } | { kind: 'pglite'; dir: string },
  credentials: Credential[],
): Promise<void> {
  const db = await connectDatabase(target);
  try {
    await sql`update members set password_hash = t.h, password_changed_at = now()
      from unnest(${credentials.map((c) => c.document)}::text[], ${credentials.map((c) => c.hash)}::text[]) as t(d, h)
      where members.document = t.d`.execute(db);
  } finally {
    await db.destroy();
  }
}

function roundRobin<T>(items: readonly T[]): () => T {
  let next = 0;
  return () => items[next++ % items.length] as T;
}

/** Saturating load after a warm-up; the peak memory is the run's own (the start's is forgotten). */
async function measureLogin(server: RunningServer, credentials: Credential[]): Promise<LoadResult> {
  const member = roundRobin(credentials);
  const next = () => {
    const { document, password } = member();
    return postJson('/api/v1/login', { document, password });
  };
  await runLoad({ url: server.url, connections: CONNECTIONS, seconds: PLAN.warmup, next });
  server.resetPeak();
  return runLoad({ url: server.url, connections: CONNECTIONS, seconds: PLAN.seconds, next });
}

async function measurePeerLogin(
  server: RunningServer,
  credentials: Credential[],
): Promise<LoadResult> {
  const member = roundRobin(credentials);
  const next = () => {
    const { email, password } = member();
    return postJson('/api/auth/sign-in/email', { email, password }, { origin: server.url });
  };
  await runLoad({ url: server.url, connections: CONNECTIONS, seconds: PLAN.warmup, next });
  server.resetPeak();
  return runLoad({ url: server.url, connections: CONNECTIONS, seconds: PLAN.seconds, next });
}

async function measureFixedLoad(
  server: RunningServer,
  credentials: Credential[],
  rate: number,
): Promise<LoadResult> {
  const member = roundRobin(credentials);
  const next = () => {
    const { document, password } = member();
    return postJson('/api/v1/login', { document, password });
  };
  await runLoad({ url: server.url, connections: 8, seconds: PLAN.warmup, next, rate });
  return runLoad({ url: server.url, connections: 8, seconds: PLAN.scaleSeconds, next, rate });
}

export interface RequestRun extends LoadResult {
  /** Messages not yet delivered when the load stopped. */
  backlog: number;
  /** Seconds from the end of the load until the last message was delivered. */
  drainSeconds: number;
  /** Requests per second counted until the last message was delivered. */
  deliveredRps: number;
}

/**
 * A request run counts until its work is done: the answer comes before the
 * member-specific work (ours) or before the mail is sent (the peer's, not
 * awaited), so the rate is the requests answered divided by the time until
 * the SMTP sink has received every message they asked for.
 */
async function measureRequests(
  server: RunningServer,
  sink: SmtpSink,
  request: (i: number) => ReturnType<typeof postJson>,
): Promise<RequestRun> {
  let i = 0;
  const next = () => request(i++);
  await runLoad({ url: server.url, connections: CONNECTIONS, seconds: PLAN.warmup, next });
  // The warm-up's mail drains before the measured run starts.
  await waitForQuiet(sink);
  const before = sink.received;
  const startedAt = performance.now();
  const load = await runLoad({
    url: server.url,
    connections: CONNECTIONS,
    seconds: PLAN.seconds,
    next,
  });
  const loadEnded = performance.now();
  const answered = load.requests - load.errors;
  const backlog = Math.max(0, answered - (sink.received - before));
  const drained = await sink.waitFor(before + answered, DRAIN_TIMEOUT_MS);
  const doneAt = performance.now();
  const lost = drained ? 0 : before + answered - sink.received;
  return {
    ...load,
    errors: load.errors + lost,
    backlog,
    drainSeconds: (doneAt - loadEnded) / 1000,
    deliveredRps: answered / ((doneAt - startedAt) / 1000),
  };
}

/** Waits until the sink stops receiving (every mail of the warm-up arrived). */
async function waitForQuiet(sink: SmtpSink): Promise<void> {
  let last = -1;
  while (sink.received !== last) {
    last = sink.received;
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
}

interface Measured {
  hashOnly: HashOnlyResult;
  login: LoadResult;
  loginMemory: number;
  peerLogin: LoadResult;
  request: RequestRun;
  peerReset: RequestRun;
  peerMemory: number;
  p99Small: LoadResult[];
  p99Big: LoadResult[];
  scaleRate: number;
  importSeconds: number;
  imported: string;
  pgliteLogin: LoadResult;
  pgliteMemory: number;
  minutes: number;
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));
const meanP99 = (runs: LoadResult[]) => runs.reduce((sum, run) => sum + run.p99, 0) / runs.length;

function summarize(m: Measured) {
  const bench = {
    hash_only_rps: round(m.hashOnly.rps, 1),
    login_rps: round(m.login.rps, 1),
    login_vs_hash: round(m.login.rps / m.hashOnly.rps),
    better_auth_login_rps: round(m.peerLogin.rps, 1),
    login_vs_better_auth: round(m.login.rps / m.peerLogin.rps),
    request_rps: round(m.request.deliveredRps, 1),
    better_auth_reset_rps: round(m.peerReset.deliveredRps, 1),
    request_vs_better_auth: round(m.request.deliveredRps / m.peerReset.deliveredRps),
    login_p99_ms_10k: round(meanP99(m.p99Small), 0),
    login_p99_ms_1m: round(meanP99(m.p99Big), 0),
    p99_1m_vs_10k: round(meanP99(m.p99Big) / meanP99(m.p99Small)),
    import_1m_s: round(m.importSeconds, 1),
    rss_mb: round(m.loginMemory, 0),
    rss_pglite_mb: round(m.pgliteMemory, 0),
  };
  return { bench, details: m };
}

function report({ bench, details: m }: ReturnType<typeof summarize>): void {
  const rows: [string, string][] = [
    ['hash-only (argon2id verify)', `${bench.hash_only_rps}/s, ${m.hashOnly.inFlight} in flight`],
    ['login, PostgreSQL', describeLoad(m.login)],
    ['  vs hash-only', `${bench.login_vs_hash} (target ≥ 0.90)`],
    ['login, PGlite', describeLoad(m.pgliteLogin)],
    ['Better Auth sign-in', describeLoad(m.peerLogin)],
    ['  ours vs Better Auth', `${bench.login_vs_better_auth} (target ≥ 1.2)`],
    ['password request (ours)', describeRequests(m.request)],
    ['Better Auth reset request', describeRequests(m.peerReset)],
    ['  ours vs Better Auth', `${bench.request_vs_better_auth} (target ≥ 1.5)`],
    [
      `login p99 at ${m.scaleRate}/s, ${PLAN.registry} members`,
      `${bench.login_p99_ms_10k} ms (mean of ${m.p99Small.map((run) => run.p99).join(', ')})`,
    ],
    [
      `login p99 at ${m.scaleRate}/s, ${PLAN.bigRegistry} members`,
      `${bench.login_p99_ms_1m} ms (mean of ${m.p99Big.map((run) => run.p99).join(', ')})`,
    ],
    ['  ratio', `${bench.p99_1m_vs_10k} (target ≤ 1.1)`],
    [`import of ${PLAN.bigRegistry} rows`, `${bench.import_1m_s} s (target ≤ 30): ${m.imported}`],
    ['peak RSS, PostgreSQL', `${bench.rss_mb} MB (target ≤ 200)`],
    ['peak RSS, PGlite', `${bench.rss_pglite_mb} MB (target ≤ 300)`],
    ['peak RSS, Better Auth', `${round(m.peerMemory, 0)} MB`],
    ['whole run', `${round(m.minutes, 1)} min${QUICK ? ' (--quick: figures mean nothing)' : ''}`],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  process.stdout.write(
    `\n${rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n')}\n\n`,
  );
  const folder = join(ROOT, 'bench', 'results');
  mkdirSync(folder, { recursive: true });
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  const file = join(folder, `${stamp}${QUICK ? '-quick' : ''}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), quick: QUICK, plan: PLAN, bench, details: m }, null, 2)}\n`,
  );
  process.stdout.write(`results: ${file}\n`);
  process.stdout.write(`BENCH ${JSON.stringify(bench)}\n`);
  const runs = [
    m.login,
    m.peerLogin,
    m.request,
    m.peerReset,
    ...m.p99Small,
    ...m.p99Big,
    m.pgliteLogin,
  ];
  const errors = runs.reduce((sum, run) => sum + run.errors, 0);
  if (errors > 0) {
    process.stderr.write(`${errors} requests failed: the run does not count (target: 0 errors)\n`);
    process.exitCode = 1;
  }
}

function describeLoad(run: LoadResult): string {
  return `${round(run.rps, 1)} req/s, p50 ${run.p50} ms, p99 ${run.p99} ms, ${run.errors} errors (${run.requests} requests)`;
}

function describeRequests(run: RequestRun): string {
  return `${round(run.deliveredRps, 1)} req/s delivered (answered ${round(run.rps, 1)}/s, backlog ${run.backlog} at stop, drained in ${round(run.drainSeconds, 1)} s), p99 ${run.p99} ms, ${run.errors} errors`;
}

main().catch((error) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
