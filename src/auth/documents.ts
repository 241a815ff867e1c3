// Uruguayan identity documents (cédula de identidad) as members type them.

/** Digits only, after removing dots, dashes, slashes and spaces; null if anything else is left. */
export function normalizeDocument(input: string): string | null {
  const stripped = input.replace(/[.\-/\s\u00a0]/g, '');
  return /^\d+$/.test(stripped) ? stripped : null;
}

/**
 * Leading zeros are not significant in a document or a member number
 * (ADR 018): "0123456" and "123456" are one document. All zeros stay "0".
 */
export function withoutLeadingZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, '');
}

/**
 * The canonical form of a document or member number as typed: its digits
 * (normalizeDocument) without leading zeros; null if anything but digits and
 * separators was typed. The form stored, looked up, hashed and audited.
 */
export function canonicalIdentifier(input: string): string | null {
  const digits = normalizeDocument(input);
  return digits === null ? null : withoutLeadingZeros(digits);
}

/** A registry document in canonical form: 6 to 8 digits, the first not a zero. */
export function isPlausibleDocument(document: string): boolean {
  return /^[1-9]\d{5,7}$/.test(document);
}

const WEIGHTS = [2, 9, 8, 7, 6, 3, 4] as const;

/** The check digit of a base of up to 7 digits (left-padded with zeros). */
export function computeCheckDigit(base: string): number {
  const digits = base.padStart(7, '0');
  let sum = 0;
  for (let i = 0; i < 7; i++) sum += Number(digits[i]) * (WEIGHTS[i] as number);
  return (10 - (sum % 10)) % 10;
}

/**
 * When 8 digits were typed and the last one is the check digit of the first
 * seven, returns those seven: the member most likely included the check digit.
 */
export function withoutCheckDigit(document: string): string | null {
  if (!/^\d{8}$/.test(document)) return null;
  const base = document.slice(0, 7);
  return computeCheckDigit(base) === Number(document[7]) ? base.replace(/^0+/, '') : null;
}
