// Documents and member numbers in canonical form (ADR 018): digits without
// leading zeros, the form every lookup uses since. A stored "0123456" could
// never be found: the login and recovery strip the zeros of what is typed.
//
// Each stored value with leading zeros is rewritten to its canonical form
// when no other row holds that form already and no other zero-led row would
// take it too. Every other one is a conflict: left as it is, reported as an
// `identifier_conflict` audit event on its member (detail: the column and the
// id of the member holding the canonical form, or null when several zero-led
// rows share it), and counted in one warning line (no document in it).
// Data only, so it cannot be undone: `down` does nothing.
// Frozen once landed: never import application code here.
import { type Kysely, sql } from 'kysely';

const NAME = '2026-12-02-005-canonical-documents';
const COLUMNS = ['document', 'member_number'] as const;

// biome-ignore lint/suspicious/noExplicitAny: migrations are frozen in time and typed loosely on purpose
export async function up(db: Kysely<any>): Promise<void> {
  const conflicts: string[] = [];
  for (const column of COLUMNS) {
    await rewriteToCanonical(db, column);
    const left = await reportConflicts(db, column);
    if (left > 0) conflicts.push(`${left} ${column}${left === 1 ? '' : 's'}`);
  }
  if (conflicts.length > 0) {
    console.warn(
      `migration ${NAME}: left ${conflicts.join(' and ')} with leading zeros, because another member holds the same value without them; see npm run audit -- --type identifier_conflict, and docs/decisions/018-document-rule.md`,
    );
  }
}

// biome-ignore lint/suspicious/noExplicitAny: see up()
export async function down(_db: Kysely<any>): Promise<void> {
  // The leading zeros removed are not kept anywhere: nothing to restore.
}

/** `row.column` without its leading zeros; all zeros stay "0". */
function canonical(row: string, column: string) {
  return sql`coalesce(nullif(ltrim(${sql.ref(`${row}.${column}`)}, '0'), ''), '0')`;
}

/** Whether `row.column` is digits only with at least one leading zero to remove. */
function zeroLed(row: string, column: string) {
  return sql`${sql.ref(`${row}.${column}`)} ~ '^0[0-9]+$'`;
}

/** Rewrites each zero-led value whose canonical form is free and wanted by it alone. */
// biome-ignore lint/suspicious/noExplicitAny: see up()
async function rewriteToCanonical(db: Kysely<any>, column: string): Promise<void> {
  await sql`
    with candidates as (
      select id, ${canonical('members', column)} as canonical,
             count(*) over (partition by ${canonical('members', column)}) as claimants
      from members
      where ${zeroLed('members', column)}
    )
    update members
    set ${sql.ref(column)} = candidates.canonical, updated_at = now()
    from candidates
    where members.id = candidates.id
      and candidates.claimants = 1
      and not exists (
        select 1 from members holder where ${sql.ref(`holder.${column}`)} = candidates.canonical
      )
  `.execute(db);
}

/** One audit event per zero-led value left; returns how many were left. */
// biome-ignore lint/suspicious/noExplicitAny: see up()
async function reportConflicts(db: Kysely<any>, column: string): Promise<number> {
  const result = await sql<{ id: number }>`
    insert into audit_events (at, type, outcome, member_id, detail)
    select now(), 'identifier_conflict', 'refused', left_as_is.id,
           jsonb_build_object(
             'migration', ${NAME}::text,
             'column', ${column}::text,
             'heldBy', (
               select holder.id from members holder
               where ${sql.ref(`holder.${column}`)} = ${canonical('left_as_is', column)}
             )
           )
    from members left_as_is
    where ${zeroLed('left_as_is', column)}
    returning id
  `.execute(db);
  return result.rows.length;
}
