// The demo member of the embedded defaults (document 1234567, public password
// demo2026) is marked as such, production refuses to start while it exists,
// and `npm run members:remove-demo` removes it (ADR 013).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Migrator, sql } from 'kysely';
import { migrations } from '../../migrations/index.ts';
import { createSession } from '../../src/auth/sessions.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { Database } from '../../src/db/schema.ts';
import {
  assertNoDemoMember,
  DEMO_MEMBER,
  DemoMemberPresentError,
  ensureDemoMember,
} from '../../src/members/demo.ts';
import { describeStartupError } from '../../src/startup-errors.ts';
import {
  createMember,
  createTestDatabase,
  databaseLabel,
  FAST_HASHER,
  FakeClock,
  type TestDatabase,
  usingPostgres,
} from '../helper.ts';
import { runCli } from '../support/cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEMO_MIGRATION = '2026-12-02-002-demo-member';

let database: TestDatabase;
let db: Database;
let clock: FakeClock;
before(async () => {
  database = await createTestDatabase();
  db = database.db;
});
after(() => database.close());
beforeEach(async () => {
  clock = new FakeClock();
  await db.deleteFrom('members').execute();
});

function findMember(document: string, on: Database = db) {
  return on.selectFrom('members').selectAll().where('document', '=', document).executeTakeFirst();
}

describe(`the demo member on ${databaseLabel}`, () => {
  it('is marked as the demo when the embedded defaults create it', async () => {
    assert.equal(await ensureDemoMember(db, FAST_HASHER, clock), true);
    assert.equal((await findMember(DEMO_MEMBER.document))?.demo, true);
  });

  it('the migration marks the demo member of an older data folder, and no one else', async () => {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const names = Object.keys(migrations).sort();
    const before = names[names.indexOf(DEMO_MIGRATION) - 1] as string;
    const insertOld = (document: string, email: string) =>
      sql`insert into members (document, member_number, first_name, last_name, email, password_hash)
          values (${document}, ${document}, 'María', 'Rodríguez', ${email}, 'hash')`.execute(db);
    const demoOf = async (document: string) =>
      (await db.selectFrom('members').select('demo').where('document', '=', document).execute())[0]
        ?.demo;

    // The old demo, and a member who only shares its email.
    assert.equal((await migrator.migrateTo(before)).error, undefined);
    await insertOld(DEMO_MEMBER.document, DEMO_MEMBER.email);
    await insertOld('7654321', DEMO_MEMBER.email);
    await migrateToLatest(db);
    assert.equal(await demoOf(DEMO_MEMBER.document), true);
    assert.equal(await demoOf('7654321'), false);

    // A real member who holds document 1234567 with their own email.
    await db.deleteFrom('members').execute();
    assert.equal((await migrator.migrateTo(before)).error, undefined);
    await insertOld(DEMO_MEMBER.document, 'socia@example.org');
    await migrateToLatest(db);
    assert.equal(await demoOf(DEMO_MEMBER.document), false);
  });

  it('production refuses to start while the demo member exists, naming the command that removes it', async () => {
    await ensureDemoMember(db, FAST_HASHER, clock);

    const error = await assertNoDemoMember(db).then(
      () => assert.fail('assertNoDemoMember let the demo member through'),
      (e: unknown) => e,
    );

    assert.ok(error instanceof DemoMemberPresentError);
    const message = describeStartupError(error);
    assert.match(message, /the database holds the demo member \(document 1234567/);
    assert.match(message, /refused in production/);
    assert.match(message, /npm run members:remove-demo/);
    assert.match(message, /while the server is stopped/);
    assert.doesNotMatch(message, /\n/, 'one line');
  });

  it('production starts without the demo member, even when a real member holds document 1234567', async () => {
    await createMember(db, { document: DEMO_MEMBER.document });
    await assertNoDemoMember(db);
  });
});

/**
 * A database a child process can open: on PostgreSQL this file's own, on
 * PGlite a data folder, which the test opens only while no process holds it.
 */
interface ProcessDatabase {
  env: Record<string, string>;
  use<T>(work: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

async function processDatabase(): Promise<ProcessDatabase> {
  if (usingPostgres && database.url) {
    return { env: { DATABASE_URL: database.url }, use: (work) => work(db), close: async () => {} };
  }
  const folder = await mkdtemp(join(tmpdir(), 'autogestion-demo-'));
  return {
    env: { DATABASE_URL: '', DATA_DIR: folder },
    use: async (work) => {
      const folderDb = await connectDatabase({ kind: 'pglite', dir: folder });
      try {
        await migrateToLatest(folderDb);
        return await work(folderDb);
      } finally {
        await folderDb.destroy();
      }
    },
    close: () => rm(folder, { recursive: true, force: true }),
  };
}

/** `npm start` as an operator runs it in production; resolves when it exits or listens. */
function startProduction(
  env: Record<string, string>,
): Promise<{ code: number | null; listened: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? tmpdir(),
        TMPDIR: tmpdir(),
        NODE_ENV: 'production',
        APP_SECRET: 'demo-member-test-secret-demo-member-test-0123',
        PUBLIC_URL: 'https://portal.example.org',
        SMTP_URL: 'smtp://127.0.0.1:1',
        SMS_WEBHOOK_URL: 'http://127.0.0.1:1/sms',
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'silent',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let listened = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!listened && /listening on http/.test(stdout)) {
        listened = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, listened, stdout, stderr });
    });
  });
}

