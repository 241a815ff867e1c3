// Attack suite, as deployed: two real server processes (`node --import tsx
// src/server.ts`, as an operator starts them) on one PostgreSQL database,
// driven over real HTTP with fetch. Whatever one process counts, spends or
// ends must hold on the other: the login wait, a used CAPTCHA, an SMS code,
// a set-password token, a session. PGlite is one process per data folder,
// so this file runs only with TEST_DATABASE_URL.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { solveChallenge } from 'altcha-lib';
import { deriveKey as pbkdf2 } from 'altcha-lib/algorithms/pbkdf2';
import { createMember, createTestDatabase, type TestDatabase } from '../helper.ts';
import { codeIn, SmsGatewayStub } from '../support/sms-gateway.ts';
import { SmtpStub } from '../support/smtp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SKIP = process.env.TEST_DATABASE_URL
  ? false
  : 'needs TEST_DATABASE_URL: two processes share one PostgreSQL';
const APP_SECRET = 'two-processes-secret-two-processes-secret-0123';

/** One running `node --import tsx src/server.ts`. */
interface ServerProcess {
  name: string;
  /** http://127.0.0.1:PORT, as the process printed it. */
  url: string;
  child: ChildProcess;
  /** Its stdout and stderr so far, labelled, for failure messages. */
  output: () => string;
  stderr: () => string;
  exited: Promise<void>;
}

const running = new Set<ChildProcess>();
// Last resort if the test process ends without its `after` (no orphan servers).
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

