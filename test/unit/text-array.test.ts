import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { textArrayLiteral } from '../../src/members/text-array.ts';

describe('textArrayLiteral (a batch column as one text[] parameter)', () => {
  it('writes digits, plain words and E.164 mobiles as they are', () => {
    assert.equal(
      textArrayLiteral(['12345678', 'active', '+59899123456']),
      '{12345678,active,+59899123456}',
    );
  });

  it('writes null as NULL, and the word null quoted', () => {
    assert.equal(textArrayLiteral([null, 'NULL', 'null', 'Null']), '{NULL,"NULL","null","Null"}');
  });

  it('quotes what the array parser would split, trim or unescape', () => {
    assert.equal(
      textArrayLiteral(['', 'Ana María', 'a,b', '{x}', 'O"Brien', 'C:\\dir', '\tx']),
      '{"","Ana María","a,b","{x}","O\\"Brien","C:\\\\dir","\tx"}',
    );
  });

  it('writes an empty array', () => {
    assert.equal(textArrayLiteral([]), '{}');
  });
});
