// Finding a member by what a member or an operator typed: one module for the
// login, recovery, registration and the operator commands (ADR 018).
// Documents and member numbers are compared in their canonical form (digits,
// no leading zeros), which is also the form the registry import stores.
import { type RawBuilder, sql } from 'kysely';
import { withoutCheckDigit, withoutLeadingZeros } from '../auth/documents.ts';
import type { Database, Member } from '../db/schema.ts';

export interface FindOptions {
  /** Lock the row found (SELECT … FOR UPDATE) until the transaction ends. */
  lock?: boolean;
}

/** One exact lookup on a unique column; locked when asked. */
async function findBy(
  db: Database,
  column: 'document' | 'member_number',
  value: string,
  lock: boolean,
): Promise<Member | undefined> {
  const query = db.selectFrom('members').selectAll().where(column, '=', value);
  return (lock ? query.forUpdate() : query).executeTakeFirst();
}

/**
 * The member whose document is `document`: digits (normalizeDocument), with
 * or without leading zeros. No member-number or check-digit fallback: the
 * login takes a document only.
 */
export function findMemberByDocument(
  db: Database,
  document: string,
  { lock = false }: FindOptions = {},
): Promise<Member | undefined> {
  return findBy(db, 'document', withoutLeadingZeros(document), lock);
}

/**
 * The member by document, else by member number, else, for 8 digits ending
 * in their own check digit (SPEC §3: members often type it), by the document
 * without it. `identifier` is digits, with or without leading zeros. With
 * `lock`, the row found is locked so that one member's requests are counted
 * one at a time.
 */
export async function findMemberByIdentifier(
  db: Database,
  identifier: string,
  { lock = false }: FindOptions = {},
): Promise<Member | undefined> {
  const canonical = withoutLeadingZeros(identifier);
  const base = withoutCheckDigit(canonical);
  const lookups: ['document' | 'member_number', string][] = [
    ['document', canonical],
    ['member_number', canonical],
    ...(base ? [['document', base] as ['document', string]] : []),
  ];
  for (const [column, value] of lookups) {
    const member = await findBy(db, column, value, lock);
    if (member) return member;
  }
  return undefined;
}

/**
 * findMemberByIdentifier for many identifiers in one statement, locking
 * every row found until the transaction ends (for a batch of password
 * requests, ADR 021). Rows are locked in the order of their ids, so two
 * batches that share members wait for each other instead of deadlocking.
 * The answer maps each identifier to its member (the same one
 * findMemberByIdentifier finds); an identifier nobody has is absent.
 */
export async function lockMembersByIdentifiers(
  db: Database,
  identifiers: readonly string[],
): Promise<Map<string, Member>> {
  const lookups = new Map(identifiers.map((identifier) => [identifier, lookupsOf(identifier)]));
  const documents = new Set<string>();
  const numbers = new Set<string>();
  for (const list of lookups.values())
    for (const [column, value] of list) (column === 'document' ? documents : numbers).add(value);
  const found = new Map<string, Member>();
  if (lookups.size === 0) return found;
  const rows = await db
    .selectFrom('members')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('document', '=', eb.fn.any(eb.val([...documents]))),
        eb('member_number', '=', eb.fn.any(eb.val([...numbers]))),
      ]),
    )
    .orderBy('id')
    .forUpdate()
    .execute();
  const byDocument = new Map(rows.map((row) => [row.document, row]));
  const byNumber = new Map(rows.map((row) => [row.member_number, row]));
  for (const [identifier, list] of lookups) {
    for (const [column, value] of list) {
      const member = (column === 'document' ? byDocument : byNumber).get(value);
      if (member) {
        found.set(identifier, member);
        break;
      }
    }
  }
  return found;
}

/** What findMemberByIdentifier looks up for `identifier`, in its order. */
function lookupsOf(identifier: string): ['document' | 'member_number', string][] {
  const canonical = withoutLeadingZeros(identifier);
  const base = withoutCheckDigit(canonical);
  return [
    ['document', canonical],
    ['member_number', canonical],
    ...(base ? [['document', base] as ['document', string]] : []),
  ];
}

/**
 * The member by document as one JSON column of another statement's row, so
 * the login reads it in the same round trip as its throttles (ADR 019).
 * Read the value with memberFromJson.
 */
export function memberByDocumentColumn(document: string): RawBuilder<unknown> {
  return sql<unknown>`(select row_to_json(m) from members m where m.document = ${withoutLeadingZeros(document)})`;
}

/** The member of memberByDocumentColumn's value (JSON gives its timestamps as text). */
export function memberFromJson(value: unknown): Member | undefined {
  if (value === null || value === undefined) return undefined;
  const row = (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, unknown>;
  const date = (field: unknown) => (field === null ? null : new Date(field as string));
  return {
    ...(row as unknown as Member),
    password_changed_at: date(row.password_changed_at),
    created_at: date(row.created_at) as Date,
    updated_at: date(row.updated_at) as Date,
  };
}
