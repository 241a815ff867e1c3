// Sessions have a public id (ADR 017): random, not secret, not derived from
// the token. A member lists their sessions by it and ends one of their own;
// another member's id ends nothing; the listing never shows the token or its
// hash.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { migrations } from '../../migrations/index.ts';
import { generateToken, hashToken } from '../../src/auth/secrets.ts';
import {
  createSession,
  deleteOtherSessions,
  deleteSessionById,
  listSessions,
  type SessionContext,
  validateSession,
} from '../../src/auth/sessions.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { Database, Member } from '../../src/db/schema.ts';
import {
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  type TestDatabase,
} from '../helper.ts';

const POLICY = { idleMinutes: 30, maxHours: 12 };
const API: SessionContext = { kind: 'api', ip: null, userAgent: null };
const WEB: SessionContext = { kind: 'web', ip: '203.0.113.7', userAgent: 'Firefox/140' };
const PUBLIC_ID = /^[A-Za-z0-9_-]{22}$/;
const THIS_MIGRATION = '2026-12-02-004-session-ids-and-actors';

let database: TestDatabase;
let db: Database;
before(async () => {
  database = await createTestDatabase();
  db = database.db;
});
after(() => database.close());

describe(`sessions by their public id (${databaseLabel})`, () => {
  const clock = new FakeClock();
  const open = (member: Member, context: SessionContext = API) =>
    createSession(db, clock, POLICY, member.id, context);
  const isLive = async (token: string) =>
    (await validateSession(db, clock, POLICY, token)) !== null;

  it('gives every session its own public id: 22 random characters the token does not reveal', async () => {
    const member = await createMember(db);
    const sessions = await Promise.all(Array.from({ length: 40 }, () => open(member)));
    const ids = sessions.map(({ session }) => session.public_id);
    assert.equal(new Set(ids).size, ids.length, 'no two sessions share a public id');
    for (const { token, session } of sessions) {
      assert.match(session.public_id, PUBLIC_ID);
      const derived = [
        token,
        hashToken(token),
        createHash('sha256').update(token).digest('base64url'),
        session.id_hash,
      ];
      for (const form of derived)
        assert.ok(
          !form.includes(session.public_id),
          'the public id is no part of the token or its hash',
        );
      assert.ok(!token.includes(session.public_id.slice(0, 8)));
    }
  });

  it('tells the route which session is in use: validateSession gives its public id', async () => {
    const member = await createMember(db);
    const { token, session } = await open(member);
    const found = await validateSession(db, clock, POLICY, token);
    assert.equal(found?.session.public_id, session.public_id);
  });

  it("lists a member's live sessions, newest use first, with what they may see and never the token or its hash", async () => {
    const member = await createMember(db);
    const other = await createMember(db);
    const first = await open(member, WEB);
    clock.advanceMinutes(2);
    const second = await open(member, API);
    const others = await open(other);

    const listed = await listSessions(db, clock, member.id);

    assert.deepEqual(listed, [
      {
        id: second.session.public_id,
        kind: 'api',
        createdAt: clock.now(),
        lastUsedAt: clock.now(),
        ip: null,
        userAgent: null,
      },
      {
        id: first.session.public_id,
        kind: 'web',
        createdAt: new Date(clock.now().getTime() - 120_000),
        lastUsedAt: new Date(clock.now().getTime() - 120_000),
        ip: '203.0.113.7',
        userAgent: 'Firefox/140',
      },
    ]);
    const text = JSON.stringify(listed);
    for (const secret of [first.token, second.token, first.session.id_hash, second.session.id_hash])
      assert.ok(!text.includes(secret), 'the listing shows no token and no id_hash');
    assert.ok(!text.includes(others.session.public_id), "another member's session is not listed");
  });

  it('leaves out of the list the sessions past their deadlines', async () => {
    const member = await createMember(db);
    await open(member);
    clock.advanceMinutes(POLICY.idleMinutes + 1);
    const fresh = await open(member);
    const listed = await listSessions(db, clock, member.id);
    assert.deepEqual(
      listed.map((s) => s.id),
      [fresh.session.public_id],
    );
  });

  it("ends one of the member's own sessions by its public id, once", async () => {
    const member = await createMember(db);
    const kept = await open(member);
    const ended = await open(member);
    assert.equal(await deleteSessionById(db, member.id, ended.session.public_id), true);
    assert.equal(await isLive(ended.token), false);
    assert.equal(await isLive(kept.token), true, 'the other session lives on');
    assert.equal(await deleteSessionById(db, member.id, ended.session.public_id), false);
  });

  it("ends nothing with another member's public id", async () => {
    const victim = await createMember(db);
    const attacker = await createMember(db);
    const { token, session } = await open(victim);
    await open(attacker);
    assert.equal(await deleteSessionById(db, attacker.id, session.public_id), false);
    assert.equal(await isLive(token), true);
    assert.equal((await listSessions(db, clock, victim.id)).length, 1);
  });

  it('ends nothing with an unknown or malformed public id, nor with the id_hash', async () => {
    const member = await createMember(db);
    const { token, session } = await open(member);
    for (const id of [
      generateToken().slice(0, 22),
      '',
      "' or '1'='1",
      `${session.public_id} `,
      session.id_hash,
      token,
    ])
      assert.equal(await deleteSessionById(db, member.id, id), false, JSON.stringify(id));
    assert.equal(await isLive(token), true);
  });

  it('ends every other session of the member and keeps the one in use', async () => {
    const member = await createMember(db);
    const other = await createMember(db);
    const current = await open(member, WEB);
    const old = [await open(member), await open(member, WEB)];
    const others = await open(other);

    assert.equal(await deleteOtherSessions(db, member.id, current.session.id_hash), 2);
    assert.equal(await isLive(current.token), true);
    for (const { token } of old) assert.equal(await isLive(token), false);
    assert.equal(await isLive(others.token), true, "another member's session lives on");
    assert.equal(await deleteOtherSessions(db, member.id, current.session.id_hash), 0);
  });
});

