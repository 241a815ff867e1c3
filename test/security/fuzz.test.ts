// Attack suite, fuzzing. fast-check generates, from one fixed seed (CI sends
// the same bodies on every run), bodies for every API route and every form,
// and query strings for the pages, and sends them with app.inject. Whatever
// arrives: no answer is 500 or above; the API answers JSON, its errors in the
// {"error": {"code", "message"}} shape; a page answers HTML (or a redirect)
// without a stack trace; Object.prototype is never polluted. Bodies go now
// and then to another spelling of their address (a trailing slash, an escaped
// letter, a query string) with malformed cookies beside them, and every route
// also gets the methods it does not take.
//
// And invalid input changes no row: the whole database (every table, every
// column) is compared after each request with the state before it. "Invalid"
// is precise here: each body of that class is built with at least one defect
// the app must refuse before a flow does any work:
//   - transport: a content type the route does not take, a body over the
//     16 KiB limit, JSON that does not parse (cut short, trailing garbage,
//     a `__proto__` or `constructor.prototype` key); for forms a missing,
//     wrong or cookie-less CSRF token or a cross-site origin;
//   - shape: a required field missing, repeated (forms: a=1&a=2) or not a
//     string; an unknown field or a string over its maxLength (API); not an
//     object at all;
//   - content: a field a flow refuses before it reads the database: a document
//     with a letter, non-ASCII digits or too many digits, an SMS code that is
//     not 6 digits, a token that is not 43 base64url characters, a login
//     password over 128 characters, or two new passwords that differ (with a
//     live set-password token).
// Every defect is ASCII or structural, so the odd encodings laid on top
// (latin1 bytes, stray invalid UTF-8 bytes, broken percent escapes, a BOM,
// UTF-16) cannot repair it; the one defect they could repair (an empty login
// password, which a stray byte turns into "\uFFFD") is only sent as plain
// UTF-8. The rest of each body is random: wrong types, huge strings, astral,
// RTL, combining, NUL and control characters, lone surrogates, and often the
// real credentials of a member or a live set-password token, so the defect is
// all that stands between the body and a real login or password change.
//
// A body that is well-formed but wrong (a valid document with a wrong
// password, a 6-digit code that was not sent, a document that is no member's)
// is not invalid: the flows rightly count it against the throttles, audit it,
// and may queue a message. That class is generated separately ("wrong"), with
// what must still hold for it: no session created or ended, no member row
// changed, and only the audit events of its own flow. So is a body whose only
// fault is its CAPTCHA ("captcha", on an ALTCHA server: refused and audited).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { generateToken, hashToken } from '../../src/auth/secrets.ts';
import type { Database } from '../../src/db/schema.ts';
import {
  buildTestApp,
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';
import { FORM, send } from './attack.ts';

/** One seed for every property: CI replays exactly these bodies. */
const SEED = 20_261_125;

const ALICE = { document: '1234567', password: 'clave2026' } as const;
const EVA = { document: '5678901', memberNumber: '100005' } as const;
/** Acceptable to the password policy (manual: 6–10 letters and digits). */
const STRONG = 'Tornado26';

// ---------------------------------------------------------------------------
// The whole database, to tell whether a request changed any row.

const TABLE_ORDER = {
  members: 'id',
  sessions: 'id_hash',
  audit_events: 'id',
  captcha_solutions: 'key',
  one_time_secrets: 'id',
  outbox: 'id',
  dev_mailbox: 'id',
  rate_counters: 'key, window_start',
  account_lockouts: 'document_hash',
  staff_users: 'id',
  staff_enrolments: 'token_hash',
  staff_recovery_codes: 'staff_id, code_hash',
  staff_sessions: 'id_hash',
  staff_visits: 'id',
  passkeys: 'id',
  webauthn_challenges: 'challenge_hash',
  request_intake: 'id',
} as const;
type Table = keyof typeof TABLE_ORDER;
type Row = Record<string, unknown>;
type Rows = Record<Table, Row[]>;
const TABLES = Object.keys(TABLE_ORDER) as Table[];

const SNAPSHOT_SQL = `select json_build_object(${Object.entries(TABLE_ORDER)
  .map(
    ([table, order]) =>
      `'${table}', (select coalesce(json_agg(t order by ${order}), '[]'::json) from ${table} t)`,
  )
  .join(', ')})::text as rows`;

/** Every row of every table, as one JSON text (one query). */
async function snapshot(db: Database): Promise<string> {
  const result = await sql.raw<{ rows: string }>(SNAPSHOT_SQL).execute(db);
  const text = result.rows[0]?.rows;
  assert.ok(text, 'the snapshot query answered nothing');
  return text;
}

/** Rows removed and added, table by table. */
type Changes = Record<Table, { gone: Row[]; added: Row[] }>;

function rowChanges(before: string, after: string): Changes {
  const a = JSON.parse(before) as Rows;
  const b = JSON.parse(after) as Rows;
  const out = {} as Changes;
  for (const table of TABLES) {
    const left = new Map(a[table].map((row) => [JSON.stringify(row), row]));
    const right = new Map(b[table].map((row) => [JSON.stringify(row), row]));
    out[table] = {
      gone: [...left].filter(([key]) => !right.has(key)).map(([, row]) => row),
      added: [...right].filter(([key]) => !left.has(key)).map(([, row]) => row),
    };
  }
  return out;
}

function describeChanges(changes: Changes): string {
  return TABLES.filter((table) => changes[table].gone.length + changes[table].added.length > 0)
    .map(
      (table) =>
        `${table}: before ${JSON.stringify(changes[table].gone).slice(0, 800)} after ${JSON.stringify(changes[table].added).slice(0, 800)}`,
    )
    .join('\n');
}

// ---------------------------------------------------------------------------
// Probes: one request, what it is, and what its answer must be.

type Phase = 'invalid' | 'wrong' | 'captcha' | 'query';

interface Probe {
  /** The route as counted: "POST /api/v1/login". */
  route: string;
  /** What the body is (its defect), for the report of a failure. */
  what: string;
  /** 'refused': the answer must be a 4xx; 'any': below 500 is enough. */
  expect: 'refused' | 'any';
  request: InjectOptions;
}

/** Codes that mean a body was taken as well-formed: never the answer to an invalid one. */
const WELL_FORMED_CODES = new Set([
  'INVALID_CREDENTIALS',
  'DOCUMENT_HAS_CHECK_DIGIT',
  'LOGIN_THROTTLED',
  'REQUESTS_THROTTLED',
  'CODE_INVALID',
  'CAPTCHA_FAILED',
  'CAPTCHA_REQUIRED',
]);

/** A stack frame or an error's name in an answer; the app shows neither. */
const STACK_TRACE =
  /\bat [^\n<"]*[\\/][^\n<"]*\.(?:ts|js|mjs|cjs):\d+|\b(?:Type|Syntax|Range|Reference)?Error: |node_modules/;

const counts = new Map<string, Record<Phase, number>>();
/** The answers to the invalid bodies per route (status, and the API's code): how far they got. */
const answers = new Map<string, Map<string, number>>();

function tallyAnswer(probe: Probe, response: LightMyRequestResponse): void {
  let answer = String(response.statusCode);
  if (isApi(probe) && response.statusCode >= 400)
    try {
      answer += ` ${(JSON.parse(response.body) as { error: { code: string } }).error.code}`;
    } catch {
      answer += ' ?';
    }
  const entry = answers.get(probe.route) ?? new Map<string, number>();
  entry.set(answer, (entry.get(answer) ?? 0) + 1);
  answers.set(probe.route, entry);
}

function tally(route: string, phase: Phase): void {
  const entry = counts.get(route) ?? { invalid: 0, wrong: 0, captcha: 0, query: 0 };
  entry[phase] += 1;
  counts.set(route, entry);
}

/** By the decoded path, as the app decides (`/%61pi/v1/login` is the API too). */
function isApi(probe: Probe): boolean {
  const path = String(probe.request.url).split('?')[0] ?? '';
  try {
    return decodeURIComponent(path).startsWith('/api/');
  } catch {
    return path.startsWith('/api/');
  }
}

/** Other spellings of a route's address, which route to the same handler. */
type Spelling = 'as is' | 'trailing slash' | 'a letter escaped' | 'a query string';

const spelling = fc.tuple(
  fc.constantFrom<Spelling>(
    'as is',
    'as is',
    'as is',
    'trailing slash',
    'a letter escaped',
    'a query string',
  ),
  fc.nat(),
  fc.constantFrom(
    `document=${ALICE.document}&password=${ALICE.password}`,
    'channel=email&document=1234567',
    '%zz',
    'a=1&a=2',
    '__proto__[polluted]=1',
  ),
);

function respelled(probe: Probe, [how, at, query]: [Spelling, number, string]): Probe {
  if (how === 'as is') return probe;
  const url = String(probe.request.url);
  let respelt = url;
  if (how === 'trailing slash') respelt = `${url}/`;
  if (how === 'a query string') respelt = `${url}?${query}`;
  if (how === 'a letter escaped') {
    const letters = [...url.matchAll(/[a-z]/g)].map((m) => m.index ?? 0);
    const i = letters[at % letters.length] ?? 1;
    respelt = `${url.slice(0, i)}%${url.charCodeAt(i).toString(16)}${url.slice(i + 1)}`;
  }
  // buildTestApp's inject takes a post to an address not spelt "/api/…" for a
  // form and adds a CSRF token to a text body; bytes go out untouched.
  const payload = probe.request.payload;
  const bytes = isApi(probe) && typeof payload === 'string' && !respelt.startsWith('/api/');
  return {
    ...probe,
    what: `${probe.what}; address ${respelt}`,
    request: {
      ...probe.request,
      url: respelt,
      ...(bytes ? { payload: Buffer.from(payload) } : {}),
    },
  };
}

/** What every answer must be, whatever was sent. */
function assertSafeAnswer(probe: Probe, response: LightMyRequestResponse): void {
  const where = `${probe.route} [${probe.what}]`;
  const status = response.statusCode;
  assert.ok(status < 500, `${where} answered ${status}: ${response.body.slice(0, 400)}`);
  assert.doesNotMatch(response.body, STACK_TRACE, `${where}: a stack trace in the answer`);
  assert.equal(
    (Object.prototype as Record<string, unknown>).polluted,
    undefined,
    `${where}: Object.prototype was polluted`,
  );
  const type = String(response.headers['content-type'] ?? '');
  if (isApi(probe)) {
    if (response.body === '') return;
    assert.match(type, /^application\/json/, `${where}: answered ${type}`);
    const body = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
    if (status >= 400) {
      assert.equal(
        typeof body.error?.code,
        'string',
        `${where}: no error code in ${response.body}`,
      );
      assert.equal(typeof body.error?.message, 'string', `${where}: no message`);
      assert.notEqual(body.error?.message, '', `${where}: an empty message`);
    }
    return;
  }
  if (status >= 300 && status < 400) {
    assert.ok(response.headers.location, `${where}: a redirect without Location`);
    return;
  }
  assert.match(type, /^text\/html/, `${where}: answered ${type}`);
  assert.match(response.body, /^<!doctype html>/i, `${where}: not an HTML page`);
}

/** For an invalid body: a 4xx, and not one that says the body was taken as well-formed. */
function assertRefused(probe: Probe, response: LightMyRequestResponse): void {
  const where = `${probe.route} [${probe.what}]`;
  const status = response.statusCode;
  assert.ok(status >= 400 && status < 500, `${where} was not refused: ${status}`);
  if (isApi(probe)) {
    const code = (JSON.parse(response.body) as { error: { code: string } }).error.code;
    assert.ok(!WELL_FORMED_CODES.has(code), `${where} was taken as well-formed: ${code}`);
  }
}

// ---------------------------------------------------------------------------
// Building blocks of bodies.

/** Odd characters and snippets, mixed into every random string. */
const ODD = [
  // controls, NUL, invisible, direction and line marks, BOM, non-characters
  ...['\u0000', '\u0001', '\u0008', '\u001b', '\u007f', '\u0085', '\u00a0', '\u00ad'],
  ...['\u200b', '\u200d', '\u200e', '\u200f', '\u202e', '\u2066', '\u2028', '\ufeff'],
  ...['\ufffd', '\uffff', '\r\n', '\n', '\t', ' '],
  // combining marks, lone surrogates, astral, other scripts and digits
  ...['\u0301', '\u0338', 'e\u0301', '\ud800', '\udc00', '😀', '👩‍👩‍👧', '𝟙', '١٢٣', '１', 'Ⅻ'],
  ...['ß', 'İ', 'ﬁ', 'ñ', 'Ω', 'ア', '中', 'שלום', 'مرحبا'],
  // what parsers, templates and SQL care about
  ...['"', "'", '\\', '/', '<', '>', '&', '=', '+', '%', '%00', '%zz', '%E0%A4', '%C0%AF', '%25'],
  ...['#', '?', ';', '[]', '{}', '${', '{{', '../', 'null', 'NaN', '-0', '1e309'],
  ...["' OR '1'='1", '<script>'],
];

const loneSurrogate = fc
  .integer({ min: 0xd800, max: 0xdfff })
  .map((code) => String.fromCharCode(code));
const unit = fc.oneof(
  { weight: 5, arbitrary: fc.string({ minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: loneSurrogate },
  { weight: 3, arbitrary: fc.constantFrom(...ODD) },
);
const text = (maxLength = 20) => fc.string({ unit, maxLength });
/** Up to and well beyond the 16 KiB body limit (in characters; bytes are more). */
const huge = fc
  .tuple(
    fc.constantFrom('a', '7', ' ', 'ñ', '😀', '\u0000', '%', '&', '<', '\u0301'),
    fc.integer({ min: 200, max: 20_000 }),
  )
  .map(([c, n]) => c.repeat(n));
const anyText = fc.oneof({ weight: 12, arbitrary: text() }, { weight: 1, arbitrary: huge });
/** Printable ASCII: what a header value may hold. */
const headerText = (maxLength = 60) => fc.string({ maxLength });
const notAString: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(text(8), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(text(6), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.constantFrom<unknown>(['1234567'], { $ne: null }, { toString: 'x' }, [], {}),
);

const DIGIT_CHARS = '0123456789'.split('');
const digits = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...DIGIT_CHARS), minLength, maxLength });
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('');
const base64url = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...BASE64URL), minLength, maxLength });
/** Letters that are no hex digit, so no percent escape can swallow them. */
const LETTER = fc.constantFrom('x', 'z', 'q', 'o', 'O', 'l', 'I', 'X');
/** Strings that look like a document but are no digits normalizeDocument accepts. */
const NOT_DIGITS = [
  '١٢٣٤٥٦٧',
  '１２３４５６７',
  '𝟏𝟐𝟑𝟒𝟓𝟔𝟕',
  '123\u00004567',
  '1234567\u0000',
  '123\u200b4567',
  '1234567\u0301',
  '12345😀67',
  '\u202e7654321',
  '1234567\ufffd',
  '1,234,567',
  '+1234567',
  '1234567e0',
  '0x12D687',
];

