// The benchmark's member registry: member i (0 … 1 999 999) is always the
// same person, valid for `npm run members:import` (src/members/validate-row.ts)
// and unique by document, member number and email. writeRegistryCsv writes
// the first `count` of them as the registry CSV the import reads.
//
//   node --import tsx bench/registry.ts FILE.csv [count]   (default 1 000 000)

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { computeCheckDigit } from '../src/auth/documents.ts';
import { EXPECTED_HEADER } from '../src/members/validate-row.ts';

export interface BenchMember {
  document: string;
  memberNumber: string;
  firstName: string;
  lastName: string;
  email: string;
  mobile: string;
}

/** Members the generator can describe: bases 1 000 000 … 2 999 999 keep every document at 8 digits. */
export const MAX_BENCH_MEMBERS = 2_000_000;
const FIRST_DOCUMENT_BASE = 1_000_000;
/** Member numbers 10 000 000 upwards: 8 digits, clear of the demo member's 100001. */
const FIRST_MEMBER_NUMBER = 10_000_000;
/** Rows per write: ≈ 0.7 MB strings, few enough writes to be fast, small enough to stream. */
const ROWS_PER_CHUNK = 10_000;

const FIRST_NAMES = [
  'María',
  'José',
  'Ana',
  'Juan',
  'Lucía',
  'Martín',
  'Sofía',
  'Diego',
  'Valentina',
  'Nicolás',
  'Camila',
  'Federico',
  'Florencia',
  'Gonzalo',
  'Agustina',
  'Sebastián',
  'Inés',
  'Rodrigo',
  'Carolina',
  'Joaquín',
  'Paula',
  'Andrés',
  'Verónica',
  'Matías',
] as const;

const LAST_NAMES = [
  'Rodríguez',
  'González',
  'Fernández',
  'Pérez',
  'López',
  'Martínez',
  'García',
  'Sosa',
  'Silva',
  'Pereira',
  'Suárez',
  'Díaz',
  'Núñez',
  'Méndez',
  'Acosta',
  'Benítez',
  'Olivera',
  'Cabrera',
  'Ramírez',
  'Castro',
  'De León',
  'Álvarez',
  'Ferreira',
  'Muñoz',
  'Techera',
  'Correa',
  'Viera',
  'Da Silva',
  'Romero',
] as const;

/** Member i of the benchmark registry; the same for the same i, every time. */
export function benchMember(i: number): BenchMember {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_BENCH_MEMBERS)
    throw new RangeError(`benchMember(i) needs a whole i from 0 to ${MAX_BENCH_MEMBERS - 1}`);
  const base = String(FIRST_DOCUMENT_BASE + i);
  return {
    document: `${base}${computeCheckDigit(base)}`,
    memberNumber: String(FIRST_MEMBER_NUMBER + i),
    // Two list lengths that share no factor: names combine into many pairs.
    firstName: FIRST_NAMES[i % FIRST_NAMES.length] as string,
    lastName: LAST_NAMES[(i * 7) % LAST_NAMES.length] as string,
    email: `socio${i}@bench.example`,
    mobile: `09${String(i % 10_000_000).padStart(7, '0')}`,
  };
}

/** One CSV line (names hold no comma or quote, so no cell needs quoting). */
function csvLine(member: BenchMember): string {
  const { document, memberNumber, firstName, lastName, email, mobile } = member;
  return `${document},${memberNumber},${firstName},${lastName},${email},${mobile},active\n`;
}

/**
 * Writes the registry CSV: the import's header and benchMember(0 … count-1),
 * all active. Chunks of rows go out as single writes, waiting for the file
 * to drain when its buffer is full.
 */
export async function writeRegistryCsv(path: string, count: number): Promise<void> {
  if (!Number.isInteger(count) || count < 0 || count > MAX_BENCH_MEMBERS)
    throw new RangeError(`count must be a whole number from 0 to ${MAX_BENCH_MEMBERS}`);
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  const failed = once(out, 'error').then(([error]) => {
    throw error;
  });
  failed.catch(() => {}); // observed below; never an unhandled rejection
  const write = async (text: string) => {
    if (!out.write(text)) await Promise.race([once(out, 'drain'), failed]);
  };
  await write(`${EXPECTED_HEADER.join(',')}\n`);
  for (let start = 0; start < count; start += ROWS_PER_CHUNK) {
    const end = Math.min(count, start + ROWS_PER_CHUNK);
    let chunk = '';
    for (let i = start; i < end; i++) chunk += csvLine(benchMember(i));
    await write(chunk);
  }
  out.end();
  await Promise.race([once(out, 'finish'), failed]);
}

/** As a command: writes FILE.csv with `count` members. */
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [path, count = '1000000'] = process.argv.slice(2);
  if (!path) {
    process.stderr.write('usage: node --import tsx bench/registry.ts FILE.csv [count]\n');
    process.exitCode = 1;
  } else {
    const startedAt = performance.now();
    await writeRegistryCsv(path, Number(count));
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    process.stdout.write(`wrote ${count} members to ${path} in ${seconds} s\n`);
  }
}
