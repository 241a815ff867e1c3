// Imports the member registry from CSV: streams the file (registry-csv.ts:
// plain lines split directly, the rest by csv-parse), validates each line,
// and upserts by document in batches, one transaction per batch; the next
// batch is read and validated while one is written. A bad line is rejected
// with its line number and the import goes on; only an unreadable file, a
// wrong header or broken CSV syntax stops it.
// A registry row never merges into the demo member: it replaces it (its
// public password and its sessions go). See docs/decisions/006-registry-import.md
// and 013-demo-member.md.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CsvError } from 'csv-parse';
import { sql, type Transaction } from 'kysely';
import { recordAudit, systemActor } from '../audit/record.ts';
import { type Clock, systemClock } from '../auth/clock.ts';
import type { Database, Schema } from '../db/schema.ts';
import { endAccessOf, REMOVE_DEMO_COMMAND } from './demo.ts';
import { FirstLines } from './first-lines.ts';
import { MAX_RECORD_CHARACTERS, RegistryCsvReader } from './registry-csv.ts';
import { textArrayLiteral } from './text-array.ts';
import {
  describeHeaderMismatch,
  EXPECTED_HEADER,
  type MemberRow,
  validateRow,
} from './validate-row.ts';

/** A batch is written in ≈ 50 ms on PostgreSQL: few commits and statements, short transactions. */
export const DEFAULT_BATCH_SIZE = 5000;
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
  /** Rows per upsert statement and transaction (default 5000). */
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
  const reader = new RegistryCsvReader();
  let consuming: Promise<void> | undefined;
  try {
    await pipeline(
      input,
      (bytes: AsyncIterable<Buffer | string>) => reader.read(bytes),
      (chunks) => {
        consuming = run.consume(chunks);
        return consuming;
      },
    );
  } catch (error) {
    // pipeline rejects at the first error of any stream, while the consumer
    // may still be writing a batch: that batch is committed and reported
    // before the import stops. And on Node 20, when the consumer throws while
    // the parser still holds records, pipeline rejects with an AbortError
    // instead of the consumer's error: the consumer's own error is the real one.
    const consumerError = await consuming?.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    throw translateStreamError(consumerError ?? error, reader);
  }
  return run.counts;
}

/** Lines read together, written in one transaction, reported together. */
interface Batch {
  /** Data lines read into this batch. */
  lines: number;
  /** Valid rows, in line order, not yet checked for member numbers. */
  pending: PendingRow[];
  /** Rejected lines, sorted by line before they are reported. */
  rejections: Rejection[];
}

const emptyBatch = (): Batch => ({ lines: 0, pending: [], rejections: [] });

class RegistryImport {
  readonly counts: ImportCounts = { rows: 0, inserted: 0, updated: 0, unchanged: 0, rejected: 0 };
  #headerSeen = false;
  /** The batch being read. */
  #reading: Batch = emptyBatch();
  /** The previous batch's write, still running while the next batch is read. */
  #writing: Promise<void> = Promise.resolve();
  // Both are canonical digits (ADR 018: no leading zeros), so as numbers they
  // stay distinct: documents have at most 8 digits, member numbers 12.
  #documentLines = new FirstLines();
  #memberNumberLines = new FirstLines();
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

