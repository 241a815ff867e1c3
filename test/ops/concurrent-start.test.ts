// Three instances started at the same moment on an empty database, as a
// fresh deployment or an orchestrator does: the migrations run once (under
// the Migrator's lock: one database session creates the schema, the others
// find it done), and all three become ready.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { migrations } from '../../migrations/index.ts';
import { Cluster, type Instance, serverCommand, skipReason } from './cluster.ts';

describe('three instances started at once on an empty database', { skip: skipReason() }, () => {
  let cluster: Cluster;
  let startedAt = 0;
  const readyAfter = new Map<string, number>();
  const figures: string[] = [];

  before(async () => {
    cluster = await Cluster.start({
      instances: 3,
      nginx: false,
      waitReady: false,
      // Every statement in PostgreSQL's log, with its session's process id.
      postgres: { log_statement: "'all'" },
    });
    // Cluster.start spawned all three, one right after the other, as it returned.
    startedAt = performance.now();
    await Promise.all(
      (cluster.instances as Instance[]).map(async (instance) => {
        await instance.ready();
        readyAfter.set(instance.name, performance.now() - startedAt);
      }),
    );
    figures.push(`server command: ${serverCommand().label}`);
  });

  after(async () => {
    for (const line of figures) console.log(`concurrent start: ${line}`);
    await cluster?.stop();
  });

  it('all three become ready', async () => {
    for (const instance of cluster.instances as Instance[]) {
      assert.ok(instance.running, instance.output());
      assert.equal(await instance.readyz(), 200);
    }
    figures.push(
      `ready after ${[...readyAfter].map(([name, ms]) => `${name} ${(ms / 1000).toFixed(1)} s`).join(', ')} (all three spawned together)`,
    );
  });

  it('applied each migration once, all from one database session', async () => {
    const db = await cluster.db();
    const { rows } = await sql<{
      name: string;
    }>`select name from kysely_migration order by name`.execute(db);
    assert.deepEqual(
      rows.map((row) => row.name),
      Object.keys(migrations).sort(),
    );
    // PostgreSQL logged every statement with its session's process id: the
    // three instances each waited for the Migrator's lock, and the schema
    // was made by one session (each table created once). The Migrator's
    // own bookkeeping ("if not exists") is left out.
    const statements = cluster.pg
      .logEntries()
      .filter((entry) => entry.text.startsWith('LOG:  statement: '));
    const lockers = new Set(
      statements.filter((e) => /pg_advisory_lock\(/.test(e.text)).map((e) => e.pid),
    );
    assert.equal(lockers.size, 3, 'each instance asked for the migration lock');
    const ddl = statements.filter(
      (e) => /statement: (create|alter|drop) /i.test(e.text) && !/kysely_migration/.test(e.text),
    );
    const createsMembers = ddl.filter((e) => /statement: create table "members"/i.test(e.text));
    assert.equal(createsMembers.length, 1, 'the members table was created once');
    const sessions = new Set(ddl.map((e) => e.pid));
    assert.equal(sessions.size, 1, `schema statements from ${sessions.size} sessions`);
    figures.push(
      `${rows.length} migrations recorded once each; the migration lock asked for by ${lockers.size} sessions; ${ddl.length} schema statements, all from one of them`,
    );
  });
});
