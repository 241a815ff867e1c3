// Reads the registry CSV into records, each with the line where it starts.
// csv-parse knows every corner of CSV (quotes, cells spanning lines, stray
// quotes, a BOM, CR, LF or CRLF line ends) but costs ≈ 2.5 µs a line, a
// quarter of the import's own CPU at a million lines. Nearly every line of a
// registry export is plain: no quote, one line end, a sane length; such a line
// is split on commas here, which gives csv-parse's result at a fifth of its
// cost. From the first line that is not plain, csv-parse reads the rest of
// the file, so every other case keeps its exact behaviour and errors.
import { Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Options as CsvOptions, Parser } from 'csv-parse';

/** A registry line is well under 1000 characters; a longer record is a quote that never closes. */
export const MAX_RECORD_CHARACTERS = 10_000;

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const UTF16LE_BOM = Buffer.from([0xff, 0xfe]);
const NO_BYTES: Buffer = Buffer.alloc(0);

const CSV_OPTIONS: CsvOptions = {
  bom: true,
  // Cells are trimmed again by the validators; this also tolerates
  // spaces between a closing quote and the comma.
  trim: true,
  skip_empty_lines: true,
  // A line with a wrong number of cells is one rejected line, not a broken file.
  relax_column_count: true,
  // Keeps a stray quote inside an unquoted cell (O"Brien) instead of failing the file.
  relax_quotes: true,
  // A longer record is a quote that never closes, swallowing the rest of
  // the file into memory.
  max_record_size: MAX_RECORD_CHARACTERS,
};

/**
 * The pipeline stage that turns the file's bytes into arrays of records (one
 * array per chunk read, not one object per record). Each record carries the
 * physical line where it starts (the header is line 1) as an extra last
 * cell, which the consumer pops. Also tells where reading stands, for the
 * error messages.
 */
export class RegistryCsvReader {
  /** Lines read on the fast path before csv-parse took over: its line numbers count from there. */
  lineOffset = 0;
  /** Lines read on the fast path, empty ones included. */
  #line = 0;
  /** Line where the last record of the fast path ends. */
  #lastRecordLine = 0;
  /** The line end of the file, once seen: csv-parse settles on the first one it meets. */
  #lineEnd: 'lf' | 'crlf' | undefined;
  #bomSkipped = false;
  #csv: NumberedRecordParser | undefined;

  /** Line where the last record read ends: the reader may run ahead of the consumer. */
  get lastLine(): number {
    return this.#csv?.lastLine ?? this.#lastRecordLine;
  }

  async *read(source: AsyncIterable<Buffer | string>): AsyncGenerator<string[][]> {
    const input = source[Symbol.asyncIterator]();
    let pending = NO_BYTES;
    let atStart = true;
    for (;;) {
      const next = await input.next();
      if (next.done) break;
      const chunk = asBytes(next.value);
      let bytes = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      if (atStart) {
        // csv-parse looks for a BOM once it has 3 bytes (or the file ends).
        if (bytes.length < UTF8_BOM.length) {
          pending = bytes;
          continue;
        }
        atStart = false;
        // A UTF-16 file: csv-parse decodes it.
        if (startsWith(bytes, UTF16LE_BOM)) {
          yield* this.#readWithCsvParse(bytes, input);
          return;
        }
        if (startsWith(bytes, UTF8_BOM)) {
          bytes = bytes.subarray(UTF8_BOM.length);
          this.#bomSkipped = true;
        }
      }
      const { records, readUpTo, plain } = this.#splitPlainLines(bytes, false);
      if (records.length > 0) yield records;
      pending = bytes.subarray(readUpTo);
      if (!plain || pending.length > MAX_RECORD_CHARACTERS) {
        yield* this.#readWithCsvParse(pending, input);
        return;
      }
    }
    // The last line, when the file does not end with a line break.
    if (pending.length === 0) return;
    const { records, readUpTo, plain } = this.#splitPlainLines(pending, true);
    if (records.length > 0) yield records;
    if (!plain) yield* this.#readWithCsvParse(pending.subarray(readUpTo), input);
  }

