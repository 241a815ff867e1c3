// Uruguayan identity documents (cédula de identidad) as members type them.

/** Digits only, after removing dots, dashes, slashes and spaces; null if anything else is left. */
export function normalizeDocument(input: string): string | null {
  const stripped = input.replace(/[.\-/\s\u00a0]/g, '');
  return /^\d+$/.test(stripped) ? stripped : null;
}

/** A registry document: 6 to 8 digits, leading zeros dropped. */
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