  async consume(chunks: AsyncIterable<string[][]>): Promise<void> {
    try {
      for await (const records of chunks) {
        for (const record of records) {
          const line = Number(record.pop());
          if (!this.#headerSeen) {
            this.checkHeader(record);
            continue;
          }
          const batch = this.#reading;
          this.addLine(batch, line, record);
          if (batch.pending.length >= this.#batchSize || batch.rejections.length >= this.#batchSize)
            await this.startWriting();
        }
      }
      if (!this.#headerSeen)
        throw new ImportError(
          'header',
          `the file is empty; its first line must be the header "${EXPECTED_HEADER.join(',')}"`,
        );
      await this.startWriting();
    } finally {
      // Whatever stops the reading (broken CSV, a file error), the batch
      // being written is committed and reported first; its own failure,
      // which came first, wins.
      await this.#writing;
    }
  }

  private checkHeader(fields: string[]): void {
    const mismatch = describeHeaderMismatch(fields);
    if (mismatch) throw new ImportError('header', mismatch);
    this.#headerSeen = true;
  }

  private addLine(batch: Batch, line: number, fields: string[]): void {
    batch.lines += 1;
    const check = validateRow(fields);
    // Every line with a readable document claims it, even when rejected for
    // another cell: a later line for the same person is then ambiguous too.
    const document = check.ok ? check.row.document : check.document;
    const firstLine = document === null ? undefined : this.claimDocument(document, line);
    if (firstLine !== undefined) {
      batch.rejections.push({
        line,
        reason: `duplicate document in this file, first seen on line ${firstLine}`,
      });
    } else if (!check.ok) {
      batch.rejections.push({ line, reason: check.reason });
    } else {
      batch.pending.push({ line, row: check.row });
    }
  }

  /** Records the document's first line; returns that earlier line when it was already seen. */
  private claimDocument(document: string, line: number): number | undefined {
    return this.#documentLines.claim(Number(document), line);
  }

  /**
   * Hands the batch read to the database once the previous one is committed,
   * and returns without waiting for it: the next batch is read meanwhile.
   * Batches are still written one at a time and in order.
   */
  private async startWriting(): Promise<void> {
    const batch = this.#reading;
    this.#reading = emptyBatch();
    await this.#writing;
    if (this.options.signal?.aborted)
      throw new ImportError('interrupted', 'the import was interrupted');
    const writing = this.write(batch);
    // A failure is thrown by the next await of #writing, not left unhandled meanwhile.
    writing.catch(() => {});
    this.#writing = writing;
  }

  /** Writes one batch in one transaction, then counts and reports it. */
  private async write(batch: Batch): Promise<void> {
    const { pending } = batch;
    if (pending.length === 0 && batch.rejections.length === 0) return;
    if (pending.length > 0) {
      const now = this.#clock.now();
      this.#demoDocuments ??= await findDemoDocuments(this.db);
      const demoDocuments = this.#demoDocuments;
      const written = await this.db.transaction().execute(async (trx) => {
        await useIndexLookups(trx);
        const holders = await findMemberNumberHolders(trx, pending);
        const accepted = this.keepFreeMemberNumbers(batch, holders);
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
    this.counts.rows += batch.lines;
    this.reportRejections(batch.rejections);
    this.options.onProgress?.({ ...this.counts });
  }

  /**
   * Drops (and rejects) the rows whose member number belongs to another
   * member, in the database or on an earlier line of this file, so the
   * upsert never meets a unique violation that would abort the batch.
   */
  private keepFreeMemberNumbers(batch: Batch, holders: Map<string, string>): MemberRow[] {
    const accepted: MemberRow[] = [];
    for (const { line, row } of batch.pending) {
      const number = Number(row.memberNumber);
      const claimedOn = this.#memberNumberLines.get(number);
      const holder = holders.get(row.memberNumber);
      if (claimedOn !== undefined) {
        batch.rejections.push({
          line,
          reason: `member_number ${row.memberNumber} is already used on line ${claimedOn} of this file`,
        });
      } else if (holder !== undefined && holder !== row.document) {
        const demo = this.#demoDocuments?.has(holder)
          ? ` (the demo member: remove it with ${REMOVE_DEMO_COMMAND})`
          : '';
        batch.rejections.push({
          line,
          reason: `member_number ${row.memberNumber} already belongs to the member with document ${holder}${demo}`,
        });
      } else {
        this.#memberNumberLines.claim(number, line);
        accepted.push(row);
      }
    }
    return accepted;
  }

  private reportRejections(rejections: Rejection[]): void {
    rejections.sort((a, b) => a.line - b.line);
    this.counts.rejected += rejections.length;
    for (const rejection of rejections) this.options.onReject?.(rejection);
  }
}

function checkBatchSize(size: number): number {
  if (!Number.isInteger(size) || size < 1 || size > MAX_BATCH_SIZE)
    throw new RangeError(`batchSize must be a whole number from 1 to ${MAX_BATCH_SIZE}`);
  return size;
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

/**
 * Each lookup below probes an index with a whole batch of values. Without
 * statistics (a registry being imported for the first time) or with values
 * in random order, the planner prices those probes as random reads and picks
 * a full scan of members instead, per batch: a fresh million-row import took
 * minutes that way. The probes hit cached pages, so the scan is never worth
 * it; this turns it off for the batch's transaction only.
 */
async function useIndexLookups(trx: Transaction<Schema>): Promise<void> {
  await sql`set local enable_seqscan = off`.execute(trx);
}

/**
 * Member number → document, for the batch's member numbers held in the
 * registry by another document than the batch's row with that number: the
 * only holders that can refuse a row (a member holding their own number is
 * the common case, and is not read back). A number on several rows of the
 * batch is matched against none of them, so each of those rows sees its holder.
 */
async function findMemberNumberHolders(
  trx: Transaction<Schema>,
  pending: PendingRow[],
): Promise<Map<string, string>> {
  const numbers: string[] = [];
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const { row } of pending) {
    if (seen.has(row.memberNumber)) repeated.add(row.memberNumber);
    seen.add(row.memberNumber);
    numbers.push(row.memberNumber);
  }
  const pairs =
    repeated.size === 0 ? pending : pending.filter(({ row }) => !repeated.has(row.memberNumber));
  const pairedNumbers = textArrayLiteral(pairs.map(({ row }) => row.memberNumber));
  const pairedDocuments = textArrayLiteral(pairs.map(({ row }) => row.document));
  const rows = await trx
    .selectFrom('members')
    .select(['member_number', 'document'])
    .where(sql<boolean>`member_number = any(${textArrayLiteral(numbers)}::text[])`)
    .where(
      sql<boolean>`(member_number, document) not in (
        select n, d from unnest(${pairedNumbers}::text[], ${pairedDocuments}::text[]) as pair(n, d))`,
    )
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
  const column = <K extends keyof MemberRow>(key: K) =>
    textArrayLiteral(rows.map((row) => row[key]));
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
function translateStreamError(error: unknown, reader: RegistryCsvReader): unknown {
  if (error instanceof ImportError) return error;
  if (error instanceof CsvError) return describeCsvError(error, reader);
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

/** csv-parse numbers lines from where it took over reading; the reader knows from which line. */
function describeCsvError(error: CsvError, reader: RegistryCsvReader): ImportError {
  const { lastLine, lineOffset } = reader;
  const line = typeof error.lines === 'number' ? lineOffset + error.lines : lastLine + 1;
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
