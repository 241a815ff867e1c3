// Whose password the change-password page sets, masked: the first given
// name, the initial of the last name and the document's last three digits —
// enough for the holder to recognise, little for anyone who opens someone
// else's link.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskedHolder } from '../../src/flows/recovery/service.ts';

describe('maskedHolder', () => {
  it('keeps the first given name, the last name’s initial and the last three digits', () => {
    assert.equal(maskedHolder('María José', 'Rodríguez', '1234567'), 'María R., documento ***567');
    assert.equal(maskedHolder('Ana', 'Pérez', '4123456'), 'Ana P., documento ***456');
  });

  it('shows only the first name when the last name is empty', () => {
    assert.equal(maskedHolder('Ana', '', '4123456'), 'Ana, documento ***456');
    assert.equal(maskedHolder('Ana', '   ', '4123456'), 'Ana, documento ***456');
  });

  it('keeps accented initials whole and in capitals', () => {
    assert.equal(maskedHolder('Ángela', 'Ñúñez', '7654321'), 'Ángela Ñ., documento ***321');
    assert.equal(maskedHolder('Élida', 'ñandú', '7654321'), 'Élida Ñ., documento ***321');
  });

  it('ignores spaces around the names', () => {
    assert.equal(
      maskedHolder('  Rosa  María ', '  Díaz Gómez ', '3456789'),
      'Rosa D., documento ***789',
    );
  });
});
