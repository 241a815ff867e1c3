// Operators purge now what the server purges every few minutes
// (npm run purge): ended sessions, links and codes past their retention and
// the messages that carried them, old audit events; it says how many of each.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordAudit } from '../../src/audit/record.ts';
import { storeSecret } from '../../src/auth/one-time-secrets.ts';
import { createSession } from '../../src/auth/sessions.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { Database } from '../../src/db/schema.ts';
import type { HousekeepingCounts } from '../../src/ops/housekeeping.ts';
import {
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  usingPostgres,
} from '../helper.ts';
import { runCli } from '../support/cli.ts';

const DAY = 24 * 60 * 60_000;

/**
 * A database the command (a child process) opens: on PostgreSQL a database
 * of its own, on PGlite a data folder the test opens only while the command
 * does not hold it.
 */
async function commandDatabase() {
  const folder = await mkdtemp(join(tmpdir(), 'autogestion-purge-'));
  if (usingPostgres) {
    const database = await createTestDatabase();
    return {
      env: { DATABASE_URL: database.url as string, DATA_DIR: folder },
      use: <T>(work: (db: Database) => Promise<T>) => work(database.db),
      close: async () => {
        await database.close();
        await rm(folder, { recursive: true, force: true });
      },
    };
  }
  return {
    env: { DATABASE_URL: '', DATA_DIR: folder },
    use: async <T>(work: (db: Database) => Promise<T>) => {
      const db = await connectDatabase({ kind: 'pglite', dir: folder });
      try {
        await migrateToLatest(db);
        return await work(db);
      } finally {
        await db.destroy();
      }
    },
    close: () => rm(folder, { recursive: true, force: true }),
  };
}

describe(`npm run purge on ${databaseLabel}`, () => {
  let target: Awaited<ReturnType<typeof commandDatabase>>;
  before(async () => {
    target = await commandDatabase();
  });
  after(() => target.close());

  it('removes ended sessions, week-old links and their messages, and old audit events, and says how many', async () => {
    await target.use(async (db) => {
      // The command runs on the real clock: records are made relative to it.
      const now = Date.now();
      const at = (msAgo: number) => new FakeClock(new Date(now - msAgo));
      const member = await createMember(db);
      const lifetimes = { idleMinutes: 30, maxHours: 12 };
      const client = { kind: 'api' as const, ip: null, userAgent: null };
      await createSession(db, at(2 * DAY), lifetimes, member.id, client);
      await createSession(db, at(DAY), lifetimes, member.id, client);
      await createSession(db, at(0), lifetimes, member.id, client);

      const link = async (msAgo: number, hash: string) => {
        const id = await storeSecret(db, {
          memberId: member.id,
          kind: 'email_link',
          purpose: 'recovery',
          secretHash: hash,
          now: at(msAgo).now(),
          minutes: 30,
        });
        await db
          .insertInto('outbox')
          .values({
            channel: 'email',
            template: 'password-request',
            member_id: member.id,
            recipient: 'purga@example.org',
            payload: null,
            status: 'sent',
            next_attempt_at: at(msAgo).now(),
            created_at: at(msAgo).now(),
            secret_id: id,
          })
          .execute();
      };
      await link(9 * DAY, 'nine-days-old');
      await link(60 * 60_000, 'an-hour-old');

      await recordAudit(db, at(11 * DAY), { type: 'login', outcome: 'ok', memberId: member.id });
      await recordAudit(db, at(DAY), { type: 'login', outcome: 'ok', memberId: member.id });
    });

    const env = { ...target.env, AUDIT_RETENTION_DAYS: '10' };
    const result = await runCli('purge.ts', [], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Removed 5 rows:$/m);
    assert.match(result.stdout, /^\s+2 {2}member sessions ended/m);
    assert.match(result.stdout, /^\s+1 {2}links and codes past retention$/m);
    assert.match(result.stdout, /^\s+1 {2}messages past retention$/m);
    assert.match(result.stdout, /^\s+1 {2}audit events past AUDIT_RETENTION_DAYS$/m);
    assert.match(result.stdout, /^\s+0 {2}staff sessions ended$/m);

    await target.use(async (db) => {
      const sessions = await db.selectFrom('sessions').select('member_id').execute();
      assert.equal(sessions.length, 1, 'the live session is kept');
      const secrets = await db.selectFrom('one_time_secrets').select('secret_hash').execute();
      assert.deepEqual(
        secrets.map((s) => s.secret_hash),
        ['an-hour-old'],
      );
      assert.equal((await db.selectFrom('outbox').select('id').execute()).length, 1);
      assert.equal((await db.selectFrom('audit_events').select('id').execute()).length, 1);
    });

    const again = await runCli('purge.ts', ['--json'], env);
    assert.equal(again.code, 0, again.stderr);
    const counts = JSON.parse(again.stdout) as HousekeepingCounts;
    assert.deepEqual(
      Object.entries(counts).filter(([, n]) => n !== 0),
      [],
      'a second run finds nothing',
    );
    assert.equal(counts.sessions, 0);
  });

  it('refuses arguments it does not know with exit status 2 and the usage, before touching any database', async () => {
    for (const args of [['now'], ['--all']]) {
      const result = await runCli('purge.ts', args, {
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      });
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /^purge cannot run: /);
      assert.match(result.stderr, /usage: npm run purge/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });
});
