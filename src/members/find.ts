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
