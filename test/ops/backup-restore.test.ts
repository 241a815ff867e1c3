// The backup and restore scripts of docs/deploy.md, run as an operator runs
// them, on a real PostgreSQL and on a real embedded data folder: a member
// with a password, a session and a queued message are backed up, restored
// into a fresh database, and the portal opened on the copy lets the member
// in (with the password, and with the session that existed). PostgreSQL is
// TEST_DATABASE_URL's server when set, else a throwaway one of our own.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { connectDatabase } from '../../src/db/connect.ts';
import { isSchemaCurrent, migrateToLatest } from '../../src/db/migrate.ts';
import type { Database } from '../../src/db/schema.ts';
import { buildTestApp, createMember, type TestDatabase } from '../helper.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const script = (name: string) => join(ROOT, 'scripts', name);

/** The newest PostgreSQL programs of Debian's layout, as scripts/test.sh picks them. */
const PG_BINDIR = (() => {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(join(base, v, 'bin', 'pg_dump')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest ? join(base, newest, 'bin') : undefined;
})();

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one of the scripts and answers its exit code and output (never throws). */
function run(name: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [script(name), ...args],
      { env: { ...process.env, ...(PG_BINDIR ? { PG_BINDIR } : {}) } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function assertRefused(result: Run, code: number, message: RegExp): void {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`);
  assert.match(result.stderr, message);
  assert.equal(result.stdout, '');
}

/** Rows of every table of the portal, by table name. */
async function rowCounts(db: Database): Promise<Record<string, number>> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' order by table_name`.execute(db);
  const counts: Record<string, number> = {};
  for (const { name } of tables.rows) {
    const result = await sql<{ n: string | number }>`
      select count(*) as n from ${sql.table(name)}`.execute(db);
    counts[name] = Number(result.rows[0]?.n);
  }
  return counts;
}

/**
 * What an operator's portal holds before a backup: a member with a
 * password, logged in through the API (a session), who then asked for a
 * password link (an outbox message and its one-time secret).
 */
async function seed(database: TestDatabase): Promise<{ document: string; token: string }> {
  const t = await buildTestApp({ database });
  try {
    const member = await createMember(t.db, { password: 'clave2026' });
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { document: member.document, password: 'clave2026' },
    });
    assert.equal(login.statusCode, 200, login.body);
    const request = await t.app.inject({
      method: 'POST',
      url: '/api/v1/password-requests',
      payload: { document: member.document, channel: 'email' },
    });
    assert.equal(request.statusCode, 202, request.body);
    return { document: member.document, token: login.json().token };
  } finally {
    await t.close();
  }
}

/** The portal on the restored copy: the old session works, and the password logs in. */
async function assertMemberGetsIn(
  database: TestDatabase,
  seeded: { document: string; token: string },
): Promise<void> {
  const t = await buildTestApp({ database });
  try {
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/v1/me',
      headers: { authorization: `Bearer ${seeded.token}` },
    });
    assert.equal(me.statusCode, 200, `the session of the backup: ${me.body}`);
    assert.equal(me.json().document, seeded.document);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { document: seeded.document, password: 'clave2026' },
    });
    assert.equal(login.statusCode, 200, `the password of the backup: ${login.body}`);
  } finally {
    await t.close();
  }
}

async function assertHoldsTheSeed(counts: Record<string, number>): Promise<void> {
  assert.equal(counts.members, 1);
  assert.equal(counts.sessions, 1);
  assert.equal(counts.outbox, 1);
  assert.equal(counts.one_time_secrets, 1);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** TEST_DATABASE_URL's server, or a throwaway cluster in a temporary folder. */
async function postgresServer(): Promise<{ url: string; stop(): Promise<void> }> {
  if (process.env.TEST_DATABASE_URL)
    return { url: process.env.TEST_DATABASE_URL, stop: async () => {} };
  if (!PG_BINDIR)
    throw new Error('PostgreSQL is not installed: set TEST_DATABASE_URL or install it');
  const folder = await mkdtemp(join(tmpdir(), 'autogestion-pg-'));
  const asRoot = process.getuid?.() === 0;
  const exec = (program: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(PG_BINDIR, program), ...args])
      : execFileSync(join(PG_BINDIR, program), args);
  if (asRoot) execFileSync('chown', ['postgres', folder]);
  const data = join(folder, 'data');
  exec('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8']);
  const port = await freePort();
  exec('pg_ctl', [
    '-D',
    data,
    '-l',
    join(folder, 'log'),
    '-w',
    '-o',
    `-p ${port} -k ${folder} -c listen_addresses=127.0.0.1 -c fsync=off`,
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      exec('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      await rm(folder, { recursive: true, force: true });
    },
  };
}