function insert(into: string, piece: string, at: number): string {
  const i = at % (into.length + 1);
  return into.slice(0, i) + piece + into.slice(i);
}

/** A document as members type it, for a login (5–9 digits) or a request (up to 12). */
const loginDocument = fc.oneof(
  fc.constantFrom(ALICE.document, '2345678', '3456789', '4567890', EVA.document),
  fc.constantFrom('1.234.567', ' 1234567 ', '01234567', '1234567-2', '12345672', '1 234 567'),
  fc.integer({ min: 10_000, max: 999_999_999 }).map(String),
);
const requestDocument = fc.oneof(
  loginDocument,
  fc.constantFrom('100001', '100005'),
  digits(10, 12).map((d) => `1${d.slice(1)}`),
);

// ---------------------------------------------------------------------------
// Documents of fields and their defects.

type Pairs = Array<[string, unknown]>;

type Defect = { label: string; stable: boolean } & (
  | { kind: 'set'; pairs: Pairs }
  | { kind: 'drop'; field: string }
  | { kind: 'repeat'; field: string; values: string[] }
  | { kind: 'extra'; field: string; value: unknown }
  | { kind: 'top'; value: unknown }
);

/** The fields after the defect; `top` when the body is no object at all. */
type Body = { pairs: Pairs } | { top: unknown };

function applyDefect(pairs: Pairs, defect: Defect): Body {
  switch (defect.kind) {
    case 'set': {
      const names = new Set(defect.pairs.map(([name]) => name));
      return { pairs: [...pairs.filter(([name]) => !names.has(name)), ...defect.pairs] };
    }
    case 'drop':
      return { pairs: pairs.filter(([name]) => name !== defect.field) };
    case 'repeat':
      return {
        pairs: [
          ...pairs.filter(([name]) => name !== defect.field),
          ...defect.values.map((value): [string, unknown] => [defect.field, value]),
        ],
      };
    case 'extra':
      return { pairs: [...pairs, [defect.field, defect.value]] };
    case 'top':
      return { top: defect.value };
  }
}

const setField = (field: string, label: string, value: fc.Arbitrary<string>, stable = true) =>
  value.map(
    (v): Defect => ({ kind: 'set', pairs: [[field, v]], label: `${field}: ${label}`, stable }),
  );

/** Documents a flow refuses before it reads the database (maxDigits: 9 login, 12 requests). */
function documentDefects(field: string, maxDigits: 9 | 12): fc.Arbitrary<Defect>[] {
  return [
    setField(
      field,
      'a letter',
      fc.tuple(digits(5, 9), LETTER, fc.nat()).map(([d, c, i]) => insert(d, c, i)),
    ),
    setField(field, 'blank', fc.constantFrom('', ' ', '   ', '\t', '\u00a0', '.', '-', ' . - / ')),
    setField(field, `over ${maxDigits} digits`, digits(maxDigits + 1, 32)),
    setField(
      field,
      'over 32 characters',
      fc.integer({ min: 33, max: 64 }).map((n) => '1.'.repeat(n).slice(0, n)),
    ),
    setField(field, 'no ASCII digits', fc.constantFrom(...NOT_DIGITS)),
    ...(maxDigits === 9 ? [setField(field, 'under 5 digits', digits(1, 4))] : []),
  ];
}

const codeDefects = (): fc.Arbitrary<Defect>[] => [
  setField(
    'code',
    'a letter',
    fc.tuple(digits(6, 6), LETTER, fc.nat()).map(([d, c, i]) => insert(d, c, i)),
  ),
  setField('code', 'not 6 digits', fc.oneof(digits(1, 5), digits(7, 12))),
  setField('code', 'blank', fc.constantFrom('', ' ', '\t')),
  setField(
    'code',
    'no ASCII digits',
    fc.constantFrom('١٢٣٤٥٦', '１２３４５６', '123\u0000456', '12345６'),
  ),
];

const loginPasswordDefects = (maxLength: number): fc.Arbitrary<Defect>[] => [
  setField(
    'password',
    'over 128 characters',
    fc
      .tuple(fc.integer({ min: 129, max: maxLength - 8 }), text(8))
      .map(([n, tail]) => `${'p'.repeat(n)}${tail}`.slice(0, maxLength)),
  ),
  // A stray byte would turn "" into "\uFFFD", a usable password: plain UTF-8 only.
  setField('password', 'empty', fc.constant(''), false),
];

