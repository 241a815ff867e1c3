// Imports the member registry from CSV: streams the file through csv-parse,
// validates each line, and upserts by document in batches, one transaction
// per batch. A bad line is rejected with its line number and the import goes
// on; only an unreadable file, a wrong header or broken CSV syntax stops it.
// A registry row never merges into the demo member: it replaces it (its
// public password and its sessions go). See docs/decisions/006-registry-import.md
// and 013-demo-member.md.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError, parse } from 'csv-parse';
import { sql, type Transaction } from 'kysely';
import { recordAudit, systemActor } from '../audit/record.ts';
import { type Clock, systemClock } from '../auth/clock.ts';
import type { Database, Schema } from '../db/schema.ts';
import { endAccessOf, REMOVE_DEMO_COMMAND } from './demo.ts';
import {
  describeHeaderMismatch,
  EXPECTED_HEADER,
  type MemberRow,
  validateRow,
} from './validate-row.ts';

export const DEFAULT_BATCH_SIZE = 1000;
const MAX_RECORD_CHARACTERS = 10_000;
/** Rows travel as one array per column, so no parameter limit applies; this bounds one transaction. */
export const MAX_BATCH_SIZE = 50_000;

export interface ImportCounts {
  /** Data lines read (the header and empty lines are not counted). */
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
}

export interface Rejection {
  /** Physical line of the file where the record starts; the header is line 1. */
  line: number;
  reason: string;
}

export interface ImportOptions {
  /** Rows per upsert statement and transaction (default 1000). */
  batchSize?: number;
  /** Called in line order, after the batch holding the line is committed. */
  onReject?: (rejection: Rejection) => void;
  /** Called after every committed batch. */
  onProgress?: (counts: Readonly<ImportCounts>) => void;
  /** Source of created_at / updated_at (default: the system clock). */
  clock?: Clock;
  /** Stops the import between batches; what was committed stays. */
  signal?: AbortSignal;
}

export type ImportErrorCode = 'unreadable' | 'header' | 'malformed' | 'interrupted';

/** A reason to stop the whole import, in a sentence an operator can act on. */
export class ImportError extends Error {
  constructor(
    readonly code: ImportErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ImportError';
  }
}

interface PendingRow {
  line: number;
  row: MemberRow;
}

/** Reads `source` (a path or a stream of UTF-8 bytes) and upserts its members. */
export async function importMembers(
  db: Database,
  source: string | Readable,
  options: ImportOptions = {},
): Promise<ImportCounts> {
  const run = new RegistryImport(db, options);
  const input = typeof source === 'string' ? createReadStream(source) : source;
  const parsed = { lastLine: 0 };
  // On Node 20, when the consumer throws while the parser still holds
  // records, pipeline rejects with an AbortError instead of the consumer's
  // error; keep the real one.
  let consumerError: unknown;
  try {
    await pipeline(input, createCsvParser(parsed), async (records: AsyncIterable<string[]>) => {
      try {
        await run.consume(records);
      } catch (error) {
        consumerError = error;
        throw error;
      }
    });
  } catch (error) {
    throw translateStreamError(consumerError ?? error, parsed.lastLine);
  }
  return run.counts;
}

/** `parsed.lastLine` follows the parser, which may run ahead of the consumer. */
function createCsvParser(parsed: { lastLine: number }) {
  return parse({
    bom: true,
    // Cells are trimmed again by the validators; this also tolerates
    // spaces between a closing quote and the comma.
    trim: true,
    skip_empty_lines: true,
    // A line with a wrong number of cells is one rejected line, not a broken file.
    relax_column_count: true,
    // Keeps a stray quote inside an unquoted cell (O"Brien) instead of failing the file.
    relax_quotes: true,
    // A registry line is well under 1000 characters; a longer record is a
    // quote that never closes, swallowing the rest of the file into memory.
    max_record_size: MAX_RECORD_CHARACTERS,
    on_record: (record, context) => {
      parsed.lastLine = context.lines;
      // The record's first line travels as an extra last cell, which
      // consume() pops: cheaper than the parser's per-record info object,
      // and the typings do not let on_record change the record type.
      // context.lines is where the record ends; a quoted cell spanning
      // lines moves its start up.
      record.push(String(context.lines - countLineBreaks(record)));
      return record;
    },
  });
}

