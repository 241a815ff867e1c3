import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Check,
  checkDocument,
  checkEmail,
  checkMemberNumber,
  checkMobile,
  checkName,
  checkStatus,
  describeHeaderMismatch,
  quoteCell,
  validateRow,
} from '../../src/members/validate-row.ts';

const GOOD = ['1.234.567', '100 200', 'Ana', 'Pérez', 'Ana@Example.ORG', '099 123 456', 'active'];

function acceptedValue<T>(check: Check<T>): T {
  assert.ok(check.ok, `expected acceptance, got: ${check.ok ? '' : check.reason}`);
  return check.value;
}

function rejectionReason<T>(check: Check<T>): string {
  assert.ok(!check.ok, 'expected a rejection');
  return check.reason;
}

describe('registry row validation', () => {
  describe('header', () => {
    it('accepts the exact header, with spaces around the names', () => {
      assert.equal(
        describeHeaderMismatch([
          ' document',
          'member_number',
          'first_name',
          'last_name',
          'email',
          'mobile',
          'status ',
        ]),
        null,
      );
    });

    it('names the expected header and the one found', () => {
      assert.equal(
        describeHeaderMismatch(['document', 'number', 'name']),
        'the first line must be the header "document,member_number,first_name,last_name,email,mobile,status", but it is "document,number,name"',
      );
    });

    it('refuses the right names in another order', () => {
      assert.notEqual(
        describeHeaderMismatch([
          'member_number',
          'document',
          'first_name',
          'last_name',
          'email',
          'mobile',
          'status',
        ]),
        null,
      );
    });
  });

  describe('document', () => {
    it('removes dots, dashes and spaces', () => {
      assert.equal(acceptedValue(checkDocument(' 1.234.567 ')), '1234567');
      assert.equal(acceptedValue(checkDocument('4 567-890')), '4567890');
      assert.equal(acceptedValue(checkDocument('123456')), '123456');
      assert.equal(acceptedValue(checkDocument('12345678')), '12345678');
    });

    it('rejects a missing document', () => {
      assert.equal(rejectionReason(checkDocument('  ')), 'document is missing');
    });

    it('rejects letters', () => {
      assert.equal(
        rejectionReason(checkDocument('12a4567')),
        'document "12a4567" contains characters other than digits',
      );
    });

    it('stores a zero-led document without its leading zeros (ADR 018)', () => {
      assert.equal(acceptedValue(checkDocument('0123456')), '123456');
      assert.equal(acceptedValue(checkDocument('0.123.456')), '123456');
      assert.equal(acceptedValue(checkDocument('00012345678')), '12345678');
    });

    it('rejects too short and too long documents, not counting leading zeros', () => {
      for (const input of ['12345', '123456789', '012345', '0000000']) {
        assert.equal(
          rejectionReason(checkDocument(input)),
          `document "${input}" must be 6 to 8 digits, not counting leading zeros`,
        );
      }
    });
  });

  describe('member number', () => {
    it('removes spaces and leading zeros (ADR 018)', () => {
      assert.equal(acceptedValue(checkMemberNumber(' 12 345 ')), '12345');
      assert.equal(acceptedValue(checkMemberNumber('007')), '7');
      assert.equal(acceptedValue(checkMemberNumber('0')), '0');
      assert.equal(acceptedValue(checkMemberNumber('123456789012')), '123456789012');
    });

    it('rejects a missing, non-numeric or too long member number', () => {
      assert.equal(rejectionReason(checkMemberNumber('')), 'member_number is missing');
      assert.equal(
        rejectionReason(checkMemberNumber('A-12')),
        'member_number "A-12" must be 1 to 12 digits',
      );
      assert.equal(
        rejectionReason(checkMemberNumber('1234567890123')),
        'member_number "1234567890123" must be 1 to 12 digits',
      );
    });
  });

  describe('names', () => {
    it('trims and keeps accents', () => {
      assert.equal(acceptedValue(checkName('first_name', '  María José ')), 'María José');
    });

    it('rejects missing, too long and control characters', () => {
      assert.equal(rejectionReason(checkName('last_name', ' ')), 'last_name is missing');
      assert.equal(acceptedValue(checkName('first_name', 'a'.repeat(100))).length, 100);
      assert.equal(
        rejectionReason(checkName('first_name', 'a'.repeat(101))),
        'first_name is longer than 100 characters',
      );
      assert.equal(
        rejectionReason(checkName('last_name', 'Li\nLa')),
        'last_name "Li\\nLa" contains control characters',
      );
    });
  });

  describe('email', () => {
    it('is optional', () => {
      assert.equal(acceptedValue(checkEmail('')), null);
      assert.equal(acceptedValue(checkEmail('   ')), null);
    });

    it('is lowercased and trimmed', () => {
      assert.equal(
        acceptedValue(checkEmail(' Ana.Perez@Example.COM.uy ')),
        'ana.perez@example.com.uy',
      );
    });

    it('rejects addresses without one @, with spaces, or without a dotted domain', () => {
      for (const input of [
        'ana',
        'ana@@example.org',
        'a@b@example.org',
        '@example.org',
        'ana perez@example.org',
        'ana@localhost',
        'ana@example.',
        'ana@.org',
        'ana@example..org',
      ]) {
        assert.equal(
          rejectionReason(checkEmail(input)),
          `email "${input}" is not a valid email address`,
          input,
        );
      }
    });

    it('rejects addresses longer than 254 characters', () => {
      const long = `${'a'.repeat(64)}@${'b'.repeat(186)}.org`;
      assert.equal(long.length, 255);
      assert.equal(rejectionReason(checkEmail(long)), 'email is longer than 254 characters');
    });
  });

  describe('mobile', () => {
    it('is optional', () => {
      assert.equal(acceptedValue(checkMobile('')), null);
    });

    it('turns Uruguayan mobiles into E.164', () => {
      for (const input of [
        '099123456',
        '99123456',
        '+59899123456',
        '59899123456',
        '0059899123456',
        '099 123 456',
        '099-123-456',
        '+598 99 123 456',
      ]) {
        assert.equal(acceptedValue(checkMobile(input)), '+59899123456', input);
      }
    });

    it('rejects numbers that are not Uruguayan mobiles', () => {
      for (const input of [
        '12345',
        '24001234',
        '024001234',
        '0991234567',
        '+5491112345678',
        '09912345a',
      ]) {
        assert.equal(
          rejectionReason(checkMobile(input)),
          `mobile "${input}" is not a Uruguayan mobile number (expected 09X XXX XXX or +5989X XXX XXX)`,
          input,
        );
      }
    });
  });

  describe('status', () => {
    it('accepts active and inactive in any case', () => {
      assert.equal(acceptedValue(checkStatus(' Active ')), 'active');
      assert.equal(acceptedValue(checkStatus('INACTIVE')), 'inactive');
    });

    it('rejects empty and other words', () => {
      assert.equal(
        rejectionReason(checkStatus('')),
        'status is missing (expected active or inactive)',
      );
      assert.equal(
        rejectionReason(checkStatus('baja')),
        'status "baja" must be active or inactive',
      );
    });
  });

  describe('whole line', () => {
    it('normalises every cell of a good line', () => {
      assert.deepEqual(validateRow(GOOD), {
        ok: true,
        row: {
          document: '1234567',
          memberNumber: '100200',
          firstName: 'Ana',
          lastName: 'Pérez',
          email: 'ana@example.org',
          mobile: '+59899123456',
          status: 'active',
        },
      });
    });

    it('accepts empty email and mobile as null', () => {
      const check = validateRow(['1234567', '1', 'Ana', 'Pérez', '', '', 'inactive']);
      assert.ok(check.ok);
      assert.equal(check.row.email, null);
      assert.equal(check.row.mobile, null);
    });

    it('rejects a wrong number of cells and still reports the document', () => {
      assert.deepEqual(validateRow(['1.234.567', '1', 'Ana']), {
        ok: false,
        reason: 'expected 7 fields, found 3',
        document: '1234567',
      });
    });

    it('reports the first bad cell and the document when it was valid', () => {
      assert.deepEqual(validateRow([...GOOD.slice(0, 5), '12345', 'active']), {
        ok: false,
        reason:
          'mobile "12345" is not a Uruguayan mobile number (expected 09X XXX XXX or +5989X XXX XXX)',
        document: '1234567',
      });
      assert.deepEqual(validateRow(['x', ...GOOD.slice(1)]), {
        ok: false,
        reason: 'document "x" contains characters other than digits',
        document: null,
      });
    });

    it('rejects text that was not UTF-8', () => {
      const check = validateRow(['1234567', '1', 'Mar\uFFFDa', 'Pérez', '', '', 'active']);
      assert.ok(!check.ok);
      assert.equal(check.reason, 'contains bytes that are not UTF-8 (save the file as UTF-8)');
    });
  });

  it('quotes cells for reasons, escaped and shortened', () => {
    assert.equal(quoteCell('a"b'), '"a\\"b"');
    assert.equal(quoteCell('x'.repeat(60)), JSON.stringify(`${'x'.repeat(39)}…`));
  });
});