describe('backup and restore of PostgreSQL (scripts/backup-postgres.sh, restore-postgres.sh)', () => {
  let server: { url: string; stop(): Promise<void> };
  let folder: string;
  const created: string[] = [];

  /** A new, empty database on the server, dropped after the tests. */
  async function createDatabase(): Promise<string> {
    const name = `autogestion_backup_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    created.push(name);
    const url = new URL(server.url);
    url.pathname = `/${name}`;
    return url.toString();
  }

  async function open(url: string): Promise<TestDatabase> {
    const db = await connectDatabase({ kind: 'postgres', url });
    return { db, url, close: () => db.destroy() };
  }

  before(async () => {
    server = await postgresServer();
    folder = await mkdtemp(join(tmpdir(), 'autogestion-backup-'));
  });
  after(async () => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    for (const name of created) await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
    await server.stop();
    await rm(folder, { recursive: true, force: true });
  });

  it('restores into a fresh database every row, the migrations, the session and the password', async () => {
    const sourceUrl = await createDatabase();
    const source = await open(sourceUrl);
    await migrateToLatest(source.db);
    const seeded = await seed(source);
    const before = await rowCounts(source.db);
    await assertHoldsTheSeed(before);
    await source.close();

    const dump = join(folder, 'portal.dump');
    const backup = await run('backup-postgres.sh', [sourceUrl, dump]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(
      backup.stdout,
      /^backup-postgres: wrote .*portal\.dump \(\d+ bytes, \d+ tables\)\n$/,
    );
    assert.deepEqual(
      readdirSync(folder),
      ['portal.dump'],
      'no partial file is left beside the backup',
    );
    assert.equal(statSync(dump).mode & 0o777, 0o600, 'readable by its owner only');

    const targetUrl = await createDatabase();
    const restore = await run('restore-postgres.sh', [dump, targetUrl]);
    assert.equal(restore.code, 0, restore.stderr);
    assert.match(restore.stdout, /restored .* \(\d+ migrations, the last /);

    const target = await open(targetUrl);
    try {
      assert.equal(await isSchemaCurrent(target.db), true, 'migrations current');
      assert.deepEqual(await migrateToLatest(target.db), [], 'nothing left to migrate');
      assert.deepEqual(await rowCounts(target.db), before);
      await assertMemberGetsIn(target, seeded);
    } finally {
      await target.close();
    }

    // A restore refuses a database that is not empty, and leaves it as it was.
    const again = await run('restore-postgres.sh', [dump, targetUrl]);
    assertRefused(again, 1, /the target database is not empty \(\d+ tables/);
    const unchanged = await open(targetUrl);
    try {
      assert.equal((await rowCounts(unchanged.db)).members, 1);
    } finally {
      await unchanged.close();
    }
  });

  it('refuses bad input with a clear message and a non-zero exit', async () => {
    const emptyUrl = await createDatabase();
    const notADump = join(folder, 'not-a-dump.txt');
    await writeFile(notADump, 'hello\n');
    assertRefused(await run('backup-postgres.sh', []), 2, /^backup-postgres: usage: /);
    assertRefused(
      await run('backup-postgres.sh', ['/var/lib/data', join(folder, 'x.dump')]),
      2,
      /postgres:\/\/ address \(DATABASE_URL\)/,
    );
    assertRefused(
      await run('backup-postgres.sh', [emptyUrl, notADump]),
      1,
      /already exists; a backup never overwrites a file/,
    );
    assertRefused(
      await run('backup-postgres.sh', [emptyUrl, join(folder, 'nowhere', 'x.dump')]),
      1,
      /cannot write into .*nowhere/,
    );
    // A database without the portal's tables is a wrong address: nothing is kept.
    assertRefused(
      await run('backup-postgres.sh', [emptyUrl, join(folder, 'empty.dump')]),
      1,
      /no kysely_migration table: it is not the portal's database/,
    );
    assert.equal(existsSync(join(folder, 'empty.dump')), false);
    const unreachable = `postgres://postgres@127.0.0.1:${await freePort()}/postgres`;
    const down = await run('backup-postgres.sh', [unreachable, join(folder, 'down.dump')]);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /pg_dump failed \(above\): nothing was written/);
    assert.deepEqual(
      readdirSync(folder).filter((f) => f.includes('partial')),
      [],
      'no partial file',
    );

    assertRefused(await run('restore-postgres.sh', [notADump]), 2, /^restore-postgres: usage: /);
    assertRefused(
      await run('restore-postgres.sh', [join(folder, 'missing.dump'), emptyUrl]),
      1,
      /missing\.dump: no such readable file/,
    );
    assertRefused(
      await run('restore-postgres.sh', [notADump, emptyUrl]),
      1,
      /is not a backup pg_restore can read/,
    );
  });
});