class RegistryImport {
  readonly counts: ImportCounts = { rows: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
  #headerSeen = false;
  #pending: PendingRow[] = [];
  #rejections: Rejection[] = [];
  // A million rows fit: documents are at most 8 digits, so they are stored as
  // small integers; member numbers stay strings because leading zeros count.
  #documentLines = new Map<number, number>();
  #memberNumberLines = new Map<string, number>();
  /** Documents of the demo members, read once at the first batch: nearly always none. */
  #demoDocuments: Set<string> | undefined;
  readonly #batchSize: number;
  readonly #clock: Clock;

  constructor(
    private readonly db: Database,
    private readonly options: ImportOptions,
  ) {
    this.#batchSize = checkBatchSize(options.batchSize ?? DEFAULT_BATCH_SIZE);
    this.#clock = options.clock ?? systemClock;
  }

  async consume(records: AsyncIterable<string[]>): Promise<void> {
    for await (const record of records) {
      const line = Number(record.pop());
      if (!this.#headerSeen) {
        this.checkHeader(record);
        continue;
      }
      this.addLine(line, record);
      if (this.#pending.length >= this.#batchSize || this.#rejections.length >= this.#batchSize)
        await this.flush();
    }
    if (!this.#headerSeen)
      throw new ImportError(
        'header',
        `the file is empty; its first line must be the header "${EXPECTED_HEADER.join(',')}"`,
      );
    await this.flush();
  }

  private checkHeader(fields: string[]): void {
    const mismatch = describeHeaderMismatch(fields);
    if (mismatch) throw new ImportError('header', mismatch);
    this.#headerSeen = true;
  }

  private addLine(line: number, fields: string[]): void {
    this.counts.rows += 1;
    const check = validateRow(fields);
    // Every line with a readable document claims it, even when rejected for
    // another cell: a later line for the same person is then ambiguous too.
    const document = check.ok ? check.row.document : check.document;
    const firstLine = document === null ? undefined : this.claimDocument(document, line);
    if (firstLine !== undefined) {
      this.reject(line, `duplicate document in this file, first seen on line ${firstLine}`);
    } else if (!check.ok) {
      this.reject(line, check.reason);
    } else {
      this.#pending.push({ line, row: check.row });
    }
  }

  /** Records the document's first line; returns that earlier line when it was already seen. */
  private claimDocument(document: string, line: number): number | undefined {
    const key = Number(document);
    const firstLine = this.#documentLines.get(key);
    if (firstLine === undefined) this.#documentLines.set(key, line);
    return firstLine;
  }

  private reject(line: number, reason: string): void {
    this.#rejections.push({ line, reason });
  }

  private async flush(): Promise<void> {
    if (this.options.signal?.aborted)
      throw new ImportError('interrupted', 'the import was interrupted');
    const pending = this.#pending;
    if (pending.length === 0 && this.#rejections.length === 0) return;
    this.#pending = [];
    if (pending.length > 0) {
      const now = this.#clock.now();
      this.#demoDocuments ??= await findDemoDocuments(this.db);
      const demoDocuments = this.#demoDocuments;
      const written = await this.db.transaction().execute(async (trx) => {
        const holders = await findMemberNumberHolders(trx, pending);
        const accepted = this.keepFreeMemberNumbers(pending, holders);
        const replacing = accepted.filter((row) => demoDocuments.has(row.document));
        const demoIds = replacing.length > 0 ? await findDemoMemberIds(trx, replacing) : [];
        const upserted = await upsertMembers(trx, accepted, now);
        if (demoIds.length > 0) await endDemoAccess(trx, demoIds, this.#clock);
        return { accepted: accepted.length, ...upserted };
      });
      this.counts.inserted += written.inserted;
      this.counts.updated += written.updated;
      this.counts.unchanged += written.accepted - written.inserted - written.updated;
    }
    this.reportRejections();
    this.options.onProgress?.({ ...this.counts });
  }

  /**
   * Drops (and rejects) the rows whose member number belongs to another
   * member, in the database or on an earlier line of this file, so the
   * upsert never meets a unique violation that would abort the batch.
   */
  private keepFreeMemberNumbers(pending: PendingRow[], holders: Map<string, string>): MemberRow[] {
    const accepted: MemberRow[] = [];
    for (const { line, row } of pending) {
      const claimedOn = this.#memberNumberLines.get(row.memberNumber);
      const holder = holders.get(row.memberNumber);
      if (claimedOn !== undefined) {
        this.reject(
          line,
          `member_number ${row.memberNumber} is already used on line ${claimedOn} of this file`,
        );
      } else if (holder !== undefined && holder !== row.document) {
        const demo = this.#demoDocuments?.has(holder)
          ? ` (the demo member: remove it with ${REMOVE_DEMO_COMMAND})`
          : '';
        this.reject(
          line,
          `member_number ${row.memberNumber} already belongs to the member with document ${holder}${demo}`,
        );
      } else {
        this.#memberNumberLines.set(row.memberNumber, line);
        accepted.push(row);
      }
    }
    return accepted;
  }

  private reportRejections(): void {
    const rejections = this.#rejections.sort((a, b) => a.line - b.line);
    this.#rejections = [];
    this.counts.rejected += rejections.length;
    for (const rejection of rejections) this.options.onReject?.(rejection);
  }
}

function checkBatchSize(size: number): number {
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE)
    throw new RangeError(`batchSize must be a whole number from 1 to ${MAX_BATCH_SIZE}`);
  return size;
}

/** Line breaks inside quoted cells: the record started that many lines earlier. */
function countLineBreaks(fields: string[]): number {
  let count = 0;
  for (const field of fields) {
    if (!field.includes('\n')) continue;
    for (const char of field) if (char === '\n') count += 1;
  }
  return count;
}

/** Documents of the demo members (one query per import; the partial index makes it cheap). */
async function findDemoDocuments(db: Database): Promise<Set<string>> {
  const rows = await db.selectFrom('members').select('document').where('demo', '=', true).execute();
  return new Set(rows.map((row) => row.document));
}

/** Ids of the demo members this batch is about to replace, read before the upsert clears the mark. */
async function findDemoMemberIds(trx: Transaction<Schema>, rows: MemberRow[]): Promise<number[]> {
  const documents = rows.map((row) => row.document);
  const found = await trx
    .selectFrom('members')
    .select('id')
    .where('demo', '=', true)
    .where(sql<boolean>`document = any(${documents}::text[])`)
    .execute();
  return found.map((row) => row.id);
}

/**
 * The demo member was just replaced by a real one (upsertMembers cleared the
 * public password): whoever logged in with it is logged out, and its unused
 * links and codes die. Audited as a staff action on the member.
 */
async function endDemoAccess(trx: Transaction<Schema>, ids: number[], clock: Clock): Promise<void> {
  for (const memberId of ids) {
    const sessions = await endAccessOf(trx, [memberId], clock.now());
    await recordAudit(trx, clock, {
      type: 'staff_action',
      outcome: 'ok',
      memberId,
      actor: systemActor('cli:members:import'),
      detail: { action: 'replace_demo_member', sessions },
    });
  }
}

/** Member number → document, for the batch's member numbers already in the registry. */
async function findMemberNumberHolders(
  trx: Transaction<Schema>,
  pending: PendingRow[],
): Promise<Map<string, string>> {
  const numbers = pending.map(({ row }) => row.memberNumber);
  const rows = await trx
    .selectFrom('members')
    .select(['member_number', 'document'])
    .where(sql<boolean>`member_number = any(${numbers}::text[])`)
    .execute();
  return new Map(rows.map((r) => [r.member_number, r.document]));
}

/** In the conflict update: a member keeps their password, the demo member loses its public one. */
const PASSWORD_HASH_UNLESS_DEMO = sql<string | null>`
  case when members.demo then null else members.password_hash end`;
const PASSWORD_CHANGED_AT_UNLESS_DEMO = sql<Date | null>`
  case when members.demo then null else members.password_changed_at end`;

/**
 * One statement for the whole batch. Rows travel as one array per column
 * (unnest): nine parameters whatever the batch size, cheaper to send and plan
 * than a VALUES list binding nine parameters a row. The conflict update only
 * fires when a registry column really differs, so unchanged rows are neither
 * rewritten nor returned; `xmax = 0` tells a fresh insert from an update.
 * Passwords and created_at are kept, except on the demo member: a registry
 * row replaces it (always updated, even with equal values), and its public
 * password is cleared, so the real member sets their own.
 */
async function upsertMembers(
  trx: Transaction<Schema>,
  rows: MemberRow[],
  now: Date,
): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
  const column = <K extends keyof MemberRow>(key: K) => rows.map((row) => row[key]);
  const written = await trx
    .insertInto('members')
    .columns([
      'document',
      'member_number',
      'first_name',
      'last_name',
      'email',
      'mobile',
      'status',
      'created_at',
      'updated_at',
    ])
    .expression(
      sql`select d, n, f, l, e, m, s, ${now}::timestamptz, ${now}::timestamptz
        from unnest(${column('document')}::text[], ${column('memberNumber')}::text[],
          ${column('firstName')}::text[], ${column('lastName')}::text[], ${column('email')}::text[],
          ${column('mobile')}::text[], ${column('status')}::text[]) as t(d, n, f, l, e, m, s)`,
    )
    .onConflict((oc) =>
      oc
        .column('document')
        .doUpdateSet((eb) => ({
          member_number: eb.ref('excluded.member_number'),
          first_name: eb.ref('excluded.first_name'),
          last_name: eb.ref('excluded.last_name'),
          email: eb.ref('excluded.email'),
          mobile: eb.ref('excluded.mobile'),
          status: eb.ref('excluded.status'),
          updated_at: eb.ref('excluded.updated_at'),
          password_hash: PASSWORD_HASH_UNLESS_DEMO,
          password_changed_at: PASSWORD_CHANGED_AT_UNLESS_DEMO,
          demo: false,
        }))
        .where(
          sql<boolean>`members.demo or (members.member_number, members.first_name, members.last_name, members.email, members.mobile, members.status)
            is distinct from
            (excluded.member_number, excluded.first_name, excluded.last_name, excluded.email, excluded.mobile, excluded.status)`,
        ),
    )
    .returning(sql<boolean>`xmax = 0`.as('inserted'))
    .execute();
  const inserted = written.filter((row) => row.inserted).length;
  return { inserted, updated: written.length - inserted };
}

/** Turns parser and file errors into ImportErrors; database errors pass through. */
function translateStreamError(error: unknown, lastLine: number): unknown {
  if (error instanceof ImportError) return error;
  if (error instanceof CsvError) return describeCsvError(error, lastLine);
  const code = (error as NodeJS.ErrnoException).code;
  const path = (error as NodeJS.ErrnoException).path;
  const file = path ? `"${path}"` : 'the file';
  switch (code) {
    case 'ENOENT':
      return new ImportError('unreadable', `${file} does not exist`);
    case 'EISDIR':
      return new ImportError('unreadable', `${file} is a folder, not a CSV file`);
    case 'EACCES':
    case 'EPERM':
      return new ImportError('unreadable', `${file} cannot be read (permission denied)`);
  }
  return error;
}

function describeCsvError(error: CsvError, lastLine: number): ImportError {
  const line = typeof error.lines === 'number' ? error.lines : lastLine + 1;
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      // The parser notices at the end of the file; the quote opened in the
      // first record it could not finish.
      return new ImportError(
        'malformed',
        `malformed CSV: a quoted cell that starts on line ${lastLine + 1} or later is never closed`,
      );
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE':
      return new ImportError(
        'malformed',
        `malformed CSV on line ${line}: a closing quote is followed by other characters before the comma`,
      );
    case 'CSV_MAX_RECORD_SIZE':
      return new ImportError(
        'malformed',
        `malformed CSV: the record that starts on line ${lastLine + 1} is longer than ${MAX_RECORD_CHARACTERS} characters by line ${line} (a quote that is never closed, or not a CSV file)`,
      );
    default:
      return new ImportError('malformed', `malformed CSV on line ${line}: ${error.message}`);
  }
}