async function startServer(
  name: string,
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    // Only what the operator sets: nothing of the test runner's environment
    // (NODE_TEST_CONTEXT, LOG_LEVEL, a developer's limits) leaks in.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? tmpdir(),
      TMPDIR: tmpdir(),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });
  const output = () => `--- ${name} stdout ---\n${stdout}\n--- ${name} stderr ---\n${stderr}`;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not print its address within ${timeoutMs} ms\n${output()}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening\n${output()}`));
    });
  });
  return { name, url, child, output, stderr: () => stderr, exited };
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. Returns whether it exited by itself. */
async function stopServer(server: ServerProcess, graceMs = 10_000): Promise<boolean> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return true;
  server.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const clean = await Promise.race([
    server.exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (!clean) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
  return clean;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API.
  body: any;
}

describe('two server processes on one PostgreSQL, over HTTP', { skip: SKIP }, () => {
  let database: TestDatabase;
  let sms: SmsGatewayStub;
  let smtp: SmtpStub;
  let a: ServerProcess;
  let b: ServerProcess;
  /** Every process that started, stopped in `after` even when the other one failed to. */
  const servers: ServerProcess[] = [];
  const dataDirs: string[] = [];

  before(async () => {
    [database, sms, smtp] = await Promise.all([
      createTestDatabase(),
      SmsGatewayStub.start(),
      SmtpStub.start(),
    ]);
    const env = (name: string) => {
      const dataDir = mkdtempSync(join(tmpdir(), `autogestion-${name}-`));
      dataDirs.push(dataDir);
      return {
        // Production settings, as an operator runs it (plain HTTP behind a
        // TLS proxy is what PUBLIC_URL=https://… with a local port means).
        NODE_ENV: 'production',
        PORT: '0',
        HOST: '127.0.0.1',
        PUBLIC_URL: 'https://portal.example.test',
        DATABASE_URL: database.url as string,
        DATA_DIR: dataDir,
        // One secret for both: the throttle keys are keyed hashes of the document.
        APP_SECRET,
        CAPTCHA_PROVIDER: 'altcha',
        // The lowest cost the configuration takes: the test solves ~65 challenges.
        ALTCHA_COST: '1',
        SMTP_URL: smtp.url,
        SMS_WEBHOOK_URL: sms.url,
        LOG_LEVEL: 'warn',
        // Every request comes from 127.0.0.1, and a wrong code spends the
        // address's password-request budget (30/1h by default): the 49
        // losers of the code race alone would use it up. Raised here; the
        // per-address limits have their own tests (password-requests.test.ts).
        PASSWORD_REQUESTS_PER_ADDRESS: '1000/1h',
        SMS_CODE_FAILURES_PER_ADDRESS: '1000/1h',
      };
    };
    // Both at once: each migrates under the Migrator's lock.
    const started = await Promise.allSettled([
      startServer('A', env('a')),
      startServer('B', env('b')),
    ]);
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    [a, b] = servers as [ServerProcess, ServerProcess];
  });

  after(async () => {
    const stopped = await Promise.all(servers.map((server) => stopServer(server)));
    for (const server of servers) {
      // Warnings and errors of the servers (LOG_LEVEL=warn), shown when there are any.
      if (/\S/.test(server.stderr())) console.log(server.output());
    }
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
    await Promise.all([database?.close(), sms?.close(), smtp?.stop()]);
    assert.ok(
      stopped.every(Boolean),
      'every server stops by itself on SIGTERM (SIGKILL was needed)',
    );
  });

  /** A JSON request to one process; fails the test on a 5xx, with the servers' output. */
  async function call(
    server: ServerProcess,
    method: 'GET' | 'POST',
    path: string,
    body?: object,
    token?: string,
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (body) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;
    let response: Response;
    try {
      response = await fetch(`${server.url}${path}`, {
        method,
        headers,
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new Error(`${method} ${path} on ${server.name}: ${error}\n${server.output()}`);
    }
    const text = await response.text();
    assert.ok(
      response.status < 500,
      `${method} ${path} on ${server.name} answered ${response.status}: ${text}\n${server.output()}`,
    );
    return {
      status: response.status,
      retryAfter: response.headers.get('retry-after'),
      body: text ? JSON.parse(text) : null,
    };
  }

  /** Fetches a challenge from `server` and solves it as the widget would. */
  async function solveCaptcha(server: ServerProcess): Promise<string> {
    const answer = await call(server, 'GET', '/api/v1/captcha');
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const challenge = answer.body;
    const solution = await solveChallenge({ challenge, deriveKey: pbkdf2 });
    assert.ok(solution, 'the ALTCHA challenge was solved');
    return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
  }

  async function login(server: ServerProcess, document: string, password: string) {
    const captcha = await solveCaptcha(server);
    return call(server, 'POST', '/api/v1/login', { document, password, captcha });
  }

  /** Waits (polling) until `done()` holds. */
  async function until(done: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`still waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('eight clients logging one member in at once over both processes, six times each, all get in', async () => {
    const member = await createMember(database.db);
    const client = async (n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1)
        statuses.push(
          (await login((n + i) % 2 === 0 ? a : b, member.document, 'clave2026')).status,
        );
      return statuses;
    };
    const all = (await Promise.all(Array.from({ length: 8 }, (_, n) => client(n)))).flat();
    assert.equal(all.length, 48);
    assert.deepEqual(
      all.filter((status) => status !== 200),
      [],
    );
  });

  it('a device token from one process gets its member in on the other through the account’s wait', async () => {
    const member = await createMember(database.db);
    const first = await login(a, member.document, 'clave2026');
    assert.equal(first.status, 200);
    const deviceToken = first.body.deviceToken as string;
    for (let i = 0; i < 6; i += 1) await login(i % 2 === 0 ? a : b, member.document, `mala${i}`);
    assert.equal((await login(b, member.document, 'clave2026')).status, 429);
    const captcha = await solveCaptcha(b);
    const known = await call(b, 'POST', '/api/v1/login', {
      document: member.document,
      password: 'clave2026',
      captcha,
      deviceToken,
    });
    assert.equal(known.status, 200, JSON.stringify(known.body));
  });

  it('brute force on one account alternating processes: tries 1–5 answer 401, the 6th 429 with Retry-After 60, the right password during the wait 429', async () => {
    const member = await createMember(database.db);
    const statuses: number[] = [];
    const on = (attempt: number) => (attempt % 2 === 1 ? a : b);
    for (let attempt = 1; attempt <= 5; attempt += 1) {
      const answer = await login(on(attempt), member.document, `mala${attempt}`);
      statuses.push(answer.status);
      assert.equal(answer.status, 401, `try ${attempt}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error.code, 'INVALID_CREDENTIALS');
      assert.equal(answer.retryAfter, null);
    }
    const sixth = await login(on(6), member.document, 'mala6');
    statuses.push(sixth.status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    assert.equal(sixth.retryAfter, '60');
    assert.equal(sixth.body.error.code, 'LOGIN_THROTTLED');

    const right = await login(a, member.document, 'clave2026');
    assert.equal(right.status, 429, 'the right password waits too');
    assert.equal(right.body.error.code, 'LOGIN_THROTTLED');
    const wait = Number(right.retryAfter);
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${right.retryAfter}`);
    const sessions = await database.db
      .selectFrom('sessions')
      .select('member_id')
      .where('member_id', '=', member.id)
      .execute();
    assert.equal(sessions.length, 0, 'no session during the wait');
    console.log(
      `two processes, brute force: tries 1–6 (A, B, A, B, A, B) answered ${statuses.join(', ')}; ` +
        `Retry-After of the 6th: ${sixth.retryAfter}; the right password during the wait (A): ` +
        `${right.status}, Retry-After ${right.retryAfter}`,
    );
  });

  it('refuses on process B a CAPTCHA solution already used on process A; a fresh one works on B', async () => {
    const member = await createMember(database.db);
    const captcha = await solveCaptcha(a);
    const first = await call(a, 'POST', '/api/v1/login', {
      document: member.document,
      password: 'clave2026',
      captcha,
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));

    const replay = await call(b, 'POST', '/api/v1/login', {
      document: member.document,
      password: 'clave2026',
      captcha,
    });
    assert.equal(replay.status, 400, JSON.stringify(replay.body));
    assert.equal(replay.body.error.code, 'CAPTCHA_FAILED');
    // And on A itself, for completeness.
    const again = await call(a, 'POST', '/api/v1/login', {
      document: member.document,
      password: 'clave2026',
      captcha,
    });
    assert.equal(again.status, 400);
    assert.equal(again.body.error.code, 'CAPTCHA_FAILED');

    const fresh = await login(b, member.document, 'clave2026');
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body));
    console.log(
      `two processes, CAPTCHA: used on A → ${first.status}; replayed on B → ${replay.status} ` +
        `${replay.body.error.code}; replayed on A → ${again.status}; a fresh one on B → ${fresh.status}`,
    );
  });

  it('turns 50 concurrent verifies of one SMS code, split between the processes, into one token; and 50 concurrent uses of that token into one password change', async () => {
    const member = await createMember(database.db, { mobile: '+59899123456' });
    const mobile = member.mobile as string;
    const asked = await call(a, 'POST', '/api/v1/password-requests', {
      document: member.document,
      channel: 'sms',
      captcha: await solveCaptcha(a),
    });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    await until(() => sms.to(mobile).length > 0, `the SMS to ${mobile}`);
    const code = codeIn(sms.to(mobile)[0] as { body: string });

    const verifies = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(i % 2 === 0 ? a : b, 'POST', '/api/v1/password-requests/verify', {
          document: member.document,
          code,
        }),
      ),
    );
    const winners = verifies.flatMap((v, i) => (v.status === 200 ? [i] : []));
    const losers = verifies.filter((v) => v.status !== 200);
    assert.equal(winners.length, 1, `${winners.length} of 50 verifies answered 200`);
    assert.ok(
      losers.every((v) => v.status === 400 && v.body.error.code === 'CODE_INVALID'),
      JSON.stringify(losers.map((v) => v.body)),
    );
    const tokens = await database.db
      .selectFrom('one_time_secrets')
      .select('id')
      .where('member_id', '=', member.id)
      .where('kind', '=', 'set_password')
      .execute();
    assert.equal(tokens.length, 1, 'one set-password token in the database');
    const token = (verifies[winners[0] as number] as Answer).body.token as string;
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    console.log(
      `two processes, SMS code race: ${winners.length} of 50 verifies answered 200 ` +
        `(on ${(winners[0] as number) % 2 === 0 ? 'A' : 'B'}), ${losers.length} answered 400 CODE_INVALID`,
    );

    // The set-password token: 50 concurrent uses, each with its own CAPTCHA.
    const captchas = await Promise.all(
      Array.from({ length: 50 }, (_, i) => solveCaptcha(i % 2 === 0 ? a : b)),
    );
    const passwords = Array.from({ length: 50 }, (_, i) => `carrera${String(i).padStart(2, '0')}`);
    const uses = await Promise.all(
      passwords.map((password, i) =>
        call(i % 2 === 0 ? b : a, 'POST', '/api/v1/password', {
          token,
          password,
          passwordConfirmation: password,
          captcha: captchas[i],
        }),
      ),
    );
    const changed = uses.flatMap((u, i) => (u.status === 200 ? [i] : []));
    assert.equal(changed.length, 1, `${changed.length} of 50 password changes answered 200`);
    assert.ok(
      uses.every((u) => u.status === 200 || u.body.error.code === 'TOKEN_INVALID'),
      JSON.stringify(uses.filter((u) => u.status !== 200).map((u) => u.body)),
    );
    const winner = passwords[changed[0] as number] as string;
    assert.equal((await login(a, member.document, winner)).status, 200, 'the winner logs in');
    assert.equal((await login(b, member.document, 'clave2026')).status, 401, 'the old one not');
    console.log(
      `two processes, set-password token race: ${changed.length} of 50 uses answered 200, ` +
        `${uses.length - changed.length} answered 400 TOKEN_INVALID`,
    );

    // One notice email, and the code went out once though both couriers poll one outbox.
    await until(() => smtp.to(member.email as string).length > 0, 'the notice email');
    const notices = smtp.to(member.email as string);
    assert.equal(notices.length, 1, 'one "password changed" email');
    assert.equal(notices[0]?.parsed.subject, 'Su contraseña fue modificada');
    assert.equal(sms.to(mobile).length, 1, 'one SMS delivered');
  });

  it('ends on process B the session logged out on process A', async () => {
    const member = await createMember(database.db);
    const logged = await login(a, member.document, 'clave2026');
    assert.equal(logged.status, 200, JSON.stringify(logged.body));
    const token = logged.body.token as string;

    const seen = await call(b, 'GET', '/api/v1/me', undefined, token);
    assert.equal(seen.status, 200, JSON.stringify(seen.body));
    assert.equal(seen.body.document, member.document);

    const out = await call(a, 'POST', '/api/v1/logout', undefined, token);
    assert.equal(out.status, 204);

    const afterOnB = await call(b, 'GET', '/api/v1/me', undefined, token);
    assert.equal(afterOnB.status, 401);
    const afterOnA = await call(a, 'GET', '/api/v1/me', undefined, token);
    assert.equal(afterOnA.status, 401);
    console.log(
      `two processes, logout: GET /api/v1/me on B ${seen.status} before, ` +
        `POST /api/v1/logout on A ${out.status}, GET /api/v1/me on B ${afterOnB.status} after`,
    );
  });
});
