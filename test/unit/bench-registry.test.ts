import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { benchMember, MAX_BENCH_MEMBERS, writeRegistryCsv } from '../../bench/registry.ts';
import { EXPECTED_HEADER, validateRow } from '../../src/members/validate-row.ts';

/** The cells of member i as the CSV carries them. */
function cellsOf(i: number): string[] {
  const m = benchMember(i);
  return [m.document, m.memberNumber, m.firstName, m.lastName, m.email, m.mobile, 'active'];
}

describe('benchmark registry', () => {
  it('gives 10 000 members that pass the import validation, stored as generated, all unique', () => {
    const documents = new Set<string>();
    const memberNumbers = new Set<string>();
    const emails = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const check = validateRow(cellsOf(i));
      assert.ok(check.ok, `member ${i}: ${check.ok ? '' : check.reason}`);
      const member = benchMember(i);
      // Already canonical: the import stores exactly what the benchmark logs in with.
      assert.equal(check.row.document, member.document);
      assert.equal(check.row.memberNumber, member.memberNumber);
      assert.equal(check.row.email, member.email);
      assert.match(member.document, /^[1-9]\d{7}$/);
      documents.add(check.row.document);
      memberNumbers.add(check.row.memberNumber);
      emails.add(check.row.email ?? '');
    }
    assert.equal(documents.size, 10_000);
    assert.equal(memberNumbers.size, 10_000);
    assert.equal(emails.size, 10_000);
  });

  it('keeps the last members valid and 8-digit', () => {
    for (const i of [MAX_BENCH_MEMBERS - 1, 999_999, 1_000_000]) {
      const check = validateRow(cellsOf(i));
      assert.ok(check.ok, `member ${i}: ${check.ok ? '' : check.reason}`);
      assert.match(benchMember(i).document, /^[1-9]\d{7}$/);
    }
    assert.throws(() => benchMember(MAX_BENCH_MEMBERS), RangeError);
    assert.throws(() => benchMember(-1), RangeError);
  });

  it('is deterministic', () => {
    for (const i of [0, 1, 42, 123_456, 1_999_999])
      assert.deepEqual(benchMember(i), benchMember(i));
    assert.deepEqual(benchMember(0), {
      document: '10000008',
      memberNumber: '10000000',
      firstName: 'María',
      lastName: 'Rodríguez',
      email: 'socio0@bench.example',
      mobile: '090000000',
    });
  });

  it('writes the header and one active line per member', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'bench-registry-'));
    try {
      const file = join(folder, 'registry.csv');
      await writeRegistryCsv(file, 25_001);
      const lines = (await readFile(file, 'utf8')).split('\n');
      assert.equal(
        lines.length,
        25_003,
        'header, 25 001 rows and the empty tail after the last \\n',
      );
      assert.equal(lines[0], EXPECTED_HEADER.join(','));
      assert.equal(lines[1], `${cellsOf(0).join(',')}`);
      assert.equal(lines[25_001], `${cellsOf(25_000).join(',')}`);
      assert.equal(lines[25_002], '');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
