// Every Spanish text a member can read lives in src/messages/es.ts. This
// guards the rule: no other .ts file under src/ holds a character only Spanish
// uses (á é í ó ú ñ ¿ ¡ and capitals) outside its comments, save the few
// spots of ALLOWED below, each with its reason.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CATALOGUE = 'src/messages/es.ts';
const SPANISH_ONLY = /[áéíóúñÁÉÍÓÚÑ¿¡]/;

interface Allowed {
  file: string;
  /** The exact texts allowed in that file; `'whole file'` for a page left as it is. */
  texts: string[] | 'whole file';
  why: string;
}

/** What may stay outside the catalogue. Keep it short; say why. */
const ALLOWED: Allowed[] = [
  {
    file: 'src/views/pages/dev-mailbox.ts',
    texts: 'whole file',
    why: 'an operator page of development runs, never shown to members',
  },
  {
    file: 'src/server.ts',
    texts: ['Autogestión'],
    why: 'the product’s name in the operator’s console and log lines',
  },
  {
    file: 'src/app.ts',
    texts: ['Autogestión API'],
    why: 'the title of the OpenAPI document, for the app’s developers',
  },
  {
    file: 'src/config.ts',
    texts: ['Autogestión <no-reply@'],
    why: 'MAIL_FROM’s default and its example: an operator setting (SPEC: display name "Autogestión"), and config.ts reads no module of the app',
  },
  {
    file: 'src/routes/api/v1/login.ts',
    texts: ['N° de documento, sin dígito verificador'],
    why: 'an OpenAPI description for the app’s developers, naming the field as members know it',
  },
  {
    file: 'src/routes/api/v1/recovery.ts',
    texts: ['Cédula (sin dígito verificador) or N° de socio'],
    why: 'an OpenAPI description for the app’s developers, naming the field as members know it',
  },
  {
    file: 'src/site/brand.ts',
    texts: ["'Autogestión'", '¡¿§'],
    why: 'BRAND_NAME’s default (an operator setting, as MAIL_FROM’s) and the GSM-7 characters an SMS may carry',
  },
  {
    file: 'src/members/demo.ts',
    texts: ['María', 'Rodríguez'],
    why: 'the demo member’s name: a record, not a text of the portal',
  },
];

/** Every .ts file under src/, as a path from the project's root. */
function sourceFiles(): string[] {
  return readdirSync(join(ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) =>
      relative(ROOT, join(ROOT, 'src', name))
        .split('\\')
        .join('/'),
    )
    .sort();
}

/**
 * The code without its comments, naively: `/* … *\/` and `//` to the end of
 * the line, whichever starts first, blanked so lines keep their numbers. A
 * `//` inside a string (a URL) hides the rest of its line: a miss, never a
 * false alarm.
 */
function stripComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (comment) => comment.replace(/[^\n]/g, ' '));
}

/** `code` with each allowed text blanked out. */
function blankAllowed(code: string, texts: string[]): string {
  return texts.reduce((out, text) => out.split(text).join(' '.repeat(text.length)), code);
}

/** "file:line: the line" for each line of `code` with a Spanish-only character. */
function spanishLines(file: string, code: string): string[] {
  return code
    .split('\n')
    .flatMap((line, index) =>
      SPANISH_ONLY.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [],
    );
}

describe('the Spanish catalogue', () => {
  it('holds every Spanish text: no other file under src/ has a Spanish-only character outside comments', () => {
    const found: string[] = [];
    for (const file of sourceFiles()) {
      if (file === CATALOGUE) continue;
      const allowed = ALLOWED.find((entry) => entry.file === file);
      if (allowed?.texts === 'whole file') continue;
      const code = stripComments(readFileSync(join(ROOT, file), 'utf8'));
      found.push(...spanishLines(file, blankAllowed(code, allowed?.texts ?? [])));
    }
    assert.deepEqual(found, [], `move these texts to ${CATALOGUE}:\n${found.join('\n')}`);
  });

  it('allows only texts that are still there, each with a reason', () => {
    const files = sourceFiles();
    for (const entry of ALLOWED) {
      assert.ok(files.includes(entry.file), `${entry.file} no longer exists`);
      assert.ok(entry.why.length > 0, `${entry.file}: say why`);
      if (entry.texts === 'whole file') continue;
      const code = stripComments(readFileSync(join(ROOT, entry.file), 'utf8'));
      for (const text of entry.texts)
        assert.ok(code.includes(text), `${entry.file} no longer has «${text}»: drop it`);
    }
  });

  it('reads Spanish in code but not in comments, keeping line numbers', () => {
    const code = [
      '// Olvidó la contraseña',
      "const url = 'https://example.org'; // ¿qué?",
      '/* Está',
      '   cambiando */ const a = 1;',
      "const b = 'Cédula';",
    ].join('\n');
    assert.deepEqual(spanishLines('x.ts', stripComments(code)), ["x.ts:5: const b = 'Cédula';"]);
  });

  it('is not fooled by a glob or URL that looks like a comment opening', () => {
    const code = ["const origins = ['https://*.hcaptcha.com'];", "const c = 'contraseña';"].join(
      '\n',
    );
    assert.deepEqual(spanishLines('x.ts', stripComments(code)), [
      "x.ts:2: const c = 'contraseña';",
    ]);
  });
});
