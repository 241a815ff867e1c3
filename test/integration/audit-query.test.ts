import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { deleteOldAuditEvents, findAuditEvents, parseDuration } from '../../src/audit/query.ts';
import { type AuditEvent, deriveActor, recordAudit } from '../../src/audit/record.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { Database } from '../../src/db/schema.ts';
import { DEMO_MEMBER, ensureDemoMember } from '../../src/members/demo.ts';
import { importMembers } from '../../src/members/import.ts';
import { endSessions } from '../../src/ops/end-sessions.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  FAST_HASHER,
  FakeClock,
  TEST_SECRET,
  type TestApp,
  type TestDatabase,
  usingPostgres,
} from '../helper.ts';
import { runCli } from '../support/cli.ts';

describe(`the audit trail for operators (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(() => t.close());

  const login = (document: string, password: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/login', payload: { document, password } });

  it("finds a member's events by document or member number, and an unknown document's by its hash", async () => {
    const member = await createMember(t.db, { password: 'clave2026' });
    await login(member.document, 'mala2026');
    t.clock.advanceMinutes(1);
    await login(member.document, 'clave2026');
    await login('7654321', 'cualquiera1');

    const byDocument = await findAuditEvents(t.db, TEST_SECRET, {
      identifier: member.document,
      limit: 50,
    });
    assert.deepEqual(
      byDocument.map((r) => `${r.type}:${r.outcome}`),
      ['login:ok', 'login:failed'],
      'newest first',
    );
    const byNumber = await findAuditEvents(t.db, TEST_SECRET, {
      identifier: member.member_number,
      limit: 50,
    });
    assert.equal(byNumber.length, 2);
    const unknown = await findAuditEvents(t.db, TEST_SECRET, { identifier: '7654321', limit: 50 });
    assert.deepEqual(
      unknown.map((r) => `${r.type}:${r.outcome}:${r.memberId}`),
      ['login:failed:null'],
    );
    const recent = await findAuditEvents(t.db, TEST_SECRET, {
      identifier: member.document,
      since: new Date(t.clock.now().getTime() - 30_000),
      limit: 50,
    });
    assert.deepEqual(
      recent.map((r) => r.outcome),
      ['ok'],
    );
  });

  it('forgets events older than the retention', async () => {
    const before = await findAuditEvents(t.db, TEST_SECRET, { limit: 1000 });
    t.clock.advanceMinutes(10);
    const removed = await deleteOldAuditEvents(t.db, t.clock.now());
    assert.equal(removed, before.length);
    assert.equal((await findAuditEvents(t.db, TEST_SECRET, { limit: 1000 })).length, 0);
  });

  it('reads durations such as 30m, 24h and 7d', () => {
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('5x'), null);
  });
});

describe(`who caused each event (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp();
  });
  after(() => t.close());

  const login = (document: string, password: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/login', payload: { document, password } });
  const actorsOf = async (identifier: string) =>
    (await findAuditEvents(t.db, TEST_SECRET, { identifier, limit: 50 })).map(
      (r) => `${r.type}:${r.outcome} ${r.actorKind} ${r.actorId}`,
    );

  it('names the member as the actor of their own login and logout, and nobody known of a failed login', async () => {
    const member = await createMember(t.db, { password: 'clave2026' });
    await login(member.document, 'mala2026');
    t.clock.advanceMinutes(1);
    const ok = await login(member.document, 'clave2026');
    t.clock.advanceMinutes(1);
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/logout',
      headers: { authorization: `Bearer ${ok.json().token}` },
    });
    assert.deepEqual(await actorsOf(member.document), [
      `logout:ok member ${member.id}`,
      `login:ok member ${member.id}`,
      'login:failed anonymous null',
    ]);
  });

  it("records an operator's session ending with the command as its actor", async () => {
    const member = await createMember(t.db, { password: 'clave2026' });
    await login(member.document, 'clave2026');
    t.clock.advanceMinutes(1);
    await endSessions(t.db, t.clock, { identifier: member.document });
    assert.deepEqual((await actorsOf(member.document))[0], 'staff_action:ok system cli:sessions');
  });

  it('records the registry import replacing the demo member with the import command as its actor', async () => {
    const database = await createTestDatabase();
    try {
      const clock = new FakeClock();
      await ensureDemoMember(database.db, FAST_HASHER, clock);
      const { document, memberNumber, firstName, lastName, email, mobile } = DEMO_MEMBER;
      const csv = `document,member_number,first_name,last_name,email,mobile,status
${document},${memberNumber},${firstName},${lastName},${email},${mobile},active
`;
      await importMembers(database.db, Readable.from([Buffer.from(csv)]), { clock });
      const events = await findAuditEvents(database.db, TEST_SECRET, {
        type: 'staff_action',
        limit: 10,
      });
      assert.deepEqual(
        events.map((r) => [r.actorKind, r.actorId]),
        [['system', 'cli:members:import']],
      );
    } finally {
      await database.close();
    }
  });
});

