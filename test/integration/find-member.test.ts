// Finding a member (src/members/find.ts, ADR 018): one rule for what members
// and operators type — digits, leading zeros not significant — for the
// login, the recovery, the operator commands, and the migration that brings
// stored documents and member numbers to that form.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it, mock } from 'node:test';
import { sql } from 'kysely';
import * as canonicalDocuments from '../../migrations/2026-12-02-005-canonical-documents.ts';
import { findAuditEvents } from '../../src/audit/query.ts';
import { documentOption } from '../../src/cli/common.ts';
import type { Database } from '../../src/db/schema.ts';
import {
  findMemberByDocument,
  findMemberByIdentifier,
  lockMembersByIdentifiers,
  memberByDocumentColumn,
  memberFromJson,
} from '../../src/members/find.ts';
import { endSessions } from '../../src/ops/end-sessions.ts';
import {
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  TEST_SECRET,
  type TestDatabase,
  usingPostgres,
} from '../helper.ts';

let database: TestDatabase;
let db: Database;
before(async () => {
  database = await createTestDatabase();
  db = database.db;
});
after(() => database.close());
beforeEach(async () => {
  await db.deleteFrom('audit_events').execute();
  await db.deleteFrom('members').execute();
});

describe(`finding a member on ${databaseLabel}`, () => {
  it('reads the same member as a column of another statement (the login) as on its own', async () => {
    const member = await createMember(db, { document: '4567890', memberNumber: '9101' });
    await db
      .updateTable('members')
      .set({ password_changed_at: new Date('2026-11-30T10:11:12.345Z'), mobile: null })
      .where('id', '=', member.id)
      .execute();
    const read = async (typed: string) => {
      const row = await db
        .selectNoFrom(() => [memberByDocumentColumn(typed).as('member')])
        .executeTakeFirstOrThrow();
      return memberFromJson(row.member);
    };
    const alone = await findMemberByDocument(db, '4567890');
    assert.ok(alone);
    assert.deepEqual(await read('04567890'), alone);
    assert.equal(await read('4567891'), undefined);
  });

  it('finds a member by document, typed with or without leading zeros', async () => {
    const member = await createMember(db, { document: '123456', memberNumber: '9001' });

    for (const typed of ['123456', '0123456', '000123456'])
      assert.equal((await findMemberByDocument(db, typed))?.id, member.id, typed);
  });

  it('finds no one by document for a member number, nor for a document with its check digit', async () => {
    await createMember(db, { document: '1234567', memberNumber: '9001' });

    assert.equal(await findMemberByDocument(db, '9001'), undefined);
    assert.equal(await findMemberByDocument(db, '12345672'), undefined);
  });

  it('finds a member by document, then by member number, then by the document without its check digit', async () => {
    const member = await createMember(db, { document: '1234567', memberNumber: '9001' });

    for (const typed of ['1234567', '01234567', '9001', '009001', '12345672'])
      assert.equal((await findMemberByIdentifier(db, typed))?.id, member.id, typed);
    assert.equal(await findMemberByIdentifier(db, '12345673'), undefined, 'a wrong check digit');
  });

  it("prefers a document over another member's member number", async () => {
    const byDocument = await createMember(db, { document: '2345678', memberNumber: '1' });
    await createMember(db, { document: '3456789', memberNumber: '2345678' });

    assert.equal((await findMemberByIdentifier(db, '2345678'))?.id, byDocument.id);
  });

  it('finds many members at once as findMemberByIdentifier finds each, and locks them (a batch of requests)', async () => {
    const first = await createMember(db, { document: '1234567', memberNumber: '9001' });
    const byDocument = await createMember(db, { document: '2345678', memberNumber: '1' });
    await createMember(db, { document: '3456789', memberNumber: '2345678' });
    const typed = ['01234567', '9001', '12345672', '12345673', '2345678', '3456789', '777'];

    const found = await db
      .transaction()
      .execute((trx) => lockMembersByIdentifiers(trx, [...typed, '9001']));

    for (const identifier of typed)
      assert.equal(
        found.get(identifier)?.id,
        (await findMemberByIdentifier(db, identifier))?.id,
        identifier,
      );
    assert.equal(found.get('9001')?.id, first.id);
    assert.equal(found.get('2345678')?.id, byDocument.id, 'a document first');
    assert.equal(found.has('12345673'), false, 'nobody: absent');
    assert.equal(found.has('777'), false);
  });

  it('locks every member a batch found until its transaction ends', {
    skip: !usingPostgres,
  }, async () => {
    const member = await createMember(db, { document: '1234567', memberNumber: '9001' });
    const other = await createMember(db, { document: '2345678', memberNumber: '9002' });
    const tryFromElsewhere = (identifier: string) =>
      db.transaction().execute(async (trx) => {
        await sql`set local lock_timeout = '50ms'`.execute(trx);
        return findMemberByIdentifier(trx, identifier, { lock: true });
      });

    await db.transaction().execute(async (trx) => {
      const found = await lockMembersByIdentifiers(trx, ['1234567', '9002']);
      assert.deepEqual([found.get('1234567')?.id, found.get('9002')?.id], [member.id, other.id]);
      await assert.rejects(tryFromElsewhere('9001'), { code: '55P03' });
      await assert.rejects(tryFromElsewhere('2345678'), { code: '55P03' });
    });
    assert.equal((await tryFromElsewhere('9002'))?.id, other.id, 'free after the commit');
  });

  it('the operator commands find a member the same way, zeros and check digit included', async () => {
    const member = await createMember(db, { document: '1234567', memberNumber: '9001' });
    const clock = new FakeClock();

    for (const typed of ['0.123.456-7', '1.234.567-2', '0009001']) {
      const result = await endSessions(db, clock, { identifier: documentOption(typed) });
      assert.deepEqual(result, { found: true, ended: 0, memberId: member.id }, typed);
    }
    const events = await findAuditEvents(db, TEST_SECRET, {
      identifier: documentOption('1.234.567-2'),
      limit: 10,
    });
    assert.equal(events.length, 3, "the member's three staff actions");
  });

  it('locks the row found until the transaction ends', { skip: !usingPostgres }, async () => {
    const member = await createMember(db, { document: '1234567', memberNumber: '9001' });
    /** Whether another transaction gets the member within 50 ms, with or without a lock. */
    const tryFromElsewhere = (lock: boolean) =>
      db.transaction().execute(async (trx) => {
        await sql`set local lock_timeout = '50ms'`.execute(trx);
        return findMemberByIdentifier(trx, '9001', { lock });
      });

    await db.transaction().execute(async (trx) => {
      assert.equal((await findMemberByIdentifier(trx, '1234567', { lock: true }))?.id, member.id);
      await assert.rejects(tryFromElsewhere(true), { code: '55P03' }, 'the row is locked');
      assert.equal((await tryFromElsewhere(false))?.id, member.id, 'reading needs no lock');
    });
    assert.equal((await tryFromElsewhere(true))?.id, member.id, 'free after the commit');
  });
});