describe(`npm run members:remove-demo on ${databaseLabel}`, () => {
  let target: ProcessDatabase;
  before(async () => {
    target = await processDatabase();
  });
  after(() => target.close());

  it('refuses an argument with a usage line, before touching any database', async () => {
    const result = await runCli('remove-demo.ts', ['--all'], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^members:remove-demo cannot run: unexpected argument --all/);
    assert.match(result.stderr, /usage: npm run members:remove-demo/);
  });

  it('removes the demo member with its sessions and unsent messages, audits it, and finds none the second time', async () => {
    const { demoId, otherId } = await target.use(async (on) => {
      await on.deleteFrom('members').execute();
      await ensureDemoMember(on, FAST_HASHER, clock);
      const demo = await findMember(DEMO_MEMBER.document, on);
      assert.ok(demo);
      const other = await createMember(on);
      const policy = { idleMinutes: 30, maxHours: 12 };
      const context = { kind: 'api', ip: null, userAgent: null } as const;
      await createSession(on, clock, policy, demo.id, context);
      await createSession(on, clock, policy, other.id, context);
      await on
        .insertInto('outbox')
        .values({
          channel: 'sms',
          template: 'recovery_code',
          member_id: demo.id,
          recipient: DEMO_MEMBER.mobile,
          payload: 'sealed',
          next_attempt_at: clock.now(),
          created_at: clock.now(),
        })
        .execute();
      return { demoId: demo.id, otherId: other.id };
    });

    const first = await runCli('remove-demo.ts', [], target.env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(
      first.stdout,
      'Removed the demo member: 1 session ended, 1 unsent message deleted.\n',
    );
    const again = await runCli('remove-demo.ts', [], target.env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'There is no demo member; nothing was removed.\n');

    await target.use(async (on) => {
      assert.equal(await findMember(DEMO_MEMBER.document, on), undefined);
      const sessions = await on.selectFrom('sessions').select('member_id').execute();
      assert.deepEqual(sessions, [{ member_id: otherId }], "another member's session lives on");
      const queued = await on.selectFrom('outbox').select('id').where('member_id', '=', demoId);
      assert.deepEqual(await queued.execute(), []);
      const audit = await on
        .selectFrom('audit_events')
        .select(['type', 'outcome', 'detail'])
        .where(sql<boolean>`detail->>'action' = 'remove_demo_member'`)
        .execute();
      assert.deepEqual(audit, [
        {
          type: 'staff_action',
          outcome: 'ok',
          detail: { action: 'remove_demo_member', members: 1, sessions: 1, messages: 1 },
        },
      ]);
    });
  });

  it('production refuses to start while the demo member exists, and starts once it is removed', async () => {
    await target.use(async (on) => {
      await on.deleteFrom('members').execute();
      await ensureDemoMember(on, FAST_HASHER, clock);
    });

    const refused = await startProduction(target.env);
    assert.equal(refused.listened, false, refused.stdout);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /Autogestión cannot start: the database holds the demo member \(document 1234567.*npm run members:remove-demo/,
    );
    assert.doesNotMatch(refused.stderr, /\n\s+at /, 'no stack trace');

    const removed = await runCli('remove-demo.ts', [], target.env);
    assert.equal(removed.code, 0, removed.stderr);
    const started = await startProduction(target.env);
    assert.equal(started.listened, true, started.stderr);
  });
});