describe('the actor an event gets when its caller names none', () => {
  const actorOf = (event: AuditEvent) => {
    const actor = deriveActor(event);
    return actor.id === null ? actor.kind : `${actor.kind} ${actor.id}`;
  };

  it('is the member for what a member who proved who they are did', () => {
    assert.equal(actorOf({ type: 'login', outcome: 'ok', memberId: 7 }), 'member 7');
    assert.equal(actorOf({ type: 'logout', outcome: 'ok', memberId: 7 }), 'member 7');
    assert.equal(actorOf({ type: 'password_rehashed', outcome: 'ok', memberId: 7 }), 'member 7');
    assert.equal(actorOf({ type: 'code_verified', outcome: 'ok', memberId: 7 }), 'member 7');
    assert.equal(actorOf({ type: 'password_set', outcome: 'ok', memberId: 7 }), 'member 7');
  });

  it("is anonymous for requests nobody proved to be the member's, even for a member's document", () => {
    assert.equal(actorOf({ type: 'login', outcome: 'failed', memberId: 7 }), 'anonymous');
    assert.equal(actorOf({ type: 'code_verified', outcome: 'failed', memberId: 7 }), 'anonymous');
    assert.equal(actorOf({ type: 'link_sent', outcome: 'ok', memberId: 7 }), 'anonymous');
    assert.equal(actorOf({ type: 'code_sent', outcome: 'ignored' }), 'anonymous');
    assert.equal(actorOf({ type: 'captcha_failed', outcome: 'refused' }), 'anonymous');
    assert.equal(actorOf({ type: 'throttled', outcome: 'refused' }), 'anonymous');
    assert.equal(
      actorOf({ type: 'login', outcome: 'ok' }),
      'anonymous',
      'no member, no member actor',
    );
  });

  it("is the system for the portal's own breakers, and what the caller says when it says", () => {
    assert.equal(actorOf({ type: 'login_failures_surge', outcome: 'refused' }), 'system');
    assert.equal(actorOf({ type: 'sms_budget_exhausted', outcome: 'refused' }), 'system');
    assert.equal(
      actorOf({
        type: 'password_set',
        outcome: 'ok',
        memberId: 7,
        actor: { kind: 'staff', id: 's1' },
      }),
      'staff s1',
    );
  });
});

/**
 * A database the operator commands (child processes) open: on PostgreSQL a
 * database of its own, on PGlite a data folder the test opens only while no
 * command holds it.
 */
interface CommandDatabase {
  env: Record<string, string>;
  use<T>(work: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

async function commandDatabase(): Promise<CommandDatabase> {
  const folder = await mkdtemp(join(tmpdir(), 'autogestion-audit-'));
  if (usingPostgres) {
    const database: TestDatabase = await createTestDatabase();
    return {
      env: { DATABASE_URL: database.url as string, DATA_DIR: folder },
      use: (work) => work(database.db),
      close: async () => {
        await database.close();
        await rm(folder, { recursive: true, force: true });
      },
    };
  }
  return {
    env: { DATABASE_URL: '', DATA_DIR: folder },
    use: async (work) => {
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

describe(`npm run audit and the operator commands on ${databaseLabel}`, () => {
  let target: CommandDatabase;
  before(async () => {
    target = await commandDatabase();
  });
  after(() => target.close());

  it('records each command as the actor of what it did, and shows the actor in a column of its own', async () => {
    const memberId = await target.use(async (db) => {
      // Before the commands, which run on the real clock: the login lists last.
      const clock = new FakeClock(new Date('2020-01-01T00:00:00Z'));
      await ensureDemoMember(db, FAST_HASHER, clock);
      const member = await createMember(db);
      await recordAudit(db, clock, { type: 'login', outcome: 'ok', memberId: member.id });
      return member.id;
    });
    const ended = await runCli('sessions.ts', ['end', '--all'], target.env);
    assert.equal(ended.code, 0, ended.stderr);
    const removed = await runCli('remove-demo.ts', [], target.env);
    assert.equal(removed.code, 0, removed.stderr);

    const json = await runCli('audit.ts', ['--json'], target.env);
    assert.equal(json.code, 0, json.stderr);
    const rows = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; actorKind: string; actorId: string });
    assert.deepEqual(
      rows.map((r) => `${r.type} ${r.actorKind} ${r.actorId}`),
      [
        'staff_action system cli:members:remove-demo',
        'staff_action system cli:sessions',
        `login member ${memberId}`,
      ],
    );

    const table = await runCli('audit.ts', [], target.env);
    assert.equal(table.code, 0, table.stderr);
    const [header, ...lines] = table.stdout.trimEnd().split('\n');
    assert.match(
      header ?? '',
      /^time\s+type\s+outcome\s+channel\s+address\s+member\s+actor\s+detail$/,
    );
    assert.match(
      lines[0] ?? '',
      /staff_action\s+ok\s+-\s+-\s+-\s+system cli:members:remove-demo\s+\{/,
    );
    assert.match(lines[1] ?? '', /staff_action\s+ok\s+-\s+-\s+-\s+system cli:sessions\s+\{/);
    assert.match(
      lines[2] ?? '',
      new RegExp(`login\\s+ok\\s+-\\s+-\\s+member ${memberId}\\s+member ${memberId}`),
    );
  });
});
