import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { connectDatabase, DataDirInUseError } from '../../src/db/connect.ts';

describe('the embedded database folder', () => {
  // Cleared before, not after: PGlite may still write to its folder for a
  // moment after closing. .tmp/ is ignored by git.
  const dir = join('.tmp', 'lock-test');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  it('is refused while another running process holds it', async () => {
    // The parent of this test process is alive and is not us.
    writeFileSync(join(dir, 'pglite.lock'), String(process.ppid));
    await assert.rejects(connectDatabase({ kind: 'pglite', dir }), DataDirInUseError);
    assert.equal(readFileSync(join(dir, 'pglite.lock'), 'utf8'), String(process.ppid));
  });

  it('takes over a lock left by a process that ended, and frees it on close', async () => {
    writeFileSync(join(dir, 'pglite.lock'), '2147483646');
    const db = await connectDatabase({ kind: 'pglite', dir });
    assert.equal(readFileSync(join(dir, 'pglite.lock'), 'utf8'), String(process.pid));
    await sql`select 1`.execute(db);
    await db.destroy();
    assert.equal(existsSync(join(dir, 'pglite.lock')), false);
  });
});