  /**
   * Splits the complete plain lines at the start of `bytes` (all of them when
   * `final`, the last one may lack its line break). Stops before the first
   * line that is not plain (`plain` false) or before an incomplete last line.
   */
  #splitPlainLines(
    bytes: Buffer,
    final: boolean,
  ): { records: string[][]; readUpTo: number; plain: boolean } {
    const records: string[][] = [];
    let start = 0;
    // Positions of the next quote and CR at or after `start`; -1 when none.
    let quote = bytes.indexOf(QUOTE);
    let cr = bytes.indexOf(CR);
    while (start < bytes.length) {
      const lf = bytes.indexOf(LF, start);
      if (lf === -1 && !final) break;
      const end = lf === -1 ? bytes.length : lf;
      if (quote !== -1 && quote < start) quote = bytes.indexOf(QUOTE, start);
      if (cr !== -1 && cr < start) cr = bytes.indexOf(CR, start);
      // Quotes and long lines go to csv-parse; so do CRs that are not this file's line end
      // (checked last: the first plain line settles the file's line end).
      const simple = (quote === -1 || quote >= end) && end - start <= MAX_RECORD_CHARACTERS;
      const textEnd = simple ? this.#plainLineEnd(start, end, lf, cr) : -1;
      if (textEnd === -1) return this.#splitUpTo(records, start, false);
      this.#line += 1;
      const text = bytes.toString('utf8', start, textEnd);
      // csv-parse skips an empty line, and one of trimmable spaces only.
      if (text.trim() !== '') records.push(splitPlainLine(text, this.#line));
      start = end + 1;
    }
    return this.#splitUpTo(records, Math.min(start, bytes.length), true);
  }

  /** The result of #splitPlainLines; remembers where its last record is. */
  #splitUpTo(records: string[][], readUpTo: number, plain: boolean) {
    const last = records.at(-1);
    if (last !== undefined) this.#lastRecordLine = Number(last.at(-1));
    return { records, readUpTo, plain };
  }

  /**
   * Where the text of the line [start, end) ends, without its line end; -1
   * when a CR makes it a case for csv-parse (a CR alone, or a line end that
   * differs from the file's). `lf` is -1 for a last line without a line break.
   */
  #plainLineEnd(start: number, end: number, lf: number, cr: number): number {
    const crInLine = cr !== -1 && cr < end;
    if (lf === -1) return crInLine ? -1 : end;
    // CR LF ends the line when the line's first CR is the one just before its LF.
    const endsWithCrlf = cr === lf - 1 && cr >= start;
    if (this.#lineEnd === undefined) {
      // A CR before the first line end: csv-parse may take it for the line end.
      if (crInLine && !endsWithCrlf) return -1;
      this.#lineEnd = endsWithCrlf ? 'crlf' : 'lf';
    }
    if (this.#lineEnd === 'lf') return crInLine ? -1 : end;
    return endsWithCrlf ? cr : -1;
  }

  /** Hands `rest` and the remaining input to csv-parse, from the line the fast path stopped at. */
  async *#readWithCsvParse(
    rest: Buffer,
    input: AsyncIterator<Buffer | string>,
  ): AsyncGenerator<string[][]> {
    this.lineOffset = this.#line;
    const parser = new NumberedRecordParser(this.#line, this.#lastRecordLine, {
      ...CSV_OPTIONS,
      // A BOM only counts at the start of the file, once.
      bom: this.#line === 0 && !this.#bomSkipped,
      ...(this.#lineEnd === undefined
        ? {}
        : { record_delimiter: this.#lineEnd === 'crlf' ? '\r\n' : '\n' }),
    });
    this.#csv = parser;
    async function* remainingBytes() {
      if (rest.length > 0) yield rest;
      for (;;) {
        const next = await input.next();
        if (next.done) return;
        yield asBytes(next.value);
      }
    }
    const feeding = pipeline(Readable.from(remainingBytes()), parser);
    // A failure of either stream surfaces in the loop below (the parser is destroyed with it).
    feeding.catch(() => {});
    try {
      for await (const records of parser) yield records as string[][];
      await feeding;
    } finally {
      parser.destroy();
    }
  }
}

/** The cells of a plain line, trimmed as csv-parse trims them, then its line number. */
function splitPlainLine(text: string, line: number): string[] {
  const cells = text.split(',');
  // String.prototype.trim removes exactly the characters csv-parse trims.
  for (let i = 0; i < cells.length; i++) cells[i] = (cells[i] as string).trim();
  cells.push(String(line));
  return cells;
}

/** A stream of text (setEncoding, or strings written) still reads as its UTF-8 bytes. */
function asBytes(chunk: Buffer | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return (
    bytes.length >= prefix.length && bytes.compare(prefix, 0, prefix.length, 0, prefix.length) === 0
  );
}

/**
 * csv-parse's stream, handing records over in arrays (one per chunk of the
 * file read, instead of one stream object and one await per record), each
 * record with the line where it starts as an extra last cell. The parser's
 * `info.lines` is read as each record is pushed: cheaper than an on_record
 * hook, which builds an info object per record.
 */
export class NumberedRecordParser extends Parser {
  #records: string[][] = [];

  /**
   * `lineOffset`: lines of the file before the first byte this parser reads;
   * `lastLine`: where the last record before them ends.
   */
  constructor(
    private readonly lineOffset: number,
    /** Line where the last record parsed ends: the parser may run ahead of the consumer. */
    public lastLine: number,
    options: CsvOptions,
  ) {
    super(options);
  }

  /** csv-parse pushes each record here as soon as it is complete, and null at the end. */
  override push(record: unknown, encoding?: BufferEncoding): boolean {
    if (record === null) {
      this.#handOver();
      return super.push(null, encoding);
    }
    const fields = record as string[];
    // info.lines is where the record ends; a quoted cell spanning lines
    // moves its start up.
    this.lastLine = this.lineOffset + this.info.lines;
    fields.push(String(this.lastLine - countLineBreaks(fields)));
    this.#records.push(fields);
    return true;
  }

  override _transform(chunk: Buffer, encoding: BufferEncoding, done: TransformCallback): void {
    super._transform(chunk, encoding, (error?: Error | null) => {
      this.#handOver();
      done(error);
    });
  }

  override _flush(done: TransformCallback): void {
    super._flush((error?: Error | null) => {
      this.#handOver();
      done(error);
    });
  }

  /** Passes the records of the chunk just parsed on, as one array. */
  #handOver(): void {
    if (this.#records.length === 0) return;
    const records = this.#records;
    this.#records = [];
    super.push(records);
  }
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
