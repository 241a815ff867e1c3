// Many audit events in one insert, for work done in batches (a batch of
// password requests, ADR 021). Each row is exactly the one recordAudit
// writes: it is read back from auditInsert's statement, so record.ts keeps
// the only mapping from an event to its row.
import type { InsertQueryNode, ValuesNode } from 'kysely';
import type { Clock } from '../auth/clock.ts';
import type { Database } from '../db/schema.ts';
import { type AuditEvent, auditInsert } from './record.ts';

/** The row auditInsert would insert for `event`, as column → value. */
function auditRow(db: Database, clock: Clock, event: AuditEvent): Record<string, unknown> {
  const node: InsertQueryNode = auditInsert(db, clock, event).toOperationNode();
  const list = (node.values as ValuesNode | undefined)?.values[0];
  if (!node.columns || list?.kind !== 'PrimitiveValueListNode')
    throw new Error('auditInsert no longer makes one row of plain values');
  const values = list.values;
  return Object.fromEntries(node.columns.map((column, i) => [column.column.name, values[i]]));
}

/** recordAudit for many events in one statement, unexecuted; `events` must not be empty. */
export function auditInsertMany(db: Database, clock: Clock, events: readonly AuditEvent[]) {
  return db
    .insertInto('audit_events')
    .values(events.map((event) => auditRow(db, clock, event)) as never[]);
}
