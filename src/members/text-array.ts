// The import sends each column of a batch as one text[] parameter. Written
// here as a PostgreSQL array literal, which the server parses: the driver's
// own array encoding quotes and escapes every element with two regular
// expressions, a second of CPU per million rows for digits that need none.

/** Elements that array_in would misread unquoted: empty, NULL, spaces, braces, quotes, commas, backslashes. */
const NEEDS_QUOTES = /^$|^null$|[\s{}",\\]/i;

/** A `text[]` literal of `values` (null becomes NULL), to be sent as a text parameter cast to text[]. */
export function textArrayLiteral(values: readonly (string | null)[]): string {
  let literal = '{';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) literal += ',';
    const value = values[i];
    if (value === null || value === undefined) literal += 'NULL';
    else if (NEEDS_QUOTES.test(value)) literal += `"${value.replace(/[\\"]/g, '\\$&')}"`;
    else literal += value;
  }
  return `${literal}}`;
}
