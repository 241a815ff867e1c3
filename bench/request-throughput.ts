// The password-request scenario of `npm run bench` alone, for working on its
// throughput: ours and Better Auth's reset request, each until the SMTP sink
// has received every mail, in one run (compare the ratio, not the rates:
// the machine is shared).
//
//   node --import tsx bench/request-throughput.ts [--seconds N] [--warmup N]
//        [--rounds N] [--members N] [--cpu-prof DIR] [--statements] [--no-peer]
//        [--pg NAME=VALUE]... [--env NAME=VALUE]... [--smtp-query QUERY]
//
// --cpu-prof DIR   profiles our server child (node --cpu-prof into DIR)
// --statements     counts the SQL statements our server ran per request
//                  (log_statement=all, then the log's lines counted)
// --pg             a PostgreSQL setting for the run (e.g. log_min_duration_statement=20);
//                  the server log is kept in /tmp/reqbench-pg.log
// --env            more of our server's environment
// --smtp-query     appended to our SMTP_URL (e.g. maxConnections=5)
// Each line also gives the CPU milliseconds per request of the server
// process and of all PostgreSQL processes (from /proc), less noisy than the rates.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { hash } from '@node-rs/argon2';
import { DEFAULT_HASH_PARAMETERS } from '../src/auth/passwords.ts';
import { connectDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import { postJson, runLoad } from './lib/load.ts';
import { startPostgres } from './lib/postgres.ts';
import type { RunningServer } from './lib/server.ts';
import { startOurs, startPeer } from './lib/servers.ts';
import { SmtpSink } from './lib/smtp-sink.ts';
import { seedUsers } from './peers/better-auth/seed.mjs';
import { benchMember } from './registry.ts';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
}
const SECONDS = Number(option('seconds', '10'));
const WARMUP = Number(option('warmup', '3'));
const ROUNDS = Number(option('rounds', '1'));
const MEMBERS = Number(option('members', '10000'));
const CPU_PROF = process.argv.includes('--cpu-prof') ? option('cpu-prof', '') : '';
const STATEMENTS = process.argv.includes('--statements');
const PEER_TOO = !process.argv.includes('--no-peer');
const CONNECTIONS = 16;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** --env NAME=value (repeatable): more of our server's environment. */
function extraEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (
    let at = process.argv.indexOf('--env');
    at >= 0;
    at = process.argv.indexOf('--env', at + 1)
  ) {
    const [name = '', ...value] = (process.argv[at + 1] ?? '').split('=');
    env[name] = value.join('=');
  }
  return env;
}

/** Our server as bench/run.ts starts it, with --env additions, optionally profiled. */
function startProfiled(env: Record<string, string>): Promise<RunningServer> {
  const profile = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [];
  return startOurs({ LOG_LEVEL: 'warn', ...env, ...extraEnv() }, profile);
}

async function measure(
  server: RunningServer,
  sink: SmtpSink,
  request: (i: number) => ReturnType<typeof postJson>,
  start: number,
) {
  let i = start;
  const next = () => request(i++);
  await runLoad({ url: server.url, connections: CONNECTIONS, seconds: WARMUP, next });
  let last = -1;
  while (sink.received !== last) {
    last = sink.received;
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
  const before = sink.received;
  const cpuBefore = cpuSeconds(server);
  const startedAt = performance.now();
  const load = await runLoad({ url: server.url, connections: CONNECTIONS, seconds: SECONDS, next });
  const loadEnded = performance.now();
  const answered = load.requests - load.errors;
  const backlog = Math.max(0, answered - (sink.received - before));
  const drained = await sink.waitFor(before + answered, 120_000);
  const doneAt = performance.now();
  const cpuAfter = cpuSeconds(server);
  return {
    cpuMsPerRequest: {
      server: ((cpuAfter.server - cpuBefore.server) * 1000) / answered,
      postgres: ((cpuAfter.postgres - cpuBefore.postgres) * 1000) / answered,
    },
    delivered: answered / ((doneAt - startedAt) / 1000),
    answered: load.rps,
    p99: load.p99,
    errors: load.errors,
    backlog,
    drain: (doneAt - loadEnded) / 1000,
    drained,
    requests: answered,
    next: i,
  };
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'autogestion-reqbench-'));
  const sink = await SmtpSink.start();
  const pg = await startPostgres();
  try {
    pg.createDatabase('autogestion');
    pg.createDatabase('better_auth');
    await seedMembers(pg.urlOf('autogestion'));
    const psql = (sqlText: string) =>
      execFileSync('psql', [pg.urlOf('autogestion'), '-At', '-c', sqlText], {
        encoding: 'utf8',
      }).trim();

    const ours = await startProfiled({
      DATABASE_URL: pg.urlOf('autogestion'),
      SMTP_URL: `smtp://127.0.0.1:${sink.port}${option('smtp-query', '') ? `?${option('smtp-query', '')}` : ''}`,
    });
    let peer: RunningServer | undefined;
    if (PEER_TOO) {
      peer = await startPeer(pg.urlOf('better_auth'), sink.port);
      const passwordHash = await hash('Clave-bench', { algorithm: 2, ...DEFAULT_HASH_PARAMETERS });
      await seedUsers(
        pg.urlOf('better_auth'),
        Array.from({ length: MEMBERS }, (_, i) => ({
          email: benchMember(i).email,
          name: `${benchMember(i).firstName} ${benchMember(i).lastName}`,
          passwordHash,
        })),
      );
    }

    // --pg name=value (repeatable): a server setting for the whole run, e.g. log_min_duration_statement=5
    for (
      let at = process.argv.indexOf('--pg');
      at >= 0;
      at = process.argv.indexOf('--pg', at + 1)
    ) {
      const [name, value] = (process.argv[at + 1] ?? '').split('=');
      psql(`alter system set ${name} = '${value}'`);
      psql('select pg_reload_conf()');
    }
    let oursNext = 0;
    let peerNext = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      let logFrom = 0;
      if (STATEMENTS) {
        psql(`alter system set log_statement = 'all'`);
        psql('select pg_reload_conf()');
        logFrom = logSize(pg);
      }
      const a = await measure(
        ours,
        sink,
        (i) =>
          postJson('/api/v1/password-requests', {
            document: benchMember(i % MEMBERS).document,
            channel: 'email',
          }),
        oursNext,
      );
      oursNext = a.next;
      if (STATEMENTS) {
        psql(`alter system set log_statement = 'none'`);
        psql('select pg_reload_conf()');
        const statements = countStatements(pg, logFrom);
        const total = a.next; // warm-up and measured requests alike
        log(`statements: ${statements.total} for ${total} requests since the round began`);
        for (const [kind, n] of statements.byKind)
          log(`  ${(n / total).toFixed(2)} per request  ${kind}`);
      }
      let line = `round ${round}: ours ${a.delivered.toFixed(1)} req/s delivered (answered ${a.answered.toFixed(1)}/s, backlog ${a.backlog}, drain ${a.drain.toFixed(1)} s, p99 ${a.p99} ms, errors ${a.errors}${a.drained ? '' : ', NOT DRAINED'}; cpu ms/req node ${a.cpuMsPerRequest.server.toFixed(2)} pg ${a.cpuMsPerRequest.postgres.toFixed(2)})`;
      if (peer) {
        const b = await measure(
          peer,
          sink,
          (i) =>
            postJson(
              '/api/auth/request-password-reset',
              { email: benchMember(i % MEMBERS).email, redirectTo: '/reset' },
              { origin: peer.url },
            ),
          peerNext,
        );
        peerNext = b.next;
        line += `; peer ${b.delivered.toFixed(1)} (answered ${b.answered.toFixed(1)}/s, drain ${b.drain.toFixed(1)} s; cpu ms/req node ${b.cpuMsPerRequest.server.toFixed(2)} pg ${b.cpuMsPerRequest.postgres.toFixed(2)}); ratio ${(a.delivered / b.delivered).toFixed(2)}`;
      }
      process.stdout.write(`${line}\n`);
    }
    await peer?.stop();
    await ours.stop();
    if (ours.output().trim()) log(`server output (tail):\n${ours.output().slice(-3000)}`);
  } finally {
    await sink.stop();
    try {
      copyFileSync(logPath(pg), '/tmp/reqbench-pg.log');
    } catch {
      // no log to keep
    }
    pg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The registry's first MEMBERS members, straight into the table (not through
 * the import command: this script measures requests only).
 */
