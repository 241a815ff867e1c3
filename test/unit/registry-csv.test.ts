import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { CsvError, parse } from 'csv-parse';
import fc from 'fast-check';
import { MAX_RECORD_CHARACTERS, RegistryCsvReader } from '../../src/members/registry-csv.ts';

/** What reading a file gives: every record with its line, or the error and where reading stood. */
type Outcome =
  | { records: string[][] }
  | { error: string; line: number | undefined; lastLine: number };

/** The reader under test, fed `chunks` as a file stream would. */
async function readFast(chunks: Buffer[]): Promise<Outcome> {
  const reader = new RegistryCsvReader();
  const records: string[][] = [];
  try {
    await pipeline(
      Readable.from(chunks),
      (bytes: AsyncIterable<Buffer>) => reader.read(bytes),
      async (batches: AsyncIterable<string[][]>) => {
        for await (const batch of batches) records.push(...batch);
      },
    );
    return { records };
  } catch (error) {
    assert.ok(error instanceof CsvError, String(error));
    const line = typeof error.lines === 'number' ? reader.lineOffset + error.lines : undefined;
    return { error: error.code, line, lastLine: reader.lastLine };
  }
}

/** The reference: csv-parse alone, numbering records as the import always has (on_record). */
async function readWithCsvParse(chunks: Buffer[]): Promise<Outcome> {
  let lastLine = 0;
  const parser = parse({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    relax_quotes: true,
    max_record_size: MAX_RECORD_CHARACTERS,
    on_record: (record: string[], context) => {
      lastLine = context.lines;
      const breaks = record.join('').split('\n').length - 1;
      record.push(String(context.lines - breaks));
      return record;
    },
  });
  const records: string[][] = [];
  try {
    await pipeline(Readable.from(chunks), parser, async (rows: AsyncIterable<string[]>) => {
      for await (const row of rows) records.push(row);
    });
    return { records };
  } catch (error) {
    assert.ok(error instanceof CsvError, String(error));
    const line = typeof error.lines === 'number' ? error.lines : undefined;
    return { error: error.code, line, lastLine };
  }
}

/** `bytes` cut at the given sizes (the rest in one last chunk). */
function cut(bytes: Buffer, sizes: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let start = 0;
  for (const size of sizes) {
    if (start >= bytes.length) break;
    chunks.push(bytes.subarray(start, start + size));
    start += size;
  }
  if (start < bytes.length) chunks.push(bytes.subarray(start));
  return chunks;
}

const TOKENS = [
  'a',
  'Ñandú',
  '12345678',
  ',',
  ',',
  ' ',
  '  ',
  '\t',
  '\u00a0',
  '\u2028',
  '\ufeff',
  '"',
  '""',
  '"x"',
  'O"Brien',
  '\n',
  '\n',
  '\n',
  '\r\n',
  '\r',
  '',
];
const token = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(...TOKENS).map((text) => Buffer.from(text)) },
  // A byte that is not UTF-8, and a line too long for a record.
  { weight: 1, arbitrary: fc.constant(Buffer.from([0xed])) },
  { weight: 1, arbitrary: fc.constant(Buffer.from('z'.repeat(MAX_RECORD_CHARACTERS / 2 + 1))) },
);
const file = fc
  .tuple(
    fc.constantFrom(Buffer.alloc(0), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([0xff, 0xfe])),
    fc.array(token, { maxLength: 60 }),
  )
  .map(([bom, tokens]) => Buffer.concat([bom, ...tokens]));

describe('registry CSV reader (plain lines split here, the rest by csv-parse)', () => {
  it('reads plain lines with their line numbers, trimmed, skipping empty ones', async () => {
    const text = '\ufeffdocument,member_number\r\n 1 , 2 \r\n\r\n  \r\n3,4\r\nlast,line';
    assert.deepEqual(await readFast([Buffer.from(text)]), {
      records: [
        ['document', 'member_number', '1'],
        ['1', '2', '2'],
        ['3', '4', '5'],
        ['last', 'line', '6'],
      ],
    });
  });

  it('hands over to csv-parse at the first quoted line, which keeps numbering the file', async () => {
    const text = 'h\n1,2\n"a\nb",c\n3,4\n';
    assert.deepEqual(await readFast([Buffer.from(text)]), {
      records: [
        ['h', '1'],
        ['1', '2', '2'],
        ['a\nb', 'c', '3'],
        ['3', '4', '5'],
      ],
    });
  });

  it('names the line of broken CSV after the hand-over', async () => {
    const outcome = await readFast([Buffer.from('h\n1\n2\n"x"y,1\n')]);
    assert.deepEqual(outcome, {
      error: 'CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE',
      line: 4,
      lastLine: 3,
    });
  });

  it('gives what csv-parse alone gives, for any bytes cut anywhere', async () => {
    await fc.assert(
      fc.asyncProperty(
        file,
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 30 }),
        async (bytes, sizes) => {
          const chunks = cut(bytes, sizes);
          assert.deepEqual(await readFast(chunks), await readWithCsvParse(chunks));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
