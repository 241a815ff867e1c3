// Builds the app in-process on a real database (in-memory PGlite, or a fresh
// PostgreSQL database when TEST_DATABASE_URL is set) with a clock the test
// moves and cheap-but-real argon2 parameters.
import { randomBytes } from 'node:crypto';
import { solveChallenge } from 'altcha-lib';
import { deriveKey as pbkdf2 } from 'altcha-lib/algorithms/pbkdf2';
import type { FastifyInstance, InjectOptions } from 'fastify';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import type { Clock } from '../src/auth/clock.ts';
import { PasswordHasher } from '../src/auth/passwords.ts';
import { createCaptcha } from '../src/captcha/create.ts';
import type { Captcha } from '../src/captcha/port.ts';
import { type Config, loadConfig } from '../src/config.ts';
import { connectDatabase } from '../src/db/connect.ts';
import { migrateToLatest } from '../src/db/migrate.ts';
import type { Database, Member } from '../src/db/schema.ts';
import type { AppDeps, AppParts } from '../src/deps.ts';
import type { Background } from '../src/flows/background.ts';

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/** A clock that stands still until the test moves it. */
export class FakeClock implements Clock {
  #now: number;
  constructor(start = new Date('2026-11-25T12:00:00Z')) {
    this.#now = start.getTime();
  }
  now(): Date {
    return new Date(this.#now);
  }
  advance(ms: number): void {
    this.#now += ms;
  }
  advanceMinutes(minutes: number): void {
    this.advance(minutes * 60_000);
  }
}

/** Cheap argon2id parameters for speed; one test keeps the production ones. */
export const FAST_HASHER = new PasswordHasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });

/**
 * Test configuration. Every request of app.inject comes from 127.0.0.1, so
 * the per-address budgets are raised here; the tests of those limits set
 * them back explicitly.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    CAPTCHA_PROVIDER: 'none',
    LOG_LEVEL: 'silent',
    PASSWORD_REQUESTS_PER_ADDRESS: '100000/1h',
    LOGIN_FAILURES_PER_ADDRESS: '100000/15m',
    CAPTCHA_FAILURES_PER_ADDRESS: '100000/15m',
    SMS_CODE_FAILURES_PER_ADDRESS: '100000/1h',
    ...env,
  });
}

export const usingPostgres = Boolean(process.env.TEST_DATABASE_URL);
export const databaseLabel = usingPostgres ? 'PostgreSQL' : 'PGlite';

export interface TestDatabase {
  db: Database;
  /** postgres:// URL of this test's own database, when on PostgreSQL. */
  url: string | undefined;
  close(): Promise<void>;
}

/** A fresh, migrated database for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) {
    const db = await connectDatabase({ kind: 'pglite' });
    await migrateToLatest(db);
    return { db, url: undefined, close: () => db.destroy() };
  }
  const name = `autogestion_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await connectDatabase({ kind: 'postgres', url: url.toString() });
  await migrateToLatest(db);
  return {
    db,
    url: url.toString(),
    close: async () => {
      await db.destroy();
      const drop = new pg.Client({ connectionString: serverUrl });
      await drop.connect();
      await drop.query(`drop database if exists ${name} with (force)`);
      await drop.end();
    },
  };
}

export interface TestApp {
  app: FastifyInstance;
  db: Database;
  clock: FakeClock;
  /** The parts the app was built with, completed by buildApp. */
  deps: AppParts;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  captcha?: Captcha;
  database?: TestDatabase;
  hasher?: PasswordHasher;
  /** The clock to share with other parts (e.g. a Dispatcher); a new FakeClock by default. */
  clock?: FakeClock;
  /** Woken after a flow queued a message (e.g. a Dispatcher); nothing by default. */
  courier?: AppDeps['courier'];
  /** Where flows raise operator alerts; the app's (silent) logger by default. */
  log?: AppDeps['log'];
}