describe('backup and restore of the embedded data folder (scripts/backup-embedded.sh, restore-embedded.sh)', () => {
  let folder: string;

  before(async () => {
    folder = await mkdtemp(join(tmpdir(), 'autogestion-embedded-'));
  });
  after(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function open(dir: string): Promise<TestDatabase> {
    const db = await connectDatabase({ kind: 'pglite', dir });
    return { db, url: undefined, close: () => db.destroy() };
  }

  it('refuses while a process has the folder open, then restores a copy the portal opens', async () => {
    const dataDir = join(folder, 'data');
    const archive = join(folder, 'data.tar.gz');
    const source = await open(dataDir);
    let before: Record<string, number>;
    let seeded: { document: string; token: string };
    try {
      await migrateToLatest(source.db);
      seeded = await seed(source);
      before = await rowCounts(source.db);
      await assertHoldsTheSeed(before);
      // This test process holds the folder, as a running server would.
      assertRefused(
        await run('backup-embedded.sh', [dataDir, archive]),
        1,
        new RegExp(`is in use by process ${process.pid} .*stop it first`),
      );
      assert.equal(existsSync(archive), false);
    } finally {
      await source.close();
    }
    assert.equal(existsSync(join(dataDir, 'pglite.lock')), false, 'the lock went with the process');

    const backup = await run('backup-embedded.sh', [dataDir, archive]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.match(backup.stdout, /^backup-embedded: wrote .*data\.tar\.gz \(\d+ bytes\) from /);
    assert.equal(existsSync(join(dataDir, 'pglite.lock')), false, 'the backup gave its lock back');
    assert.equal(statSync(archive).mode & 0o777, 0o600, 'readable by its owner only');

    const restored = join(folder, 'restored', 'data');
    const restore = await run('restore-embedded.sh', [archive, restored]);
    assert.equal(restore.code, 0, restore.stderr);
    const copy = await open(restored);
    try {
      assert.equal(await isSchemaCurrent(copy.db), true, 'migrations current');
      assert.deepEqual(await rowCounts(copy.db), before);
      await assertMemberGetsIn(copy, seeded);
    } finally {
      await copy.close();
    }

    // A restore never lands in a folder that holds something.
    assertRefused(
      await run('restore-embedded.sh', [archive, restored]),
      1,
      /is not empty: restore into a new folder/,
    );
  });

  it('takes over a lock left by a process that no longer runs, as the server does', async () => {
    // The script looks for PGlite's folder, not into it: a stand-in is enough here.
    const dataDir = join(folder, 'stale');
    await mkdir(join(dataDir, 'pglite'), { recursive: true });
    await writeFile(join(dataDir, 'pglite', 'PG_VERSION'), '17\n');
    // A pid that cannot be running: above the kernel's limit.
    await writeFile(join(dataDir, 'pglite.lock'), '4194305');
    const archive = join(folder, 'stale.tar.gz');
    const backup = await run('backup-embedded.sh', [dataDir, archive]);
    assert.equal(backup.code, 0, backup.stderr);
    assert.equal(existsSync(join(dataDir, 'pglite.lock')), false);
  });

  it('refuses bad input with a clear message and a non-zero exit', async () => {
    const empty = join(folder, 'empty');
    await mkdir(empty);
    const notAnArchive = join(folder, 'note.txt');
    await writeFile(notAnArchive, 'hello\n');
    assertRefused(await run('backup-embedded.sh', [empty]), 2, /^backup-embedded: usage: /);
    assertRefused(
      await run('backup-embedded.sh', [join(folder, 'missing'), join(folder, 'x.tar.gz')]),
      1,
      /missing: no such folder \(DATA_DIR\)/,
    );
    assertRefused(
      await run('backup-embedded.sh', [empty, join(folder, 'x.tar.gz')]),
      1,
      /holds no embedded database \(no pglite\/PG_VERSION\)/,
    );
    assertRefused(
      await run('restore-embedded.sh', [notAnArchive]),
      2,
      /^restore-embedded: usage: /,
    );
    assertRefused(
      await run('restore-embedded.sh', [notAnArchive, join(folder, 'new')]),
      1,
      /is not a \.tar\.gz archive/,
    );
    const otherArchive = join(folder, 'other.tar.gz');
    execFileSync('tar', [
      '--create',
      '--gzip',
      `--file=${otherArchive}`,
      `--directory=${folder}`,
      'note.txt',
    ]);
    assertRefused(
      await run('restore-embedded.sh', [otherArchive, join(folder, 'new')]),
      1,
      /is not a backup of an embedded data folder/,
    );
    assert.equal(existsSync(join(folder, 'new')), false, 'nothing was created');
  });
});