const WRONG_CHANNELS = [
  'EMAIL',
  'Email',
  'SMS',
  ' sms',
  'sms ',
  'e-mail',
  'mail',
  'whatsapp',
  '',
  'emaіl',
  'ѕms',
  'email\u0000',
  'sms\n',
  'email,sms',
  '["email"]',
];
const wrongChannel = fc.oneof(
  fc.constantFrom(...WRONG_CHANNELS),
  text(10).filter((c) => c !== 'email' && c !== 'sms'),
);

/** Not 43 base64url characters: refused before any lookup. */
const badToken = fc.oneof(
  base64url(0, 42),
  base64url(44, 128),
  fc
    .tuple(
      base64url(42, 42),
      fc.constantFrom('!', '.', '=', '+', '/', ' ', 'ñ', '\u0000', '%'),
      fc.nat(),
    )
    .map(([t, c, i]) => insert(t, c, i)),
  text(50).filter((t) => !/^[A-Za-z0-9_-]{43}$/.test(t)),
);

/** Two new passwords that differ in a last ASCII letter no escape or byte can reach. */
const differingPasswords = fc
  .tuple(fc.oneof(fc.constant(STRONG), text(12)), fc.constantFrom(['Y', 'W'], ['W', 'Y']))
  .map(
    ([p, [a, b]]): Pairs => [
      ['password', `${p}${a}`],
      ['passwordConfirmation', `${p}${b}`],
    ],
  );

// ---------------------------------------------------------------------------
// JSON bodies for the API.

interface ApiField {
  name: string;
  required: boolean;
  maxLength: number;
  enum?: readonly string[];
  good: fc.Arbitrary<string>;
}

interface ApiSpec {
  url: string;
  fields: ApiField[];
  /** Schema-valid values its flow refuses before any write. */
  flowDefects: fc.Arbitrary<Defect>[];
}

const EXTRA_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  '_csrf',
  'Document',
  'PASSWORD',
  'document ',
  ' document',
  'documento',
  'username',
  'token\u0000',
  '',
  'x'.repeat(300),
];

function schemaDefects(spec: ApiSpec): fc.Arbitrary<Defect>[] {
  const names = spec.fields.map((f) => f.name);
  const required = spec.fields.filter((f) => f.required).map((f) => f.name);
  const enums = spec.fields.filter((f) => f.enum);
  const defects: fc.Arbitrary<Defect>[] = [
    fc
      .constantFrom(...required)
      .map((field): Defect => ({ kind: 'drop', field, label: `no ${field}`, stable: true })),
    fc.tuple(fc.constantFrom(...names), notAString).map(
      ([field, value]): Defect => ({
        kind: 'set',
        pairs: [[field, value]],
        label: `${field} not a string`,
        stable: true,
      }),
    ),
    fc
      .tuple(
        fc.oneof(fc.constantFrom(...EXTRA_KEYS), text(12)).filter((k) => !names.includes(k)),
        fc.jsonValue({ maxDepth: 2 }),
      )
      .map(
        ([field, value]): Defect => ({
          kind: 'extra',
          field,
          value,
          label: `unknown field ${JSON.stringify(field.slice(0, 20))}`,
          stable: true,
        }),
      ),
    fc.constantFrom<Defect>(
      {
        kind: 'extra',
        field: '__proto__',
        value: { polluted: true },
        label: '__proto__',
        stable: true,
      },
      {
        kind: 'extra',
        field: 'constructor',
        value: { prototype: { polluted: true } },
        label: 'constructor.prototype',
        stable: true,
      },
    ),
    fc
      .tuple(
        fc.constantFrom(...spec.fields),
        fc.constantFrom('1', 'a', ' ', '.'),
        fc.integer({ min: 1, max: 20_000 }),
        text(6),
      )
      .map(
        ([field, c, n, tail]): Defect => ({
          kind: 'set',
          pairs: [[field.name, `${c.repeat(field.maxLength + n)}${tail}`]],
          label: `${field.name} over ${field.maxLength}`,
          stable: true,
        }),
      ),
    fc
      .oneof(
        fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
        fc.integer(),
        text(),
        fc.constantFrom<unknown>(null, true, false, 0, '', [ALICE.document, ALICE.password]),
      )
      .map((value): Defect => ({ kind: 'top', value, label: 'not an object', stable: true })),
  ];
  for (const field of enums) {
    defects.push(
      wrongChannel
        .filter((v) => !field.enum?.includes(v))
        .map(
          (value): Defect => ({
            kind: 'set',
            pairs: [[field.name, value]],
            label: `${field.name} not one of ${field.enum?.join('|')}`,
            stable: true,
          }),
        ),
    );
  }
  return defects;
}

/** A body as a client might send it: fields mostly present, values often good. */
function apiFields(spec: ApiSpec): fc.Arbitrary<Pairs> {
  const names = spec.fields.map((f) => f.name);
  return fc
    .tuple(
      fc.tuple(
        ...spec.fields.map((f) =>
          fc.option(fc.oneof({ weight: 3, arbitrary: f.good }, { weight: 1, arbitrary: text() }), {
            nil: undefined,
            freq: f.required ? 12 : 2,
          }),
        ),
      ),
      // Earlier duplicates of a key (JSON keeps the last one): noise.
      fc.array(fc.tuple(fc.constantFrom(...names), fc.oneof(text(8), notAString)), {
        maxLength: 2,
      }),
    )
    .map(([values, shadows]) => [
      ...shadows,
      ...spec.fields.flatMap((f, i): Pairs => {
        const value = values[i];
        return value === undefined ? [] : [[f.name, value]];
      }),
    ]);
}

/** A body every field of which is good (the real credentials, a live token…). */
function apiGoodFields(spec: ApiSpec): fc.Arbitrary<Pairs> {
  return fc
    .tuple(
      ...spec.fields.map((f) =>
        f.required ? f.good : fc.option(f.good, { nil: undefined, freq: 2 }),
      ),
    )
    .map((values) =>
      spec.fields.flatMap((f, i): Pairs => {
        const value = values[i];
        return value === undefined ? [] : [[f.name, value]];
      }),
    );
}

interface JsonEncoding {
  label: string;
  contentType: string | null;
  bytes: 'utf8' | 'latin1' | 'utf16le' | 'bom';
  separator: string;
  /** Invalid UTF-8 byte sequences inserted at these offsets of the body's bytes. */
  strayBytes: Array<[number, number[]]>;
  /** Keep only this many characters (modulo the length): a proper prefix. */
  cut?: number;
  prefix?: string;
  suffix?: string;
}