async function seedMembers(url: string): Promise<void> {
  const db = await connectDatabase({ kind: 'postgres', url });
  try {
    await migrateToLatest(db);
    for (let start = 0; start < MEMBERS; start += 5000) {
      const rows = Array.from({ length: Math.min(5000, MEMBERS - start) }, (_, k) => {
        const m = benchMember(start + k);
        return {
          document: m.document,
          member_number: m.memberNumber,
          first_name: m.firstName,
          last_name: m.lastName,
          email: m.email,
          mobile: m.mobile,
          status: 'active' as const,
          password_hash: null,
          password_changed_at: null,
        };
      });
      await db.insertInto('members').values(rows).execute();
    }
  } finally {
    await db.destroy();
  }
}

/** A process's CPU seconds and name from /proc; null when it is gone. */
function processCpu(pid: string): { comm: string; cpu: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    return { comm, cpu: (Number(fields[11]) + Number(fields[12])) / 100 };
  } catch {
    return null;
  }
}

/**
 * The postgres processes' CPU seconds, sampled every 200 ms so that a
 * backend that exits (a pool's idle connection) keeps what it used.
 */
const postgresCpu = new Map<string, number>();
function samplePostgres(): void {
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const found = processCpu(pid);
    if (found?.comm === 'postgres') postgresCpu.set(pid, found.cpu);
  }
}
setInterval(samplePostgres, 200).unref();

/** CPU seconds used so far by the server process and by every postgres process. */
function cpuSeconds(server: RunningServer): { server: number; postgres: number } {
  samplePostgres();
  let postgres = 0;
  for (const cpu of postgresCpu.values()) postgres += cpu;
  return { server: processCpu(String(server.child.pid))?.cpu ?? 0, postgres };
}

/** The server log's length now (log_statement lines are appended to it). */
function logSize(pg: { url: string }): number {
  return readFileSync(logPath(pg), 'utf8').length;
}

function logPath(pg: { url: string }): string {
  // bench/lib/postgres.ts keeps its log next to the data folder, named `log`.
  const dir = execFileSync('psql', [pg.url, '-At', '-c', 'show data_directory'], {
    encoding: 'utf8',
  }).trim();
  return join(dirname(dir), 'log');
}

/** Statements logged since `from`, grouped by their first words. */
function countStatements(pg: { url: string }, from: number) {
  const text = readFileSync(logPath(pg), 'utf8').slice(from);
  const byKind = new Map<string, number>();
  let total = 0;
  for (const match of text.matchAll(/LOG:\s+(?:statement|execute [^:]*):\s+(.*)/g)) {
    const sqlText = (match[1] ?? '').replace(/\s+/g, ' ');
    if (/^(alter system|select pg_reload_conf|show )/i.test(sqlText)) continue;
    const kind = sqlText.slice(0, 90);
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    total++;
  }
  return { total, byKind: [...byKind].sort((x, y) => y[1] - x[1]).slice(0, 25) };
}

main().catch((error) => {
  process.stderr.write(
    `failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
