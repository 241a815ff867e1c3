// Checks and normalises one line of the member registry CSV. Pure functions:
// no database, no I/O. Reasons are English sentences, because the operator
// running the import reads them next to the line number.
import { isPlausibleDocument, normalizeDocument, withoutLeadingZeros } from '../auth/documents.ts';

export const EXPECTED_HEADER = [
  'document',
  'member_number',
  'first_name',
  'last_name',
  'email',
  'mobile',
  'status',
] as const;

export interface MemberRow {
  document: string;
  memberNumber: string;
  firstName: string;
  lastName: string;
  email: string | null;
  mobile: string | null;
  status: 'active' | 'inactive';
}

export type Check<T> = { ok: true; value: T } | { ok: false; reason: string };

export type RowCheck =
  | { ok: true; row: MemberRow }
  /** `document` is the normalised document when that cell alone was valid. */
  | { ok: false; reason: string; document: string | null };

const MAX_NAME_LENGTH = 100;
const MAX_EMAIL_LENGTH = 254;
/** Long garbage in a reason would bury the line number; this much identifies the cell. */
const MAX_QUOTED_LENGTH = 40;
const REPLACEMENT_CHARACTER = '\uFFFD';
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

const accept = <T>(value: T): Check<T> => ({ ok: true, value });
const refuse = <T>(reason: string): Check<T> => ({ ok: false, reason });

