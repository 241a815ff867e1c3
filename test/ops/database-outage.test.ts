// The parts a database restart and a graceful stop lean on, each alone on a
// PostgreSQL of its own: a connection PostgreSQL ends while a transaction
// holds it fails that transaction and does not crash the process; the
// courier records what it delivered once the database is back, instead of
// leaving it to be sent again; and a stopping courier takes no new work.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '../../src/auth/clock.ts';
import { Dispatcher } from '../../src/courier/dispatcher.ts';
import type { Channel, OutgoingMessage } from '../../src/courier/message.ts';
import { enqueueMessage } from '../../src/courier/outbox.ts';
import { connectDatabase } from '../../src/db/connect.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import type { Database } from '../../src/db/schema.ts';
import { TEST_SECRET } from '../helper.ts';
import { CapturedLog } from '../support/delivery.ts';
import { Postgres, ROOT, skipReason } from './cluster.ts';

/** A channel that keeps what it was given, and runs `onDeliver` before saying it went. */
class RecordingChannel implements Channel {
  readonly name = 'recording';
  readonly delivered: string[] = [];
  onDeliver: (message: OutgoingMessage) => Promise<void> = async () => {};

  async deliver(message: OutgoingMessage): Promise<void> {
    await this.onDeliver(message);
    this.delivered.push(message.to);
  }
}

function email(to: string): OutgoingMessage {
  return {
    channel: 'email',
    to,
    template: 'password-changed',
    content: { subject: 'Aviso', text: 'aviso', html: '<p>aviso</p>' },
  };
}

describe('a database that goes away, and a courier that stops', { skip: skipReason() }, () => {
  let pg: Postgres;
  let db: Database;

  before(async () => {
    pg = await Postgres.create();
    db = await connectDatabase({ kind: 'postgres', url: pg.url }, { poolSize: 4 });
    await migrateToLatest(db);
  });

  after(async () => {
    await db?.destroy();
    await pg?.destroy();
  });

  it('fails only the transaction whose connection PostgreSQL ended, and the process lives on', async () => {
    // In a process of its own: an error nobody listens to would end it.
    const script = `
      import { sql } from 'kysely';
      import { connectDatabase } from './src/db/connect.ts';
      const url = process.env.DATABASE_URL;
      const db = await connectDatabase({ kind: 'postgres', url }, { poolSize: 2 });
      const admin = await connectDatabase({ kind: 'postgres', url }, { poolSize: 1 });
      const outcome = await db.transaction().execute(async (trx) => {
        const { rows } = await sql\`select pg_backend_pid() as pid\`.execute(trx);
        // Ended from outside while this transaction holds the connection
        // between two statements, as a restart of PostgreSQL does.
        await sql\`select pg_terminate_backend(\${rows[0].pid})\`.execute(admin);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await sql\`select 1\`.execute(trx);
        return 'committed';
      }).catch((error) => 'failed');
      await new Promise((resolve) => setTimeout(resolve, 200));
      // The pool dropped the broken connection and serves the next query.
      const { rows } = await sql\`select 1 as one\`.execute(db);
      await Promise.all([db.destroy(), admin.destroy()]);
      process.stdout.write(JSON.stringify({ outcome, next: rows[0].one }));
    `;
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: pg.url },
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    assert.equal(child.status, 0, `the process ended: ${child.stderr}`);
    assert.deepEqual(JSON.parse(child.stdout), { outcome: 'failed', next: 1 });
  });

  it('records a delivered message as sent once the database is back, so it is not sent again', async () => {
    const channel = new RecordingChannel();
    const dispatcher = new Dispatcher({
      db,
      clock: systemClock,
      secret: TEST_SECRET,
      channels: { email: channel, sms: channel },
      log: new CapturedLog(),
      // One lane: a second one would claim again while the database is
      // down, and runOnce reports that failure (the server's loop would
      // just try again later).
      lanes: 1,
    });
    const id = await enqueueMessage(db, systemClock, TEST_SECRET, email('a@example.org'), null);
    let restarted: Promise<void> = Promise.resolve();
    channel.onDeliver = async () => {
      // The database goes away while the message is with the mail server:
      // its outcome cannot be written now; it is back a moment later.
      await pg.stop('fast');
      restarted = pg.start();
    };
    assert.equal(await dispatcher.runOnce(), 1);
    await restarted;
    const row = await db
      .selectFrom('outbox')
      .select(['status', 'attempts', 'locked_until'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.deepEqual([row.status, row.attempts, row.locked_until], ['sent', 1, null]);
    assert.deepEqual(channel.delivered, ['a@example.org']);
  });

  it('a stopping courier finishes the batch in hand and claims no more', async () => {
    await db.deleteFrom('outbox').execute();
    const channel = new RecordingChannel();
    const dispatcher = new Dispatcher({
      db,
      clock: systemClock,
      secret: TEST_SECRET,
      channels: { email: channel, sms: channel },
      log: new CapturedLog(),
      batchSize: 1,
      lanes: 1,
    });
    for (const to of ['1@example.org', '2@example.org', '3@example.org'])
      await enqueueMessage(db, systemClock, TEST_SECRET, email(to), null);
    let stopping: Promise<void> = Promise.resolve();
    channel.onDeliver = async () => {
      // Told to stop while the first message is on its way.
      if (channel.delivered.length === 0) stopping = dispatcher.stop();
    };
    await dispatcher.runOnce();
    await stopping;
    assert.deepEqual(channel.delivered, ['1@example.org']);
    const left = await db
      .selectFrom('outbox')
      .select('status')
      .where('status', '=', 'queued')
      .execute();
    assert.equal(left.length, 2, 'the rest is left queued for the other instances');
  });
});