describe(`the migration to session ids and audit actors (${databaseLabel})`, () => {
  let old: TestDatabase;
  let memberId: number;
  before(async () => {
    old = await createTestDatabase();
    const names = Object.keys(migrations).sort();
    const previous = names[names.indexOf(THIS_MIGRATION) - 1] as string;
    const migrator = new Migrator({
      db: old.db,
      provider: { getMigrations: async () => migrations },
    });
    assert.equal((await migrator.migrateTo(previous)).error, undefined);
    const at = new Date('2026-11-30T10:00:00Z');
    const inserted = await sql<{ id: number }>`
      insert into members (document, member_number, first_name, last_name)
      values ('4444444', '4444', 'Ana', 'Pérez') returning id`.execute(old.db);
    memberId = inserted.rows[0]?.id as number;
    for (const n of [1, 2, 3])
      await sql`insert into sessions (id_hash, member_id, kind, created_at, last_used_at, idle_expires_at, expires_at)
                values (${`hash-${n}`}, ${memberId}, 'web', ${at}, ${at}, ${at}, ${at})`.execute(
        old.db,
      );
    const events: [string, string, number | null, string | null][] = [
      ['login', 'ok', memberId, null],
      ['login', 'failed', memberId, null],
      ['link_sent', 'ok', memberId, null],
      ['logout', 'ok', memberId, null],
      ['login_failures_surge', 'refused', null, null],
      ['staff_action', 'ok', memberId, '{"action":"end_sessions","scope":"member","ended":1}'],
      ['staff_action', 'ok', null, '{"action":"remove_demo_member","members":1}'],
      ['staff_action', 'ok', memberId, '{"action":"replace_demo_member","sessions":0}'],
    ];
    for (const [type, outcome, member, detail] of events)
      await sql`insert into audit_events (at, type, outcome, member_id, detail)
                values (${at}, ${type}, ${outcome}, ${member}, ${detail}::jsonb)`.execute(old.db);
    await migrateToLatest(old.db);
  });
  after(() => old.close());

  it('gives the sessions that were open a public id of the same shape, each its own', async () => {
    const rows = await old.db.selectFrom('sessions').select('public_id').execute();
    assert.equal(rows.length, 3);
    for (const { public_id } of rows) assert.match(public_id, PUBLIC_ID);
    assert.equal(new Set(rows.map((r) => r.public_id)).size, 3);
  });

  it('names the actor of the events recorded before, by the rules recordAudit follows', async () => {
    const rows = await old.db
      .selectFrom('audit_events')
      .select(['type', 'outcome', 'actor_kind', 'actor_id'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => `${r.type}:${r.outcome} ${r.actor_kind} ${r.actor_id}`),
      [
        `login:ok member ${memberId}`,
        'login:failed anonymous null',
        'link_sent:ok anonymous null',
        `logout:ok member ${memberId}`,
        'login_failures_surge:refused system null',
        'staff_action:ok system cli:sessions',
        'staff_action:ok system cli:members:remove-demo',
        'staff_action:ok system cli:members:import',
      ],
    );
  });

  it('refuses a second session with the same public id', async () => {
    const taken = await old.db.selectFrom('sessions').select('public_id').executeTakeFirstOrThrow();
    const at = new Date();
    await assert.rejects(
      old.db
        .insertInto('sessions')
        .values({
          id_hash: 'hash-4',
          public_id: taken.public_id,
          member_id: memberId,
          kind: 'api',
          created_at: at,
          last_used_at: at,
          idle_expires_at: at,
          expires_at: at,
        })
        .execute(),
    );
  });
});
