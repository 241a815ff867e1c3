import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalIdentifier,
  computeCheckDigit,
  isPlausibleDocument,
  normalizeDocument,
  withoutCheckDigit,
  withoutLeadingZeros,
} from '../../src/auth/documents.ts';

describe('documents', () => {
  it('keeps digits after removing dots, dashes, slashes and spaces', () => {
    assert.equal(normalizeDocument('1.234.567'), '1234567');
    assert.equal(normalizeDocument(' 1 234-567 '), '1234567');
    assert.equal(normalizeDocument('1234567/8'), '12345678');
    assert.equal(normalizeDocument('12a4567'), null);
    assert.equal(normalizeDocument(''), null);
  });

  it('computes the Uruguayan check digit with weights 2,9,8,7,6,3,4', () => {
    // 1.234.567-2: 1*2+2*9+3*8+4*7+5*6+6*3+7*4 = 148 → (10 - 8) % 10 = 2
    assert.equal(computeCheckDigit('1234567'), 2);
    // A short base is left-padded with zeros.
    assert.equal(computeCheckDigit('123456'), computeCheckDigit('0123456'));
    // A sum ending in 0 gives 0.
    assert.equal(computeCheckDigit('0000000'), 0);
  });

  it('recognises eight digits that end in their own check digit', () => {
    assert.equal(withoutCheckDigit('12345672'), '1234567');
    assert.equal(withoutCheckDigit('12345673'), null);
    assert.equal(withoutCheckDigit('1234567'), null);
    // A 6-digit base typed with a leading zero and its check digit.
    assert.equal(withoutCheckDigit('01234561'), '123456');
  });

  it('drops leading zeros, which are not significant, and keeps a lone zero', () => {
    assert.equal(withoutLeadingZeros('0123456'), '123456');
    assert.equal(withoutLeadingZeros('000123456'), '123456');
    assert.equal(withoutLeadingZeros('123456'), '123456');
    assert.equal(withoutLeadingZeros('1000'), '1000');
    assert.equal(withoutLeadingZeros('000'), '0');
  });

  it('gives one canonical form for every way of typing the same document or member number', () => {
    for (const typed of ['123456', '0123456', '0.123.456', ' 00-123 456 ', '000123456'])
      assert.equal(canonicalIdentifier(typed), '123456', typed);
    assert.equal(canonicalIdentifier('007'), '7');
    assert.equal(canonicalIdentifier('0'), '0');
    assert.equal(canonicalIdentifier('01234x'), null);
    assert.equal(canonicalIdentifier(''), null);
  });

  it('keeps the check-digit hint as it was: eight typed digits, before leading zeros are dropped', () => {
    // The canonical form of 0.123.456-1 has seven digits: no hint.
    assert.equal(withoutCheckDigit(canonicalIdentifier('01234561') ?? ''), null);
    assert.equal(withoutCheckDigit(canonicalIdentifier('1.234.567-2') ?? ''), '1234567');
  });

  it('accepts registry documents of 6 to 8 digits without leading zeros', () => {
    assert.equal(isPlausibleDocument('123456'), true);
    assert.equal(isPlausibleDocument('12345678'), true);
    assert.equal(isPlausibleDocument('12345'), false);
    assert.equal(isPlausibleDocument('0123456'), false);
  });
});