/** A cell value for a reason: JSON-quoted (so control characters show) and shortened. */
export function quoteCell(value: string): string {
  const short =
    value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH - 1)}…` : value;
  return JSON.stringify(short);
}

/** Null when the header is the expected one; otherwise a sentence naming both. */
export function describeHeaderMismatch(fields: readonly string[]): string | null {
  const found = fields.map((field) => field.trim());
  const matches =
    found.length === EXPECTED_HEADER.length &&
    found.every((name, index) => name === EXPECTED_HEADER[index]);
  if (matches) return null;
  return `the first line must be the header "${EXPECTED_HEADER.join(',')}", but it is "${found.join(',')}"`;
}

/** Stored in canonical form: digits without leading zeros (ADR 018), as the flows look it up. */
export function checkDocument(cell: string): Check<string> {
  const raw = cell.trim();
  if (raw === '') return refuse('document is missing');
  const digits = normalizeDocument(raw);
  if (digits === null)
    return refuse(`document ${quoteCell(raw)} contains characters other than digits`);
  const document = withoutLeadingZeros(digits);
  if (!isPlausibleDocument(document))
    return refuse(`document ${quoteCell(raw)} must be 6 to 8 digits, not counting leading zeros`);
  return accept(document);
}

/** Stored in canonical form, like a document: "007" is member number 7 (ADR 018). */
export function checkMemberNumber(cell: string): Check<string> {
  const raw = cell.trim();
  if (raw === '') return refuse('member_number is missing');
  // Registry exports sometimes group digits with spaces ("12 345").
  const memberNumber = raw.replace(/[\s\u00a0]/g, '');
  if (!/^\d{1,12}$/.test(memberNumber))
    return refuse(`member_number ${quoteCell(raw)} must be 1 to 12 digits`);
  return accept(withoutLeadingZeros(memberNumber));
}

export function checkName(column: 'first_name' | 'last_name', cell: string): Check<string> {
  const name = cell.trim();
  if (name === '') return refuse(`${column} is missing`);
  if (name.length > MAX_NAME_LENGTH)
    return refuse(`${column} is longer than ${MAX_NAME_LENGTH} characters`);
  if (CONTROL_CHARACTER.test(name))
    return refuse(`${column} ${quoteCell(name)} contains control characters`);
  return accept(name);
}

/** Optional; a deliberately loose shape check (the mailbox itself proves the address). */
export function checkEmail(cell: string): Check<string | null> {
  const raw = cell.trim();
  if (raw === '') return accept(null);
  const email = raw.toLowerCase();
  if (email.length > MAX_EMAIL_LENGTH)
    return refuse(`email is longer than ${MAX_EMAIL_LENGTH} characters`);
  return hasEmailShape(email)
    ? accept(email)
    : refuse(`email ${quoteCell(raw)} is not a valid email address`);
}

/** One @, something before it, a dotted domain after it, no spaces or control characters. */
function hasEmailShape(email: string): boolean {
  const at = email.indexOf('@');
  if (at < 1 || email.indexOf('@', at + 1) !== -1) return false;
  if (/\s/.test(email) || CONTROL_CHARACTER.test(email)) return false;
  const labels = email.slice(at + 1).split('.');
  return labels.length >= 2 && labels.every((label) => label !== '');
}

/**
 * Optional; a Uruguayan mobile (09X XXX XXX) in E.164 (+5989XXXXXXX).
 * Accepts the national form with or without the leading 0, and the
 * international form with +598, 00598 or a bare 598.
 */
export function checkMobile(cell: string): Check<string | null> {
  const raw = cell.trim();
  if (raw === '') return accept(null);
  const digits = raw.replace(/[\s\u00a0.\-()]/g, '');
  const subscriber = /^(?:\+598|00598|598|0)?(9\d{7})$/.exec(digits)?.[1];
  if (subscriber === undefined)
    return refuse(
      `mobile ${quoteCell(raw)} is not a Uruguayan mobile number (expected 09X XXX XXX or +5989X XXX XXX)`,
    );
  return accept(`+598${subscriber}`);
}

export function checkStatus(cell: string): Check<'active' | 'inactive'> {
  const status = cell.trim().toLowerCase();
  if (status === 'active' || status === 'inactive') return accept(status);
  if (status === '') return refuse('status is missing (expected active or inactive)');
  return refuse(`status ${quoteCell(cell.trim())} must be active or inactive`);
}

/** Validates every cell of a data line; the first problem found is the reason. */
export function validateRow(fields: readonly string[]): RowCheck {
  // Called once per line of a million-line file: no closure or array per call.
  const documentCheck = fields[0] === undefined ? null : checkDocument(fields[0]);
  const document = documentCheck?.ok ? documentCheck.value : null;

  if (fields.length !== EXPECTED_HEADER.length)
    return rejectRow(`expected ${EXPECTED_HEADER.length} fields, found ${fields.length}`, document);
  // A file saved as Latin-1 decodes to U+FFFD: refuse rather than store garbled names.
  for (const field of fields)
    if (field.includes(REPLACEMENT_CHARACTER))
      return rejectRow('contains bytes that are not UTF-8 (save the file as UTF-8)', document);

  const [, memberNumberCell, firstNameCell, lastNameCell, emailCell, mobileCell, statusCell] =
    fields as [string, string, string, string, string, string, string];
  if (!documentCheck?.ok) return rejectRow(documentCheck?.reason ?? 'document is missing', null);
  const memberNumber = checkMemberNumber(memberNumberCell);
  if (!memberNumber.ok) return rejectRow(memberNumber.reason, document);
  const firstName = checkName('first_name', firstNameCell);
  if (!firstName.ok) return rejectRow(firstName.reason, document);
  const lastName = checkName('last_name', lastNameCell);
  if (!lastName.ok) return rejectRow(lastName.reason, document);
  const email = checkEmail(emailCell);
  if (!email.ok) return rejectRow(email.reason, document);
  const mobile = checkMobile(mobileCell);
  if (!mobile.ok) return rejectRow(mobile.reason, document);
  const status = checkStatus(statusCell);
  if (!status.ok) return rejectRow(status.reason, document);

  return {
    ok: true,
    row: {
      document: documentCheck.value,
      memberNumber: memberNumber.value,
      firstName: firstName.value,
      lastName: lastName.value,
      email: email.value,
      mobile: mobile.value,
      status: status.value,
    },
  };
}

function rejectRow(reason: string, document: string | null): RowCheck {
  return { ok: false, reason, document };
}
