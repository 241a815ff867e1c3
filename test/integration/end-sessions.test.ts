// Operators end sessions: one member's or everyone's, audited as a staff
// action; the command refuses bad arguments with a usage line.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { endSessions } from '../../src/ops/end-sessions.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  type TestApp,
  type TestDatabase,
  usingPostgres,
} from '../helper.ts';
import { runCli } from '../support/cli.ts';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

describe(`ending sessions by an operator (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ database });
  });
  after(async () => {
    await t.close();
  });

  const tokenFor = async (document: string) => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { document, password: 'clave2026' },
    });
    assert.equal(response.statusCode, 200);
    return response.json().token as string;
  };
  const me = async (token: string) =>
    (
      await t.app.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: { authorization: `Bearer ${token}` },
      })
    ).statusCode;

  it("ends one member's sessions by document or member number, and audits it as the command's doing", async () => {
    const member = await createMember(t.db);
    const other = await createMember(t.db);
    const first = await tokenFor(member.document);
    const second = await tokenFor(member.document);
    const others = await tokenFor(other.document);

    const result = await endSessions(t.db, t.clock, { identifier: member.member_number });
    assert.deepEqual(result, { found: true, ended: 2, memberId: member.id });
    assert.equal(await me(first), 401);
    assert.equal(await me(second), 401);
    assert.equal(await me(others), 200, "another member's session lives on");

    const audit = await t.db
      .selectFrom('audit_events')
      .select(['type', 'outcome', 'member_id', 'actor_kind', 'actor_id'])
      .where('type', '=', 'staff_action')
      .where('member_id', '=', member.id)
      .execute();
    assert.deepEqual(audit, [
      {
        type: 'staff_action',
        outcome: 'ok',
        member_id: member.id,
        actor_kind: 'system',
        actor_id: 'cli:sessions',
      },
    ]);
  });

  it('says so when no member has the document, and ends nothing', async () => {
    const member = await createMember(t.db);
    const token = await tokenFor(member.document);
    assert.deepEqual(await endSessions(t.db, t.clock, { identifier: '9999999' }), {
      found: false,
    });
    assert.equal(await me(token), 200);
  });

  it("ends everyone's sessions", async () => {
    const member = await createMember(t.db);
    const token = await tokenFor(member.document);
    const result = await endSessions(t.db, t.clock, { all: true });
    assert.ok(result.found && result.ended >= 1);
    assert.equal(await me(token), 401);
  });
});

describe('npm run sessions', () => {
  it('refuses bad arguments with a usage line, before touching any database', async () => {
    for (const args of [
      [],
      ['end'],
      ['end', '--all', '--document', '1'],
      ['end', '--document', 'x'],
    ]) {
      const result = await runCli('sessions.ts', args, {
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      });
      assert.equal(result.code, 1, args.join(' '));
      assert.match(result.stderr, /^sessions cannot run: /);
      assert.match(result.stderr, /usage: npm run sessions -- end --document N/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it("ends a member's sessions on a real database from the command line", {
    skip: usingPostgres ? false : 'runs on PostgreSQL (PGlite is one process per data folder)',
  }, async () => {
    const t = await buildTestApp({ database });
    try {
      const member = await createMember(t.db);
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/login',
        payload: { document: member.document, password: 'clave2026' },
      });
      const token = response.json().token as string;
      const dataDir = await mkdtemp(join(tmpdir(), 'autogestion-cli-'));
      try {
        const result = await runCli('sessions.ts', ['end', '--document', member.document], {
          DATABASE_URL: database.url as string,
          DATA_DIR: dataDir,
        });
        assert.equal(result.code, 0, result.stderr);
        assert.equal(result.stdout, `Ended 1 session of member ${member.id}.\n`);
        const unknown = await runCli('sessions.ts', ['end', '--document', '9.999.999'], {
          DATABASE_URL: database.url as string,
          DATA_DIR: dataDir,
        });
        assert.equal(unknown.code, 1);
        assert.match(unknown.stderr, /No member has that document or member number/);
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
      const me = await t.app.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(me.statusCode, 401);
    } finally {
      await t.close();
    }
  });
});
