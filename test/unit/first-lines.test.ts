import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FirstLines } from '../../src/members/first-lines.ts';

describe('FirstLines (first line of each document or member number)', () => {
  it('keeps the first line of a key and returns it to later claims', () => {
    const lines = new FirstLines();
    assert.equal(lines.claim(12_345_678, 2), undefined);
    assert.equal(lines.claim(12_345_678, 9), 2);
    assert.equal(lines.get(12_345_678), 2);
    assert.equal(lines.get(87_654_321), undefined);
    assert.equal(lines.size, 1);
  });

  it('takes 0 and 12-digit member numbers as keys', () => {
    const lines = new FirstLines();
    assert.equal(lines.get(0), undefined);
    assert.equal(lines.claim(0, 3), undefined);
    assert.equal(lines.claim(999_999_999_999, 4), undefined);
    assert.equal(lines.claim(999_999_999_998, 5), undefined);
    assert.deepEqual(
      [lines.get(0), lines.get(999_999_999_999), lines.get(999_999_999_998)],
      [3, 4, 5],
    );
  });

  it('refuses what is not a whole number in range', () => {
    const lines = new FirstLines();
    for (const key of [-1, 1.5, Number.NaN, 1e16])
      assert.throws(() => lines.claim(key, 2), RangeError, String(key));
  });

  it('grows past its first capacity without losing a key', () => {
    const lines = new FirstLines();
    for (let i = 0; i < 50_000; i++)
      assert.equal(lines.claim(10_000_000 + i * 7, i + 2), undefined);
    assert.equal(lines.size, 50_000);
    for (let i = 0; i < 50_000; i++) assert.equal(lines.get(10_000_000 + i * 7), i + 2);
    assert.equal(lines.get(10_000_001), undefined);
  });

  it('answers as a Map would, for any sequence of claims', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 999_999_999_999 }), { maxLength: 3000 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { maxLength: 3000 }),
        (keys, repeats) => {
          const lines = new FirstLines(4);
          const expected = new Map<number, number>();
          // Repeats pick earlier keys again, so claims of known keys happen too.
          const sequence = [
            ...keys,
            ...repeats.map((i) => keys[i % Math.max(1, keys.length)] ?? 0),
          ];
          sequence.forEach((key, line) => {
            assert.equal(lines.claim(key, line), expected.get(key));
            if (!expected.has(key)) expected.set(key, line);
          });
          for (const [key, line] of expected) assert.equal(lines.get(key), line);
          assert.equal(lines.size, expected.size);
        },
      ),
      { numRuns: 50 },
    );
  });
});