const JSON_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json;charset=UTF-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
];
/** Content types the API refuses (415), and none at all. */
const NOT_JSON_TYPES = [
  null,
  'text/plain',
  'text/plain; charset=utf-8',
  'multipart/form-data; boundary=xyz',
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=latin1',
  'application/xml',
  'application/jsonx',
  'application/json-patch+json',
  'application/vnd.api+json',
  'text/json',
  'json',
  '',
  '*/*',
  'application/octet-stream',
  ' application/json',
];
const SEPARATORS = [',', ', ', ',\n  ', ' ,\t', ',\r\n'];
const STRAY = [
  [0xff],
  [0xfe],
  [0x80],
  [0xc3],
  [0xc0, 0xaf],
  [0xe0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
];
const strayBytes = fc.array(fc.tuple(fc.nat(), fc.constantFrom(...STRAY)), {
  minLength: 1,
  maxLength: 4,
});

/** Encodings that keep a stable defect; `stable` false: plain UTF-8 (or UTF-16) only. */
function jsonEncoding(stable: boolean): fc.Arbitrary<JsonEncoding> {
  const plain = fc
    .record({
      contentType: fc.constantFrom(...JSON_TYPES),
      separator: fc.constantFrom(...SEPARATORS),
      bytes: fc.constantFrom<JsonEncoding['bytes']>('utf8', 'utf8', 'utf8', 'bom', 'utf16le'),
    })
    .map((r): JsonEncoding => ({ ...r, label: r.bytes, strayBytes: [] }));
  if (!stable) return plain;
  const odd = fc
    .record({
      contentType: fc.constantFrom(...JSON_TYPES),
      separator: fc.constantFrom(...SEPARATORS),
      bytes: fc.constantFrom<JsonEncoding['bytes']>('latin1', 'utf8'),
      strayBytes,
    })
    .map((r): JsonEncoding => ({ ...r, label: r.bytes === 'utf8' ? 'stray bytes' : 'latin1' }));
  return fc.oneof({ weight: 2, arbitrary: plain }, { weight: 1, arbitrary: odd });
}

/** Encodings the API refuses whatever the fields: 415, 413, or JSON that does not parse. */
const refusedJson: fc.Arbitrary<JsonEncoding> = fc.oneof(
  fc.nat().map(
    (cut): JsonEncoding => ({
      label: 'JSON cut short',
      contentType: 'application/json',
      bytes: 'utf8',
      separator: ',',
      strayBytes: [],
      cut,
    }),
  ),
  fc.constantFrom(',', ',}', ']', '}', '{', ' x', '\u0000', '/*', 'null', '{}', '\ufeff').map(
    (suffix): JsonEncoding => ({
      label: `JSON then ${JSON.stringify(suffix)}`,
      contentType: 'application/json',
      bytes: 'utf8',
      separator: ',',
      strayBytes: [],
      suffix,
    }),
  ),
  fc.constantFrom('/**/', ")]}'\n", 'for(;;);', '\ufeff\ufeff', 'x', '\u0000').map(
    (prefix): JsonEncoding => ({
      label: `${JSON.stringify(prefix)} then JSON`,
      contentType: 'application/json',
      bytes: 'utf8',
      separator: ',',
      strayBytes: [],
      prefix,
    }),
  ),
  fc.constantFrom(...NOT_JSON_TYPES).map(
    (contentType): JsonEncoding => ({
      label: `content type ${JSON.stringify(contentType)}`,
      contentType,
      bytes: 'utf8',
      separator: ',',
      strayBytes: [],
    }),
  ),
  fc.integer({ min: 16 * 1024 + 1, max: 40_000 }).map(
    (n): JsonEncoding => ({
      label: `padded to over 16 KiB (${n})`,
      contentType: 'application/json',
      bytes: 'utf8',
      separator: ',',
      strayBytes: [],
      suffix: ' '.repeat(n),
    }),
  ),
);

function jsonText(body: Body, separator: string): string {
  if ('top' in body) return JSON.stringify(body.top) ?? 'null';
  const members = body.pairs.map(
    ([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value) ?? 'null'}`,
  );
  return `{${members.join(separator)}}`;
}

/** Latin-1 as a browser would send it: characters it cannot hold become "?". */
function latin1(text: string): Buffer {
  return Buffer.from(text.replace(/[\u0100-\u{10ffff}]/gu, '?'), 'latin1');
}

function withStrayBytes(bytes: Buffer, stray: Array<[number, number[]]>): Buffer {
  let out = bytes;
  for (const [at, sequence] of stray) {
    const i = at % (out.length + 1);
    out = Buffer.concat([out.subarray(0, i), Buffer.from(sequence), out.subarray(i)]);
  }
  return out;
}

function jsonPayload(body: Body, e: JsonEncoding): string | Buffer {
  let text = jsonText(body, e.separator);
  if (e.cut !== undefined) text = text.slice(0, e.cut % text.length);
  text = `${e.prefix ?? ''}${text}${e.suffix ?? ''}`;
  switch (e.bytes) {
    case 'latin1':
      return withStrayBytes(latin1(text), e.strayBytes);
    case 'utf16le':
      return Buffer.from(text, 'utf16le');
    case 'bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf8':
      return e.strayBytes.length ? withStrayBytes(Buffer.from(text, 'utf8'), e.strayBytes) : text;
  }
}

function apiRequest(
  method: 'GET' | 'POST',
  url: string,
  body: Body | null,
  e: JsonEncoding,
  headers: Record<string, string>,
): InjectOptions {
  return {
    method,
    url,
    headers: { ...headers, ...(e.contentType === null ? {} : { 'content-type': e.contentType }) },
    ...(body ? { payload: jsonPayload(body, e) } : {}),
  };
}

/** Invalid bodies for one API route: a defect, or a transport it refuses. */
function apiProbes(spec: ApiSpec, headers: Record<string, string> = {}): fc.Arbitrary<Probe> {
  const route = `POST ${spec.url}`;
  const defective = fc
    .tuple(apiFields(spec), fc.oneof(...schemaDefects(spec), ...spec.flowDefects))
    .chain(([pairs, defect]) =>
      jsonEncoding(defect.stable).map(
        (e): Probe => ({
          route,
          what: `${defect.label}; ${e.label}, ${e.contentType}`,
          expect: 'refused',
          request: apiRequest('POST', spec.url, applyDefect(pairs, defect), e, headers),
        }),
      ),
    );
  const refused = fc.tuple(apiGoodFields(spec), refusedJson).map(
    ([pairs, e]): Probe => ({
      route,
      what: `good fields; ${e.label}`,
      expect: 'refused',
      request: apiRequest('POST', spec.url, { pairs }, e, headers),
    }),
  );
  return fc.oneof({ weight: 4, arbitrary: defective }, { weight: 1, arbitrary: refused });
}

// ---------------------------------------------------------------------------
// Urlencoded bodies for the forms.

interface FormField {
  name: string;
  good: fc.Arbitrary<string>;
  /** The CAPTCHA's field: the test server (CAPTCHA_PROVIDER=none) ignores it. */
  optional?: true;
}

interface FormSpec {
  url: string;
  fields: FormField[];
  /** Values its flow refuses before any write (besides missing and repeated fields). */
  flowDefects: fc.Arbitrary<Defect>[];
}

type Encoder = 'standard' | 'plus' | 'minimal' | 'every';

function percentBytes(value: string, keep: RegExp, plus: boolean): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (byte < 0x80 && keep.test(c)) out += c;
    else if (plus && byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Faithful encodings: the server decodes each back to the same string. */
function encodeComponent(value: string, how: Encoder): string {
  switch (how) {
    case 'standard':
      return percentBytes(value, /[A-Za-z0-9\-_.!~*'()]/, false);
    case 'plus':
      return percentBytes(value, /[A-Za-z0-9\-_.*]/, true);
    case 'every':
      return percentBytes(value, /(?!)/, false);
    case 'minimal':
      // Only what would break the structure; everything else raw (UTF-8, controls, NUL).
      return value.replace(/[%&=+#]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }
}

/** Percent escapes that do not decode; the server then keeps the whole value raw. */
const BROKEN_ESCAPES = [
  '%',
  '%z',
  '%zz',
  '%G0',
  '%E0%A4',
  '%C0%AF',
  '%ED%A0%80',
  '%FF',
  '%%',
  '%2',
  '%u0041',
];

interface FormEncoding {
  label: string;
  transport: 'string' | 'latin1' | 'stray';
  encoder: Encoder;
  contentType: string;
  separator: '&' | '&&';
  /** A broken escape into the value of pair `index` at `at`. */
  brokenEscape: [number, number, string] | null;
  strayBytes: Array<[number, number[]]>;
}

const FORM_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=UTF-8',
  'application/x-www-form-urlencoded; charset=latin1',
  'application/x-www-form-urlencoded;charset=ISO-8859-1',
  'Application/X-WWW-Form-Urlencoded',
];

function formEncoding(stable: boolean): fc.Arbitrary<FormEncoding> {
  return fc
    .record({
      transport: stable
        ? fc.constantFrom<FormEncoding['transport']>('string', 'string', 'latin1', 'stray')
        : fc.constant<FormEncoding['transport']>('string'),
      encoder: fc.constantFrom<Encoder>('standard', 'plus', 'minimal', 'every'),
      contentType: fc.constantFrom(...FORM_TYPES),
      separator: fc.constantFrom<'&' | '&&'>('&', '&', '&&'),
      brokenEscape: stable
        ? fc.option(fc.tuple(fc.nat(), fc.nat(), fc.constantFrom(...BROKEN_ESCAPES)), {
            nil: null,
          })
        : fc.constant(null),
      strayBytes,
    })
    .map(
      (r): FormEncoding => ({
        ...r,
        strayBytes: r.transport === 'stray' ? r.strayBytes : [],
        label: `${r.transport}, ${r.encoder}${r.brokenEscape ? `, broken escape ${r.brokenEscape[2]}` : ''}`,
      }),
    );
}

function formText(pairs: Pairs, e: Pick<FormEncoding, 'encoder' | 'separator' | 'brokenEscape'>) {
  const parts = pairs.map(([key, value], index) => {
    let encoded = encodeComponent(String(value), e.encoder);
    if (e.brokenEscape && e.brokenEscape[0] % pairs.length === index)
      encoded = insert(encoded, e.brokenEscape[2], e.brokenEscape[1]);
    return `${encodeComponent(key, e.encoder)}=${encoded}`;
  });
  return parts.join(e.separator);
}

/** What refuses a form post whatever its fields (415, 413, 400, or 403 for CSRF). */
type FormRefusal =
  | 'text/plain'
  | 'multipart/form-data'
  | 'no content type'
  | 'application/xml'
  | 'application/json'
  | 'over 16 KiB'
  | 'wrong CSRF token'
  | 'no CSRF token'
  | 'no CSRF cookie'
  | 'Sec-Fetch-Site: cross-site'
  | 'foreign Origin'
  | 'foreign Referer';

const formRefusal = fc.record({
  kind: fc.constantFrom<FormRefusal>(
    'text/plain',
    'multipart/form-data',
    'no content type',
    'application/xml',
    'application/json',
    'over 16 KiB',
    'wrong CSRF token',
    'no CSRF token',
    'no CSRF cookie',
    'Sec-Fetch-Site: cross-site',
    'foreign Origin',
    'foreign Referer',
  ),
  padding: fc.integer({ min: 16 * 1024 + 1, max: 40_000 }),
  token: fc.oneof(base64url(0, 60), headerText(20)),
});

interface Csrf {
  /** `csrf=…`: the cookie the token belongs to. */
  cookie: string;
  token: string;
}

function cookieHeader(cookies: string[]): Record<string, string> {
  return cookies.length ? { cookie: cookies.join('; ') } : {};
}

/** A form post with a well-formed transport (the CSRF token rides along). */
function formRequest(
  url: string,
  pairs: Pairs,
  e: FormEncoding,
  cookies: string[],
  csrf: Csrf,
): InjectOptions {
  const body = formText(pairs, e);
  const headers = { 'content-type': e.contentType };
  if (e.transport === 'string')
    // buildTestApp's inject appends `&_csrf=…` and sets the CSRF cookie.
    return {
      method: 'POST',
      url,
      headers: { ...headers, ...cookieHeader(cookies) },
      payload: body,
    };
  const bytes = e.transport === 'latin1' ? latin1(body) : Buffer.from(body, 'utf8');
  const token = `${body ? '&' : ''}_csrf=${encodeURIComponent(csrf.token)}`;
  return {
    method: 'POST',
    url,
    headers: { ...headers, ...cookieHeader([...cookies, csrf.cookie]) },
    payload: Buffer.concat([withStrayBytes(bytes, e.strayBytes), Buffer.from(token)]),
  };
}

function refusedFormRequest(
  url: string,
  pairs: Pairs,
  refusal: { kind: FormRefusal; padding: number; token: string },
  cookies: string[],
  csrf: Csrf,
): InjectOptions {
  const body = formText(pairs, { encoder: 'standard', separator: '&', brokenEscape: null });
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const post = (headers: Record<string, string>, payload: string | Buffer, own = cookies) => ({
    method: 'POST' as const,
    url,
    headers: { ...headers, ...cookieHeader(own) },
    payload,
  });
  const withToken = `${body}${body ? '&' : ''}_csrf=${encodeURIComponent(csrf.token)}`;
  switch (refusal.kind) {
    case 'text/plain':
    case 'application/xml':
    case 'application/json':
      return post({ 'content-type': refusal.kind }, body);
    case 'multipart/form-data':
      return post(
        { 'content-type': 'multipart/form-data; boundary=XyZ' },
        `${pairs
          .map(
            ([k, v]) =>
              `--XyZ\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`,
          )
          .join('')}--XyZ--\r\n`,
      );
    case 'no content type':
      return post({}, body);
    case 'over 16 KiB':
      return post(form, `${body}&pad=${'a'.repeat(refusal.padding)}`);
    case 'wrong CSRF token':
      return post(form, `${body}${body ? '&' : ''}_csrf=${encodeURIComponent(refusal.token)}`, [
        ...cookies,
        csrf.cookie,
      ]);
    case 'no CSRF token':
      return post(form, Buffer.from(body), [...cookies, csrf.cookie]);
    case 'no CSRF cookie':
      return post(form, Buffer.from(withToken));
    case 'Sec-Fetch-Site: cross-site':
      return post({ ...form, 'sec-fetch-site': 'cross-site' }, body);
    case 'foreign Origin':
      return post({ ...form, origin: 'https://evil.example' }, body);
    case 'foreign Referer':
      return post({ ...form, referer: 'https://evil.example/form' }, body);
  }
}

/** Keys of noise fields: anything but the form's own fields and `_csrf`. */
function noiseKey(names: string[]): fc.Arbitrary<string> {
  return fc
    .oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'a[b]', 'a[]', ''), text(10))
    .filter((k) => !names.includes(k) && k !== '_csrf');
}

function formFields(spec: FormSpec): fc.Arbitrary<Pairs> {
  const names = spec.fields.map((f) => f.name);
  return fc
    .tuple(
      fc.tuple(
        ...spec.fields.map((f) =>
          fc.option(fc.oneof({ weight: 3, arbitrary: f.good }, { weight: 1, arbitrary: anyText }), {
            nil: undefined,
            freq: 8,
          }),
        ),
      ),
      fc.array(fc.tuple(noiseKey(names), anyText), { maxLength: 3 }),
      fc.boolean(),
    )
    .map(([values, noise, noiseFirst]) => {
      const own = spec.fields.flatMap((f, i): Pairs => {
        const value = values[i];
        return value === undefined ? [] : [[f.name, value]];
      });
      return noiseFirst ? [...noise, ...own] : [...own, ...noise];
    });
}

function formGoodFields(spec: FormSpec): fc.Arbitrary<Pairs> {
  return fc
    .tuple(...spec.fields.map((f) => f.good))
    .map((values) => spec.fields.map((f, i): [string, unknown] => [f.name, values[i]]));
}

/** The fields a flow needs: missing, repeated or not a string, each is a defect. */
function requiredFields(spec: FormSpec): FormField[] {
  return spec.fields.filter((f) => !f.optional);
}

function formDefects(spec: FormSpec): fc.Arbitrary<Defect>[] {
  const names = requiredFields(spec).map((f) => f.name);
  return [
    fc
      .constantFrom(...names)
      .map((field): Defect => ({ kind: 'drop', field, label: `no ${field}`, stable: true })),
    fc
      .tuple(
        fc.constantFrom(...requiredFields(spec)),
        fc.array(fc.oneof(text(), fc.constantFrom(ALICE.document, ALICE.password, 'email')), {
          minLength: 1,
          maxLength: 3,
        }),
      )
      .chain(([field, more]) =>
        field.good.map(
          (good): Defect => ({
            kind: 'repeat',
            field: field.name,
            values: [good, ...more],
            label: `${field.name} repeated`,
            stable: true,
          }),
        ),
      ),
    ...spec.flowDefects,
  ];
}

/** Invalid posts of one form: a defect in a well-formed transport, or a refused transport. */
function formProbes(
  spec: FormSpec,
  csrf: Csrf,
  cookies: fc.Arbitrary<string[]> = fc.constant([]),
): fc.Arbitrary<Probe> {
  const route = `POST ${spec.url}`;
  const names = requiredFields(spec).map((f) => f.name);
  const defective = fc
    .tuple(formFields(spec), fc.oneof(...formDefects(spec)), cookies)
    .chain(([pairs, defect, jar]) => {
      const body = applyDefect(pairs, defect);
      const fields = 'pairs' in body ? body.pairs : [];
      return formEncoding(defect.stable).map(
        (e): Probe => ({
          route,
          what: `${defect.label}; ${e.label}, ${e.contentType}`,
          expect: 'refused',
          request: formRequest(spec.url, fields, e, jar, csrf),
        }),
      );
    });
  // The same fields as JSON (the pages parse it too): a required one missing or no string.
  const asJson = fc
    .tuple(
      formFields(spec),
      fc.oneof(
        ...spec.flowDefects,
        fc
          .constantFrom(...names)
          .map((field): Defect => ({ kind: 'drop', field, label: `no ${field}`, stable: true })),
        fc.tuple(fc.constantFrom(...names), notAString).map(
          ([field, value]): Defect => ({
            kind: 'set',
            pairs: [[field, value]],
            label: `${field} not a string`,
            stable: true,
          }),
        ),
      ),
      cookies,
    )
    .map(([pairs, defect, jar]): Probe => {
      const body = applyDefect(pairs, defect);
      const fields = 'pairs' in body ? body.pairs : [];
      return {
        route,
        what: `${defect.label}; as a JSON object`,
        expect: 'refused',
        request: {
          method: 'POST',
          url: spec.url,
          headers: cookieHeader(jar),
          payload: Object.fromEntries(fields) as Record<string, unknown>,
        },
      };
    });
  const refused = fc
    .tuple(fc.oneof(formGoodFields(spec), formFields(spec)), formRefusal, cookies)
    .map(
      ([pairs, refusal, jar]): Probe => ({
        route,
        what: `fields as they come; ${refusal.kind}`,
        expect: 'refused',
        request: refusedFormRequest(spec.url, pairs, refusal, jar, csrf),
      }),
    );
  return fc.oneof(
    { weight: 5, arbitrary: defective },
    { weight: 1, arbitrary: asJson },
    { weight: 2, arbitrary: refused },
  );
}

// ---------------------------------------------------------------------------

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

describe(`fuzzing every API route and form (${databaseLabel})`, () => {
  let t: TestApp;
  /** `sid=…` of Alice's live web session, and that session's raw token. */
  let webCookie: string;
  let webToken: string;
  /** Alice's live API session. */
  let bearer: string;
  /** Eva's live set-password token (as after opening her emailed link). */
  let liveToken: string;
  let csrf: Csrf;
  /** The database as the previous request left it. */
  let last: string;

  before(async () => {
    t = await buildTestApp({ database });
    await createMember(t.db, { ...ALICE, memberNumber: '100001' });
    await createMember(t.db, { document: '2345678', memberNumber: '100002', status: 'inactive' });
    await createMember(t.db, { document: '3456789', memberNumber: '100003', password: null });
    await createMember(t.db, {
      document: '4567890',
      memberNumber: '100004',
      email: null,
      mobile: null,
    });
    const eva = await createMember(t.db, { ...EVA });

    const login = await send(t.app, {
      method: 'POST',
      url: '/ingresar',
      headers: FORM,
      payload: `document=${ALICE.document}&password=${ALICE.password}`,
    });
    assert.equal(login.statusCode, 303);
    webCookie = cookieFrom(login)
      .split('; ')
      .find((c) => c.startsWith('sid=')) as string;
    assert.ok(webCookie, 'the login set a session cookie');
    webToken = webCookie.slice('sid='.length);
    const api = await send(t.app, {
      method: 'POST',
      url: '/api/v1/login',
      payload: { ...ALICE },
    });
    bearer = (api.json() as { token: string }).token;
    // A code waiting for Alice, so that six digits for her meet a live one.
    const code = await send(t.app, {
      method: 'POST',
      url: '/api/v1/password-requests',
      payload: { document: ALICE.document, channel: 'sms' },
    });
    assert.equal(code.statusCode, 202);
    liveToken = generateToken();
    await t.db
      .insertInto('one_time_secrets')
      .values({
        member_id: eva.id,
        kind: 'set_password',
        purpose: 'recovery',
        secret_hash: hashToken(liveToken),
        created_at: t.clock.now(),
        expires_at: new Date(t.clock.now().getTime() + 30 * 60_000),
      })
      .execute();
    const page = await send(t.app, { method: 'GET', url: '/' });
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    const cookie = cookieFrom(page)
      .split('; ')
      .find((c) => c.startsWith('csrf='));
    assert.ok(token && cookie, 'the login page carries a CSRF token and cookie');
    csrf = { cookie, token };
  });
  after(async () => {
    await t.close();
  });

  it('the snapshot covers every table', async () => {
    const result = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'
        and table_name not like 'kysely%'`.execute(t.db);
    assert.deepEqual(result.rows.map((row) => row.name).sort(), [...TABLES].sort());
  });

  /**
   * Sends a probe and measures the rows it changed before anything is
   * asserted, so that a failing probe is charged with its own changes only
   * (fast-check then shrinks it against a database that moved on).
   */
  async function exchange(app: FastifyInstance, probe: Probe, phase: Phase) {
    tally(probe.route, phase);
    const response = await app.inject(probe.request);
    const now = await snapshot(t.db);
    const changes = now === last ? null : rowChanges(last, now);
    last = now;
    return { response, changes };
  }

  const changed = (changes: Changes | null, table: Table) =>
    changes ? changes[table].gone.length + changes[table].added.length : 0;

  /** Sends an invalid probe: not one row changed, and a safe refusal. */
  async function sendInvalid(probe: Probe): Promise<void> {
    const { response, changes } = await exchange(t.app, probe, 'invalid');
    tallyAnswer(probe, response);
    if (changes)
      assert.fail(
        `${probe.route} [${probe.what}] (${response.statusCode}) changed rows:\n${describeChanges(changes)}`,
      );
    assertSafeAnswer(probe, response);
    if (probe.expect === 'refused') assertRefused(probe, response);
  }

  const check = async (arbitrary: fc.Arbitrary<Probe>, numRuns: number) => {
    last = await snapshot(t.db);
    await fc.assert(
      fc.asyncProperty(arbitrary, spelling, (probe, how) => sendInvalid(respelled(probe, how))),
      { seed: SEED, numRuns },
    );
  };

  /** Cookies beside the body: none, the live session, or malformed ones. */
  const ODD_COOKIES: string[][] = [
    ['sid=x'],
    ['sid='],
    ['sid=%E0%A4'],
    ['sid="unterminated'],
    ['sid=a', 'sid=b'],
    [';;', '='],
    [`sid=${'x'.repeat(5000)}`],
    ['pwtoken=%zz'],
  ];
  const liveSession = () =>
    fc.oneof(
      fc.constant<string[]>([]),
      fc.constant<string[]>([webCookie]),
      fc.constant<string[]>([webCookie, 'sid=x']),
      fc.constantFrom(...ODD_COOKIES),
    );

  describe('invalid bodies change no row', () => {
    let start: string;
    before(async () => {
      start = await snapshot(t.db);
    });
    after(async () => {
      // The whole class, end to end: the database is as it was.
      assert.equal(await snapshot(t.db), start);
    });

    it('POST /api/v1/login', async () => {
      await check(
        apiProbes({
          url: '/api/v1/login',
          fields: [
            { name: 'document', required: true, maxLength: 64, good: loginDocument },
            {
              name: 'password',
              required: true,
              maxLength: 1024,
              good: fc.oneof(fc.constant(ALICE.password), text()),
            },
            { name: 'captcha', required: false, maxLength: 8192, good: text() },
          ],
          flowDefects: [...documentDefects('document', 9), ...loginPasswordDefects(1024)],
        }),
        220,
      );
    });

    it('POST /api/v1/password-requests', async () => {
      await check(
        apiProbes({
          url: '/api/v1/password-requests',
          fields: [
            { name: 'document', required: true, maxLength: 64, good: requestDocument },
            {
              name: 'channel',
              required: true,
              maxLength: 5,
              enum: ['email', 'sms'],
              good: fc.constantFrom('email', 'sms'),
            },
            { name: 'captcha', required: false, maxLength: 8192, good: text() },
            {
              name: 'flow',
              required: false,
              maxLength: 12,
              enum: ['recovery', 'registration'],
              good: fc.constantFrom('recovery', 'registration'),
            },
          ],
          flowDefects: documentDefects('document', 12),
        }),
        160,
      );
    });

    it('POST /api/v1/password-requests/verify', async () => {
      await check(
        apiProbes({
          url: '/api/v1/password-requests/verify',
          fields: [
            { name: 'document', required: true, maxLength: 64, good: requestDocument },
            { name: 'code', required: true, maxLength: 32, good: digits(6, 6) },
          ],
          flowDefects: [...documentDefects('document', 12), ...codeDefects()],
        }),
        140,
      );
    });

    it('POST /api/v1/password (with and without a live token)', async () => {
      const password = fc.oneof(fc.constant(STRONG), text());
      await check(
        apiProbes({
          url: '/api/v1/password',
          fields: [
            {
              name: 'token',
              required: true,
              maxLength: 128,
              good: fc.oneof(fc.constant(liveToken), base64url(43, 43)),
            },
            { name: 'password', required: true, maxLength: 1024, good: password },
            { name: 'passwordConfirmation', required: true, maxLength: 1024, good: password },
            { name: 'captcha', required: false, maxLength: 8192, good: text() },
          ],
          flowDefects: [
            setField('token', 'not 43 base64url characters', badToken),
            differingPasswords.map(
              (pairs): Defect => ({
                kind: 'set',
                pairs: [['token', liveToken], ...pairs],
                label: 'a live token, two passwords that differ',
                stable: true,
              }),
            ),
          ],
        }),
        160,
      );
    });

    it('POST /api/v1/logout (no bearer, a wrong one, or a live one with a refused body)', async () => {
      const wrongAuth = fc.oneof(
        fc.constant<string | null>(null),
        fc.constantFrom('Bearer', 'Bearer ', 'bearer x y', 'Basic YWxhZGRpbjpvcGVu', 'Bearer null'),
        base64url(43, 43).map((token) => `Bearer ${token}`),
        headerText().map((token) => `Bearer ${token}`),
        fc.constant(`Bearer ${webToken}`),
      );
      const anyFields = fc.array(fc.tuple(text(10), fc.oneof(anyText, notAString)), {
        maxLength: 3,
      });
      const unauthenticated = fc
        .tuple(
          wrongAuth,
          fc.option(anyFields, { nil: null }),
          fc.oneof(jsonEncoding(true), refusedJson),
        )
        .map(
          ([auth, pairs, e]): Probe => ({
            route: 'POST /api/v1/logout',
            what: `authorization ${JSON.stringify(auth)}; ${pairs ? e.label : 'no body'}`,
            expect: 'refused',
            request: apiRequest(
              'POST',
              '/api/v1/logout',
              pairs ? { pairs } : null,
              e,
              auth === null ? {} : { authorization: auth },
            ),
          }),
        );
      const liveBearer = fc.tuple(anyFields, refusedJson).map(
        ([pairs, e]): Probe => ({
          route: 'POST /api/v1/logout',
          what: `a live bearer; ${e.label}`,
          expect: 'refused',
          request: apiRequest('POST', '/api/v1/logout', { pairs }, e, {
            authorization: `Bearer ${bearer}`,
          }),
        }),
      );
      await check(fc.oneof(unauthenticated, liveBearer), 100);
    });

    it('GET /api/v1/me and GET /api/v1/captcha with bodies', async () => {
      const auth = fc.oneof(
        fc.constant<string | null>(null),
        fc.constant(`Bearer ${bearer}`),
        fc.constant(`Bearer ${webToken}`),
        headerText().map((token) => `Bearer ${token}`),
      );
      const anyFields = fc.array(fc.tuple(text(10), fc.oneof(anyText, notAString)), {
        maxLength: 3,
      });
      await check(
        fc
          .tuple(
            fc.constantFrom('/api/v1/me', '/api/v1/captcha'),
            auth,
            anyFields,
            fc.oneof(jsonEncoding(true), refusedJson),
          )
          .map(
            ([url, authorization, pairs, e]): Probe => ({
              route: `GET ${url}`,
              what: `a body on a GET; ${e.label}`,
              expect: 'any',
              request: apiRequest('GET', url, { pairs }, e, authorization ? { authorization } : {}),
            }),
          ),
        80,
      );
    });

    it('POST /ingresar (sometimes over a live session)', async () => {
      await check(
        formProbes(
          {
            url: '/ingresar',
            fields: [
              { name: 'document', good: loginDocument },
              { name: 'password', good: fc.oneof(fc.constant(ALICE.password), text()) },
              { name: 'captcha', good: text(), optional: true },
            ],
            flowDefects: [...documentDefects('document', 9), ...loginPasswordDefects(3000)],
          },
          csrf,
          liveSession(),
        ),
        220,
      );
    });

    it('POST /salir (no session: anything; a live one: refused bodies)', async () => {
      const spec: FormSpec = {
        url: '/salir',
        fields: [{ name: 'x', good: text() }],
        flowDefects: [],
      };
      const anything = fc
        .tuple(formFields(spec), formEncoding(true), fc.constantFrom<string[]>([], ['sid=x']))
        .map(
          ([pairs, e, jar]): Probe => ({
            route: 'POST /salir',
            what: `no live session; ${e.label}`,
            expect: 'any',
            request: formRequest('/salir', pairs, e, jar, csrf),
          }),
        );
      const live = fc.tuple(formFields(spec), formRefusal).map(
        ([pairs, refusal]): Probe => ({
          route: 'POST /salir',
          what: `a live session; ${refusal.kind}`,
          expect: 'refused',
          request: refusedFormRequest('/salir', pairs, refusal, [webCookie], csrf),
        }),
      );
      await check(fc.oneof(anything, live), 100);
    });

    for (const base of ['/olvide-mi-contrasena', '/registro']) {
      it(`POST ${base}`, async () => {
        await check(
          formProbes(
            {
              url: base,
              fields: [
                { name: 'document', good: requestDocument },
                { name: 'channel', good: fc.constantFrom('email', 'sms') },
                { name: 'captcha', good: text(), optional: true },
              ],
              flowDefects: [
                ...documentDefects('document', 12),
                setField('channel', 'not email or sms', wrongChannel),
              ],
            },
            csrf,
            liveSession(),
          ),
          130,
        );
      });

      it(`POST ${base}/codigo`, async () => {
        await check(
          formProbes(
            {
              url: `${base}/codigo`,
              fields: [
                { name: 'document', good: requestDocument },
                { name: 'code', good: digits(6, 6) },
              ],
              flowDefects: [...documentDefects('document', 12), ...codeDefects()],
            },
            csrf,
            liveSession(),
          ),
          90,
        );
      });
    }

    it('POST /cambiar-contrasena (a live token with passwords that differ; no live token)', async () => {
      const password = fc.oneof(fc.constant(STRONG), text());
      const spec: FormSpec = {
        url: '/cambiar-contrasena',
        fields: [
          { name: 'password', good: password },
          { name: 'passwordConfirmation', good: password },
          { name: 'captcha', good: text(), optional: true },
        ],
        flowDefects: [
          differingPasswords.map(
            (pairs): Defect => ({
              kind: 'set',
              pairs,
              label: 'two passwords that differ',
              stable: true,
            }),
          ),
        ],
      };
      const withLiveToken = formProbes(spec, csrf, fc.constant([`pwtoken=${liveToken}`]));
      // Without a live token, even a good pair of passwords changes nothing.
      const noToken = fc
        .tuple(
          fc.oneof(formGoodFields(spec), formFields(spec)),
          formEncoding(true),
          fc.oneof(
            fc.constant<string[]>([]),
            base64url(43, 43).map((token) => [`pwtoken=${token}`]),
            headerText(80)
              .filter((v) => !/[;,\s"\\]/.test(v))
              .map((token) => [`pwtoken=${token}`]),
          ),
        )
        .map(
          ([pairs, e, jar]): Probe => ({
            route: 'POST /cambiar-contrasena',
            what: `no live token (${jar.join('') || 'no cookie'}); ${e.label}`,
            expect: 'refused',
            request: formRequest('/cambiar-contrasena', pairs, e, jar, csrf),
          }),
        );
      await check(
        fc.oneof({ weight: 3, arbitrary: withLiveToken }, { weight: 1, arbitrary: noToken }),
        160,
      );
    });

    it('the live session, the API session and the live token are still there', async () => {
      const home = await send(t.app, {
        method: 'GET',
        url: '/inicio',
        headers: { cookie: webCookie },
      });
      assert.equal(home.statusCode, 200);
      const me = await send(t.app, {
        method: 'GET',
        url: '/api/v1/me',
        headers: { authorization: `Bearer ${bearer}` },
      });
      assert.equal(me.statusCode, 200);
      const form = await send(t.app, {
        method: 'GET',
        url: '/cambiar-contrasena',
        headers: { cookie: `pwtoken=${liveToken}` },
      });
      assert.equal(form.statusCode, 200);
    });
  });

  it('query strings on the pages and the API change no row', async () => {
    const PATHS = [
      '/',
      '/inicio',
      '/cambiar-contrasena',
      '/olvide-mi-contrasena',
      '/registro',
      '/api/v1/me',
      '/api/v1/captcha',
      '/dev/mailbox',
      '/dev/mailbox/0',
      '/dev/mailbox/999999999999999999',
    ];
    const key = fc.oneof(
      fc.constantFrom(
        'token',
        'token',
        'salio',
        'vencida',
        'document',
        '_csrf',
        '__proto__',
        'a[b]',
        'a[]',
      ),
      text(8),
    );
    const value = fc.oneof(
      fc.constant(liveToken),
      base64url(43, 43),
      text(30),
      fc.integer({ min: 0, max: 9000 }).map((n) => 'A'.repeat(n)),
    );
    const JUNK = [
      '',
      '%',
      '%zz',
      '%E0%A4',
      '&&',
      '=',
      '==',
      '&=&',
      '?',
      ';',
      '%00',
      '+',
      '[]=',
      'token',
    ];
    const query = fc
      .tuple(
        fc.array(fc.tuple(key, value, fc.constantFrom<Encoder>('standard', 'plus', 'every')), {
          maxLength: 4,
        }),
        fc.constantFrom(...JUNK),
      )
      .map(([pairs, junk]) => {
        const encoded = pairs.map(
          ([k, v, how]) => `${encodeComponent(k, how)}=${encodeComponent(v, how)}`,
        );
        return [...encoded, junk].filter(Boolean).join('&');
      });
    const cookies = fc.constantFrom(
      [] as string[],
      [webCookie],
      [`pwtoken=${liveToken}`],
      ...ODD_COOKIES,
    );
    last = await snapshot(t.db);
    const start = last;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...PATHS),
        query,
        cookies,
        fc.constantFrom<string | null>(null, `Bearer ${bearer}`, 'Bearer x'),
        async (path, q, jar, authorization) => {
          const probe: Probe = {
            route: `GET ${path}`,
            what: `?${q.slice(0, 200)}`,
            expect: 'any',
            request: {
              method: 'GET',
              url: `${path}?${q}`,
              headers: { ...cookieHeader(jar), ...(authorization ? { authorization } : {}) },
            },
          };
          tally(probe.route, 'query');
          assertSafeAnswer(probe, await t.app.inject(probe.request));
          assert.equal(await snapshot(t.db), start, `${probe.route} [${probe.what}] changed rows`);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('other methods on every route change no row', async () => {
    const POSTS = [
      '/api/v1/login',
      '/api/v1/logout',
      '/api/v1/password-requests',
      '/api/v1/password-requests/verify',
      '/api/v1/password',
      '/ingresar',
      '/salir',
      '/olvide-mi-contrasena',
      '/olvide-mi-contrasena/codigo',
      '/registro',
      '/registro/codigo',
      '/cambiar-contrasena',
    ];
    const GETS = ['/', '/inicio', '/api/v1/me', '/api/v1/captcha'];
    // Bodies that would do something on the right method: real credentials, a live token.
    const fields = {
      ...ALICE,
      channel: 'email',
      code: '123456',
      token: liveToken,
      password: STRONG,
      passwordConfirmation: STRONG,
    };
    const probes = fc
      .tuple(
        fc.oneof(
          fc.tuple(
            fc.constantFrom(...POSTS),
            fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
          ),
          fc.tuple(fc.constantFrom(...GETS), fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH')),
        ),
        fc.constantFrom('json', 'form', 'none'),
        fc.constantFrom<string[]>([], [webCookie], [`pwtoken=${liveToken}`]),
      )
      .map(([[url, method], body, jar]): Probe => {
        const payload =
          body === 'json'
            ? JSON.stringify(fields)
            : body === 'form'
              ? new URLSearchParams(fields).toString()
              : undefined;
        return {
          route: 'other methods',
          what: `${method} ${url} with ${body}`,
          expect: 'any',
          request: {
            method: method as InjectOptions['method'],
            url,
            headers: {
              ...cookieHeader(jar),
              ...(url.startsWith('/api/') ? { authorization: `Bearer ${bearer}` } : {}),
              ...(payload === undefined
                ? {}
                : {
                    'content-type':
                      body === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
                  }),
            },
            ...(payload === undefined ? {} : { payload }),
          },
        };
      });
    await check(probes, 80);
  });

  describe('bodies whose only fault is the CAPTCHA (ALTCHA): refused, audited, nothing else', () => {
    let altcha: TestApp;
    let challenge: { parameters: Record<string, unknown>; signature: string };

    before(async () => {
      altcha = await buildTestApp({
        database,
        env: { CAPTCHA_PROVIDER: 'altcha', ALTCHA_COST: '1' },
      });
      const response = await send(altcha.app, { method: 'GET', url: '/api/v1/captcha' });
      challenge = response.json();
    });
    after(async () => {
      await altcha.close();
    });

    it('login, password requests and a new password with a live token', async () => {
      const hex = fc
        .uint8Array({ minLength: 0, maxLength: 40 })
        .map((b) => Buffer.from(b).toString('hex'));
      const tampered = fc.record({
        challenge: fc.record({
          parameters: fc.oneof(
            fc.constant(challenge.parameters),
            fc
              .record({
                cost: fc.oneof(fc.integer(), fc.constant(2 ** 31)),
                keyLength: fc.oneof(fc.integer(), fc.constant(1 << 30)),
                algorithm: fc.constantFrom('PBKDF2/SHA-256', 'SHA-256', 'ARGON2ID', 'x', ''),
                data: fc.oneof(
                  fc.record({ exp: fc.oneof(fc.integer(), fc.double(), text(4)) }),
                  fc.jsonValue({ maxDepth: 2 }),
                ),
              })
              .map((changes) => ({ ...challenge.parameters, ...changes })),
            fc.dictionary(text(6), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
          ),
          signature: fc.oneof(fc.constant(challenge.signature), hex, notAString),
        }),
        solution: fc.record({
          counter: fc.oneof(fc.integer(), fc.double(), notAString),
          derivedKey: fc.oneof(hex, text(10), notAString),
        }),
      });
      const base64 = (value: unknown) =>
        Buffer.from(JSON.stringify(value) ?? '').toString('base64');
      const captcha = fc
        .oneof(
          fc.constant<string | null>(null),
          text(40),
          fc.integer({ min: 4097, max: 8192 }).map((n) => 'A'.repeat(n)),
          text(40).map((s) => Buffer.from(s).toString('base64')),
          fc.jsonValue({ maxDepth: 3 }).map(base64),
          tampered.map(base64),
        )
        .filter((value) => value === null || value.length <= 8192);
      const strong = { password: STRONG, passwordConfirmation: STRONG };
      const targets: Array<{ route: string; url: string; fields: Record<string, string> }> = [
        { route: 'POST /api/v1/login', url: '/api/v1/login', fields: { ...ALICE } },
        { route: 'POST /ingresar', url: '/ingresar', fields: { ...ALICE } },
        {
          route: 'POST /api/v1/password-requests',
          url: '/api/v1/password-requests',
          fields: { document: ALICE.document, channel: 'email' },
        },
        {
          route: 'POST /olvide-mi-contrasena',
          url: '/olvide-mi-contrasena',
          fields: { document: ALICE.document, channel: 'sms' },
        },
        {
          route: 'POST /api/v1/password',
          url: '/api/v1/password',
          fields: { token: liveToken, ...strong },
        },
        { route: 'POST /cambiar-contrasena', url: '/cambiar-contrasena', fields: strong },
      ];
      last = await snapshot(t.db);
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...targets), captcha, async (target, value) => {
          const api = target.url.startsWith('/api/');
          const fields = {
            ...target.fields,
            ...(value === null ? {} : { [api ? 'captcha' : 'altcha']: value }),
          };
          const probe: Probe = {
            route: target.route,
            what: `CAPTCHA ${JSON.stringify(value)?.slice(0, 120)}`,
            expect: 'refused',
            request: api
              ? { method: 'POST', url: target.url, payload: fields }
              : {
                  method: 'POST',
                  url: target.url,
                  headers: {
                    ...FORM,
                    ...(target.url === '/cambiar-contrasena'
                      ? { cookie: `pwtoken=${liveToken}` }
                      : {}),
                  },
                  payload: new URLSearchParams(fields).toString(),
                },
          };
          const { response, changes } = await exchange(altcha.app, probe, 'captcha');
          // Refusing a CAPTCHA audits it; a login or a password request
          // counts against the address first. Nothing else may move.
          for (const table of TABLES) {
            if (table === 'audit_events' || table === 'rate_counters') continue;
            assert.equal(
              changed(changes, table),
              0,
              `${probe.route} [${probe.what}] changed ${table}: ${changes && describeChanges(changes)}`,
            );
          }
          assert.deepEqual(changes?.audit_events.gone ?? [], []);
          for (const event of changes?.audit_events.added ?? [])
            assert.equal(`${event.type}:${event.outcome}`, 'captcha_failed:refused');
          assertSafeAnswer(probe, response);
          assert.equal(response.statusCode, 400, `${probe.route} [${probe.what}]`);
          if (api) {
            const code = (response.json() as { error: { code: string } }).error.code;
            assert.ok(
              ['CAPTCHA_FAILED', 'CAPTCHA_REQUIRED'].includes(code),
              `${probe.what}: ${code}`,
            );
          }
        }),
        { seed: SEED, numRuns: 120 },
      );
    });
  });

  it('well-formed but wrong bodies: no session, no member changed, only their own audit', async () => {
    // A body that passes every check of shape is judged by its flow, which
    // counts failures and audits them; that is no "row changed by invalid
    // input". What must hold: no session is created or ended, no member row
    // changes, no set-password token appears, and the only audit events are
    // the flow's own.
    const randomPassword = fc
      .string({ unit, minLength: 1, maxLength: 40 })
      .filter((p) => p !== ALICE.password && p.length <= 128);
    const AUDITS: Record<string, Set<string>> = {
      login: new Set(['login:failed', 'throttled:refused']),
      request: new Set([
        'link_sent:ok',
        'link_sent:ignored',
        'code_sent:ok',
        'code_sent:ignored',
        'throttled:refused',
        'sms_budget_exhausted:refused',
      ]),
      verify: new Set(['code_verified:failed']),
      password: new Set<string>(),
    };
    /** What a well-formed body may be answered: it reached its flow. */
    const ANSWERS: Record<string, { api: Set<string>; page: Set<number> }> = {
      login: {
        api: new Set(['INVALID_CREDENTIALS', 'DOCUMENT_HAS_CHECK_DIGIT', 'LOGIN_THROTTLED']),
        page: new Set([400, 401, 429]),
      },
      request: { api: new Set(['ACCEPTED', 'REQUESTS_THROTTLED']), page: new Set([200, 429]) },
      verify: { api: new Set(['CODE_INVALID']), page: new Set([400]) },
      password: { api: new Set(['TOKEN_INVALID']), page: new Set([400]) },
    };
    type Wrong = { flow: keyof typeof AUDITS; probe: Probe };
    const viaApi = (flow: Wrong['flow'], url: string, fields: Record<string, string>): Wrong => ({
      flow,
      probe: {
        route: `POST ${url}`,
        what: JSON.stringify(fields).slice(0, 200),
        expect: 'refused',
        request: { method: 'POST', url, payload: fields },
      },
    });
    const viaForm = (
      flow: Wrong['flow'],
      url: string,
      fields: Record<string, string>,
      cookie?: string,
    ): Wrong => ({
      flow,
      probe: {
        route: `POST ${url}`,
        what: JSON.stringify(fields).slice(0, 200),
        expect: 'any',
        request: {
          method: 'POST',
          url,
          headers: { ...FORM, ...(cookie ? { cookie } : {}) },
          payload: formText(Object.entries(fields), {
            encoder: 'standard',
            separator: '&',
            brokenEscape: null,
          }),
        },
      },
    });
    const wrong: fc.Arbitrary<Wrong> = fc.oneof(
      fc
        .tuple(loginDocument, randomPassword, fc.boolean())
        .map(([document, password, api]) =>
          api
            ? viaApi('login', '/api/v1/login', { document, password })
            : viaForm('login', '/ingresar', { document, password }),
        ),
      fc
        .tuple(
          requestDocument,
          fc.constantFrom('email', 'sms'),
          fc.constantFrom('/api/v1/password-requests', '/olvide-mi-contrasena', '/registro'),
        )
        .map(([document, channel, url]) =>
          url.startsWith('/api/')
            ? viaApi('request', url, { document, channel })
            : viaForm('request', url, { document, channel }),
        ),
      fc
        .tuple(
          fc.oneof(fc.constant(ALICE.document), requestDocument),
          digits(6, 6),
          fc.constantFrom(
            '/api/v1/password-requests/verify',
            '/olvide-mi-contrasena/codigo',
            '/registro/codigo',
          ),
        )
        .map(([document, code, url]) =>
          url.startsWith('/api/')
            ? viaApi('verify', url, { document, code })
            : viaForm('verify', url, { document, code }),
        ),
      fc.tuple(base64url(43, 43), fc.boolean()).map(([token, api]) =>
        api
          ? viaApi('password', '/api/v1/password', {
              token,
              password: STRONG,
              passwordConfirmation: STRONG,
            })
          : viaForm(
              'password',
              '/cambiar-contrasena',
              { password: STRONG, passwordConfirmation: STRONG },
              `pwtoken=${token}`,
            ),
      ),
    );
    last = await snapshot(t.db);
    await fc.assert(
      fc.asyncProperty(wrong, async ({ flow, probe }) => {
        const { response, changes } = await exchange(t.app, probe, 'wrong');
        const where = `${probe.route} [${probe.what}] (${response.statusCode})`;
        for (const table of ['members', 'sessions'] as const)
          assert.equal(
            changed(changes, table),
            0,
            `${where} changed ${table}: ${changes && describeChanges(changes)}`,
          );
        // (A new request retires a member's unused secrets: an old row may change.)
        const before = new Set((changes?.one_time_secrets.gone ?? []).map((row) => row.id));
        assert.ok(
          (changes?.one_time_secrets.added ?? []).every(
            (row) => row.kind !== 'set_password' || before.has(row.id),
          ),
          `${where} issued a set-password token`,
        );
        const allowed = AUDITS[flow] ?? new Set<string>();
        for (const event of changes?.audit_events.added ?? [])
          assert.ok(
            allowed.has(`${event.type}:${event.outcome}`),
            `${where} audited ${event.type}:${event.outcome}`,
          );
        assertSafeAnswer(probe, response);
        if (isApi(probe)) {
          const code =
            response.statusCode === 202
              ? 'ACCEPTED'
              : (response.json() as { error: { code: string } }).error.code;
          assert.ok(ANSWERS[flow]?.api.has(code), `${where}: ${code}`);
        } else assert.ok(ANSWERS[flow]?.page.has(response.statusCode), where);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('counts: bodies per route', (ctx) => {
    const phases: Phase[] = ['invalid', 'wrong', 'captcha'];
    const row = (label: string, cells: number[]) =>
      `${label.padEnd(40)}${cells.map((n) => String(n).padStart(9)).join('')}`;
    const lines = [
      `seed ${SEED}; bodies sent per route (invalid: must change no row; wrong: well-formed but wrong; captcha: only the CAPTCHA wrong; queries: GET query strings)`,
      `${'route'.padEnd(40)}${[...phases, 'bodies', 'queries'].map((p) => p.padStart(9)).join('')}`,
    ];
    const totals: Record<Phase, number> = { invalid: 0, wrong: 0, captcha: 0, query: 0 };
    for (const [route, entry] of [...counts].sort(([a], [b]) => a.localeCompare(b))) {
      for (const p of Object.keys(totals) as Phase[]) totals[p] += entry[p];
      const bodies = phases.reduce((sum, p) => sum + entry[p], 0);
      lines.push(row(route, [...phases.map((p) => entry[p]), bodies, entry.query]));
    }
    const total = phases.reduce((sum, p) => sum + totals[p], 0);
    lines.push(row('total', [...phases.map((p) => totals[p]), total, totals.query]));
    lines.push('answers to the invalid bodies (status and, for the API, code × count):');
    for (const [route, entry] of [...answers].sort(([a], [b]) => a.localeCompare(b)))
      lines.push(
        `  ${route}: ${[...entry]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([answer, n]) => `${answer}×${n}`)
          .join(', ')}`,
      );
    for (const line of lines) ctx.diagnostic(line);
    assert.ok(totals.invalid >= 1000, `only ${totals.invalid} invalid bodies`);
    const routes = [
      'POST /api/v1/login',
      'POST /api/v1/logout',
      'GET /api/v1/me',
      'GET /api/v1/captcha',
      'POST /api/v1/password-requests',
      'POST /api/v1/password-requests/verify',
      'POST /api/v1/password',
      'POST /ingresar',
      'POST /salir',
      'POST /olvide-mi-contrasena',
      'POST /olvide-mi-contrasena/codigo',
      'POST /registro',
      'POST /registro/codigo',
      'POST /cambiar-contrasena',
    ];
    for (const route of routes)
      assert.ok((counts.get(route)?.invalid ?? 0) >= 20, `${route}: too few invalid bodies`);
  });
});
