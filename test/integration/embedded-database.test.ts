// The embedded database as the server opens it (src/db/pglite.ts): a new
// data folder is created (by a short-lived process of its own), what is
// written survives closing and opening again, and PGlite runs with our
// memory settings (docs/decisions/020-server-memory.md).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { connectDatabase } from '../../src/db/connect.ts';
import { PGLITE_SETTINGS } from '../../src/db/pglite.ts';

describe('the embedded database', () => {
  // Cleared before, not after: PGlite may still write to its folder for a
  // moment after closing. .tmp/ is ignored by git.
  const dir = join('.tmp', 'embedded-database-test');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  it('creates a new data folder, and keeps what was written across a restart', async () => {
    const first = await connectDatabase({ kind: 'pglite', dir });
    assert.equal(existsSync(join(dir, 'pglite', 'PG_VERSION')), true);
    await sql`create table kept (id int primary key, note text)`.execute(first);
    await sql`insert into kept values (1, 'before the restart')`.execute(first);
    await first.destroy();

    const second = await connectDatabase({ kind: 'pglite', dir });
    const { rows } = await sql<{ note: string }>`select note from kept where id = 1`.execute(
      second,
    );
    await second.destroy();
    assert.deepEqual(rows, [{ note: 'before the restart' }]);
  });

  it('runs with the memory settings of pglite.ts, on disk and in memory', async () => {
    for (const target of [{ kind: 'pglite', dir } as const, { kind: 'pglite' } as const]) {
      const db = await connectDatabase(target);
      try {
        for (const [name, value] of Object.entries(PGLITE_SETTINGS)) {
          const { rows } = await sql<Record<string, string>>`show ${sql.raw(name)}`.execute(db);
          assert.equal(rows[0]?.[name], value, `${name} (${target.dir ?? 'in memory'})`);
        }
      } finally {
        await db.destroy();
      }
    }
  });
});
