import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPasswordPolicy, type PasswordPolicy } from '../../src/auth/password-policy.ts';
import { errors } from '../../src/messages/es.ts';

const CONTEXT = ['4567890', '123'];

function problems(policy: PasswordPolicy, password: string, confirmation = password) {
  return policy.check({ password, confirmation, context: CONTEXT });
}

describe('the manual password policy', () => {
  const policy = createPasswordPolicy('manual');

  it('states the manual’s rule: 6 to 10 letters and/or digits with at least one digit', () => {
    assert.equal(policy.name, 'manual');
    assert.equal(policy.minLength, 6);
    assert.equal(policy.maxLength, 10);
    assert.equal(
      policy.ruleText,
      'La nueva contraseña debe tener entre 6 y 10 caracteres conteniendo números y/o letras (al menos un número)',
    );
  });

  it('accepts 6 and 10 characters of letters and digits, and digits alone', () => {
    for (const password of ['mate27', 'Mate2027xy', '20270415', 'QWxz9k']) {
      assert.deepEqual(problems(policy, password), {}, password);
    }
  });

  it('refuses 5 and 11 characters', () => {
    assert.deepEqual(problems(policy, 'mat27'), { password: errors.PASSWORD_LENGTH_MANUAL });
    assert.deepEqual(problems(policy, 'mate2027xyz'), { password: errors.PASSWORD_LENGTH_MANUAL });
  });

  it('refuses a password without a digit', () => {
    assert.deepEqual(problems(policy, 'sinnumero'), { password: errors.PASSWORD_NEEDS_DIGIT });
  });

  it('refuses symbols, spaces and letters outside A–Z', () => {
    for (const password of ['mate-2027', 'mate 2027', 'ñandú2027', 'mate2027!', 'maté2027']) {
      assert.deepEqual(
        problems(policy, password),
        { password: errors.PASSWORD_CHARACTERS },
        password,
      );
    }
  });

  it('refuses common passwords whatever their case', () => {
    for (const password of ['abc123', 'ABC123', 'passw0rd', '1q2w3e4r', 'qwerty123']) {
      assert.deepEqual(problems(policy, password), { password: errors.PASSWORD_COMMON }, password);
    }
  });

  it('refuses the member’s document, also inside the password, and a short member number only as a whole', () => {
    assert.deepEqual(problems(policy, '4567890'), { password: errors.PASSWORD_IS_PERSONAL });
    assert.deepEqual(problems(policy, 'ci4567890'), { password: errors.PASSWORD_IS_PERSONAL });
    // "123" is too short to look for inside another password.
    assert.deepEqual(problems(policy, 'casa123x'), {});
  });

  it('asks for both fields when empty and refuses a confirmation that differs', () => {
    assert.deepEqual(problems(policy, '', ''), {
      password: errors.NEW_PASSWORD_REQUIRED,
      passwordConfirmation: errors.PASSWORD_CONFIRMATION_REQUIRED,
    });
    assert.deepEqual(problems(policy, 'mate2027', ''), {
      passwordConfirmation: errors.PASSWORD_CONFIRMATION_REQUIRED,
    });
    assert.deepEqual(problems(policy, 'mate2027', 'Mate2027'), {
      passwordConfirmation: errors.PASSWORD_MISMATCH,
    });
  });
});

describe('the asvs password policy', () => {
  const policy = createPasswordPolicy('asvs');

  it('states its own rule: 8 to 64 characters, no composition rules', () => {
    assert.equal(policy.name, 'asvs');
    assert.equal(policy.minLength, 8);
    assert.equal(policy.maxLength, 64);
    assert.match(policy.ruleText, /^La nueva contraseña debe tener entre 8 y 64 caracteres\./);
  });

  it('accepts phrases, symbols, accents and emoji from 8 to 64 characters', () => {
    for (const password of [
      'una frase larga!',
      'sin números',
      'ñandú-del-río',
      '🦩🦩🦩🦩🦩🦩🦩🦩',
      'x'.repeat(64),
    ]) {
      assert.deepEqual(problems(policy, password), {}, password);
    }
  });

  it('counts characters, not UTF-16 units', () => {
    // 64 flamingos are 128 UTF-16 units but 64 characters.
    assert.deepEqual(problems(policy, '🦩'.repeat(64)), {});
    assert.deepEqual(problems(policy, '🦩'.repeat(7)), { password: errors.PASSWORD_LENGTH_ASVS });
  });

  it('refuses 7 and 65 characters', () => {
    assert.deepEqual(problems(policy, 'x'.repeat(7)), { password: errors.PASSWORD_LENGTH_ASVS });
    assert.deepEqual(problems(policy, 'x'.repeat(65)), { password: errors.PASSWORD_LENGTH_ASVS });
  });

  it('refuses control characters', () => {
    for (const password of ['tab\there1', 'nueva\nlinea', 'del\u007fete12', 'c1\u0085control']) {
      assert.deepEqual(
        problems(policy, password),
        { password: errors.PASSWORD_PRINTABLE },
        password,
      );
    }
  });

  it('refuses common passwords of its length, like abc12345 and password', () => {
    for (const password of ['abc12345', 'password', 'Password1', 'iloveyou1']) {
      assert.deepEqual(problems(policy, password), { password: errors.PASSWORD_COMMON }, password);
    }
  });

  it('refuses a password that contains the document', () => {
    assert.deepEqual(problems(policy, 'mi cédula 4567890'), {
      password: errors.PASSWORD_IS_PERSONAL,
    });
  });

  it('refuses the words of the provider and the portal, whatever their case and accents', () => {
    for (const password of [
      'Casmu2026!',
      'mi portal de salud',
      'AUTOGESTIÓN 26',
      'soy socio 1980',
    ]) {
      assert.deepEqual(
        problems(policy, password),
        { password: errors.PASSWORD_IS_SERVICE_WORD },
        password,
      );
    }
  });

  it('takes the service words it is given (PASSWORD_SERVICE_WORDS)', () => {
    const custom = createPasswordPolicy('asvs', ['mutualista']);
    const check = (password: string) =>
      custom.check({ password, confirmation: password, context: [] });
    assert.deepEqual(check('Mutualista 2026'), { password: errors.PASSWORD_IS_SERVICE_WORD });
    assert.deepEqual(check('mi portal de salud'), {}, 'the default words are replaced');
  });
});

describe('the service words under the manual policy', () => {
  it('refuses socio1 and casmu2026 (letters and digits that would pass otherwise)', () => {
    const policy = createPasswordPolicy('manual');
    for (const password of ['socio1', 'casmu2026', 'Portal99']) {
      assert.deepEqual(
        policy.check({ password, confirmation: password, context: [] }),
        { password: errors.PASSWORD_IS_SERVICE_WORD },
        password,
      );
    }
  });
});
