// docs/deploy.md shows the operator's files verbatim (nginx, the systemd
// units) between `<!-- path -->` and `<!-- end -->` markers: these tests keep
// each copy equal to its file, and every file, script and command the guide
// names present in the repository.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const guide = readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8');

/** The files the guide must show in full. */
const VERBATIM = [
  'deploy/nginx/autogestion.conf',
  'deploy/systemd/autogestion.service',
  'deploy/systemd/autogestion@.service',
];

/** Each `<!-- path -->` block of the guide: its path and the code between the fences. */
function blocks(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const pattern = /<!-- (\S+) -->\n```\w*\n([\s\S]*?)```\n<!-- end -->/g;
  for (const match of text.matchAll(pattern)) {
    const [, path, body] = match as unknown as [string, string, string];
    assert.ok(!found.has(path), `${path} is shown twice`);
    found.set(path, body);
  }
  return found;
}

describe('the deploy guide (docs/deploy.md)', () => {
  const shown = blocks(guide);

  for (const path of VERBATIM) {
    it(`shows ${path} exactly as the file is`, () => {
      assert.ok(existsSync(join(ROOT, path)), `${path} does not exist`);
      const body = shown.get(path);
      assert.ok(body !== undefined, `no <!-- ${path} --> … <!-- end --> block`);
      assert.ok(body.trim().length > 0, `the block of ${path} is empty`);
      assert.equal(body, readFileSync(join(ROOT, path), 'utf8'), `the copy of ${path} differs`);
    });
  }

  it('shows no other file between markers', () => {
    assert.deepEqual([...shown.keys()].sort(), [...VERBATIM].sort());
  });

  it('names only files that exist', () => {
    const named = new Set(
      [...guide.matchAll(/`((?:deploy|scripts|docs|test\/ops)\/[\w@./-]+)`/g)].map((m) => m[1]),
    );
    assert.ok(named.size >= 8, `only ${named.size} paths named`);
    for (const path of named)
      assert.ok(existsSync(join(ROOT, path as string)), `${path} is missing`);
    for (const [, target] of guide.matchAll(/\]\(((?!https?:)[^)#\s]+)\)/g))
      assert.ok(existsSync(join(ROOT, 'docs', target as string)), `link ${target} is broken`);
  });

  it('runs only operator commands that exist in src/cli/', () => {
    const commands = new Set(
      [...guide.matchAll(/^autogestion ([a-z-]+)/gm)].map((m) => m[1] as string),
    );
    assert.ok(commands.size >= 8, `only ${commands.size} commands shown`);
    for (const command of commands)
      assert.ok(existsSync(join(ROOT, 'src', 'cli', `${command}.ts`)), `src/cli/${command}.ts`);
  });

  it('links the configuration reference', () => {
    assert.match(guide, /\]\(configuration\.md\)/);
  });
});