describe(`the migration to canonical documents on ${databaseLabel}`, () => {
  let warn: ReturnType<typeof mock.method>;
  beforeEach(() => {
    warn = mock.method(console, 'warn', () => {});
  });
  afterEach(() => warn.mock.restore());

  /** A row as an older import or a hand edit left it. */
  async function insertRaw(document: string, memberNumber: string): Promise<number> {
    const { rows } = await sql<{ id: number }>`
      insert into members (document, member_number, first_name, last_name)
      values (${document}, ${memberNumber}, 'Ana', 'Pérez') returning id`.execute(db);
    return (rows[0] as { id: number }).id;
  }
  async function storedOf(id: number) {
    return db
      .selectFrom('members')
      .select(['document', 'member_number'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }

  it('rewrites a leading-zero document and member number, and the member is found again', async () => {
    const id = await insertRaw('0123456', '00042');
    assert.equal(await findMemberByDocument(db, '0123456'), undefined, 'lost before');

    await canonicalDocuments.up(db);

    assert.deepEqual(await storedOf(id), { document: '123456', member_number: '42' });
    assert.equal((await findMemberByDocument(db, '0123456'))?.id, id);
    assert.equal((await findMemberByIdentifier(db, '042'))?.id, id);
    assert.equal(warn.mock.callCount(), 0, 'nothing to report');
    await canonicalDocuments.up(db);
    assert.deepEqual(await storedOf(id), { document: '123456', member_number: '42' });
  });

  it('leaves a value whose canonical form another member holds, and reports it without the document', async () => {
    const holder = await insertRaw('234567', '50');
    const taken = await insertRaw('0234567', '0050');
    const twinA = await insertRaw('0345678', '60');
    const twinB = await insertRaw('00345678', '61');
    const untouched = await insertRaw('4567890', '0');

    await canonicalDocuments.up(db);

    assert.deepEqual(await storedOf(taken), { document: '0234567', member_number: '0050' });
    assert.deepEqual(await storedOf(twinA), { document: '0345678', member_number: '60' });
    assert.deepEqual(await storedOf(twinB), { document: '00345678', member_number: '61' });
    assert.deepEqual(await storedOf(holder), { document: '234567', member_number: '50' });
    assert.deepEqual(await storedOf(untouched), { document: '4567890', member_number: '0' });
    const reported = await db
      .selectFrom('audit_events')
      .select(['type', 'outcome', 'member_id', 'detail'])
      .execute();
    const report = (member: number | null, column: string, heldBy: number | null) => ({
      member,
      detail: { migration: '2026-12-02-005-canonical-documents', column, heldBy },
    });
    /** Reports in a stable order: by member, then column. */
    const inOrder = (reports: { member: number | null; detail: unknown }[]) =>
      reports
        .map((r) => ({ key: `${r.member}:${(r.detail as { column: string }).column}`, ...r }))
        .sort((x, y) => x.key.localeCompare(y.key));
    assert.deepEqual(
      inOrder(reported.map((r) => ({ member: r.member_id, detail: r.detail }))),
      inOrder([
        report(taken, 'document', holder),
        report(taken, 'member_number', holder),
        report(twinA, 'document', null),
        report(twinB, 'document', null),
      ]),
    );
    assert.ok(reported.every((r) => r.type === 'identifier_conflict' && r.outcome === 'refused'));
    assert.equal(warn.mock.callCount(), 1);
    const line = String(warn.mock.calls[0]?.arguments[0]);
    assert.match(line, /left 3 documents and 1 member_number with leading zeros/);
    assert.match(line, /npm run audit -- --type identifier_conflict/);
    assert.doesNotMatch(line, /234567|345678/, 'no document in the log');
  });
});