export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? (await createTestDatabase());
  const config = testConfig(options.env);
  const clock = options.clock ?? new FakeClock();
  const captcha =
    options.captcha ??
    createCaptcha(config.captcha, {
      db: database.db,
      clock,
      secret: TEST_SECRET,
      publicUrl: config.publicUrl,
    });
  const deps: AppDeps = {
    config,
    db: database.db,
    clock,
    hasher: options.hasher ?? FAST_HASHER,
    captcha,
    secret: TEST_SECRET,
    ...(options.courier ? { courier: options.courier } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
  const app = await buildApp(deps, { logger: false });
  await app.ready();
  withFormTokens(app, app.parts.background);
  return {
    app,
    db: database.db,
    clock,
    deps: app.parts,
    close: async () => {
      await app.close();
      if (!options.database) await database.close();
    },
  };
}

export interface MemberFixture {
  document?: string;
  memberNumber?: string;
  firstName?: string;
  lastName?: string;
  email?: string | null;
  mobile?: string | null;
  status?: 'active' | 'inactive';
  password?: string | null;
}

let sequence = 0;

export async function createMember(
  db: Database,
  fixture: MemberFixture = {},
  hasher: PasswordHasher = FAST_HASHER,
): Promise<Member> {
  sequence += 1;
  const password = fixture.password === undefined ? 'clave2026' : fixture.password;
  return db
    .insertInto('members')
    .values({
      document: fixture.document ?? String(3_000_000 + sequence),
      member_number: fixture.memberNumber ?? String(500_000 + sequence),
      first_name: fixture.firstName ?? 'Ana',
      last_name: fixture.lastName ?? 'Pérez',
      email: fixture.email === undefined ? `socio${sequence}@example.org` : fixture.email,
      mobile:
        fixture.mobile === undefined
          ? `+5989${String(1_000_000 + sequence).slice(-7)}`
          : fixture.mobile,
      status: fixture.status ?? 'active',
      password_hash: password === null ? null : await hasher.hash(password),
      password_changed_at: password === null ? null : new Date(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Fetches a challenge from the app and solves it as the widget would; returns the payload. */
export async function solveAltcha(app: FastifyInstance): Promise<string> {
  const response = await app.inject({ method: 'GET', url: '/api/v1/captcha' });
  if (response.statusCode !== 200) throw new Error(`captcha challenge: ${response.statusCode}`);
  const challenge = response.json();
  const solution = await solveChallenge({ challenge, deriveKey: pbkdf2 });
  if (!solution) throw new Error('could not solve the ALTCHA challenge');
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

/** Cookie header value from a response's set-cookie, for the next request. */
export function cookieFrom(response: { headers: Record<string, unknown> }): string {
  const raw = response.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [String(raw)] : [];
  return list.map((c: string) => c.split(';')[0]).join('; ');
}

/**
 * `app.inject` as the tests use it. It answers once the work the request
 * handed off (`background`: a password request's lookup and message) is
 * done, so a test reads the outbox and the audit right after the answer.
 * Form posts get what a browser's form would carry:
 * the CSRF cookie and the token of a page the app rendered (fetched once per
 * app from the login page, as a browser would). A post that brings its own
 * `_csrf` field is sent untouched, so tests of the protection control it.
 */
export function withFormTokens(app: FastifyInstance, background?: Background): void {
  const inject = app.inject.bind(app) as (options: InjectOptions) => ReturnType<typeof app.inject>;
  let pair: Promise<{ cookie: string; token: string }> | undefined;
  const fetchPair = async () => {
    const page = await inject({ method: 'GET', url: '/' });
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    const cookie = cookieFrom(page)
      .split('; ')
      .find((c) => /^(?:__Host-)?csrf=/.test(c));
    if (!token || !cookie) throw new Error('the login page carries no CSRF token or cookie');
    return { cookie, token };
  };
  const settled = async (options: InjectOptions) => {
    const response = await inject(options);
    await background?.idle();
    return response;
  };
  const patched = async (options: InjectOptions) => {
    if (!needsFormToken(options)) return settled(options);
    pair ??= fetchPair();
    const { cookie, token } = await pair;
    const headers = { ...(options.headers ?? {}) };
    const others = String(headers.cookie ?? '')
      .split(/;\s*/)
      .filter((c) => c && !/^(?:__Host-)?csrf=/.test(c));
    headers.cookie = [...others, cookie].join('; ');
    const payload =
      typeof options.payload === 'string'
        ? `${options.payload}${options.payload ? '&' : ''}_csrf=${encodeURIComponent(token)}`
        : { ...(options.payload as Record<string, unknown>), _csrf: token };
    return settled({ ...options, headers, payload });
  };
  (app as { inject: unknown }).inject = patched;
}

function needsFormToken(options: InjectOptions): boolean {
  if (String(options.method ?? 'GET').toUpperCase() !== 'POST') return false;
  const url = typeof options.url === 'string' ? options.url : '';
  if (url.startsWith('/api/')) return false;
  const payload = options.payload;
  if (typeof payload === 'string') return !/(?:^|&)_csrf=/.test(payload);
  if (payload === undefined) return true;
  return (
    typeof payload === 'object' &&
    payload !== null &&
    !Buffer.isBuffer(payload) &&
    !('_csrf' in payload)
  );
}

/** A page without its per-render CSRF token, to compare two renders of one form. */
export function withoutFormToken(body: string): string {
  return body.replace(/(name="_csrf" value=")[^"]*"/g, '$1"');
}
