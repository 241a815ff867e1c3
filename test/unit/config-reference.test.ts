// The configuration reference (docs/configuration.md) is generated from
// CONFIG_REFERENCE in src/config.ts: these tests keep both true to what the
// server reads.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { CONFIG_REFERENCE, loadConfig } from '../../src/config.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The variables loadConfig reads, seen through an environment that records every read. */
function variablesRead(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get(target, key) {
      if (typeof key === 'string') read.add(key);
      return Reflect.get(target, key);
    },
  });
  loadConfig(env);
  return read;
}

describe('configuration reference', () => {
  it('has an entry for every variable the configuration reads, and for no other', () => {
    const read = [...variablesRead()].sort();
    const documented = Object.keys(CONFIG_REFERENCE).sort();
    // Sanity: the recording environment sees the schema's reads.
    assert.ok(read.includes('DATABASE_URL') && read.includes('BRAND_NAME'));
    assert.deepEqual(
      read.filter((name) => !documented.includes(name)),
      [],
      'read but not documented',
    );
    assert.deepEqual(
      documented.filter((name) => !read.includes(name)),
      [],
      'documented but never read',
    );
  });

  it('gives every variable a one-line meaning and a default', () => {
    for (const [name, entry] of Object.entries(CONFIG_REFERENCE)) {
      assert.match(entry.meaning, /^[^\n]{10,}$/, name);
      assert.ok(entry.value !== undefined || entry.unset !== undefined, `${name}: no default`);
      for (const text of [entry.meaning, entry.unset ?? '']) {
        assert.doesNotMatch(text, /\n/, name);
      }
    }
  });

  it('documents each single-value default truly: writing it changes nothing', () => {
    const defaults = loadConfig({});
    const withValue = Object.entries(CONFIG_REFERENCE).filter(([, e]) => e.value !== undefined);
    assert.ok(withValue.length >= 30, `only ${withValue.length} variables with a value`);
    for (const [name, entry] of withValue) {
      assert.deepEqual(loadConfig({ [name]: entry.value }), defaults, `${name}=${entry.value}`);
    }
  });

  it('is what docs/configuration.md says (regenerate it with the script when this fails)', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/config-reference.ts'],
      { cwd: ROOT },
    );
    const committed = await readFile(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    assert.equal(
      committed,
      stdout,
      'docs/configuration.md is stale: node --import tsx scripts/config-reference.ts > docs/configuration.md',
    );
    for (const name of Object.keys(CONFIG_REFERENCE)) {
      assert.ok(committed.includes(`| \`${name}\` |`), `${name} has no row`);
    }
  });
});
