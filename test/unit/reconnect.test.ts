// Work interrupted by a database restart is done again once the database
// answers (src/db/reconnect.ts), and only that: a bad query is not retried.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isConnectionLost, whileDatabaseAway } from '../../src/db/reconnect.ts';
import { batchedTasks, createBackground } from '../../src/flows/background.ts';

const silent = { info() {}, warn() {}, error() {} };

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('a lost database connection', () => {
  it('is told from a bad query', () => {
    for (const lost of [
      withCode('terminating connection due to administrator command', '57P01'),
      withCode('the database system is starting up', '57P03'),
      withCode('connection failure', '08006'),
      withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'),
      new Error('Connection terminated unexpectedly'),
      new AggregateError([withCode('connect ECONNREFUSED ::1:5432', 'ECONNREFUSED')], ''),
    ])
      assert.equal(isConnectionLost(lost), true, lost.message);
    for (const other of [
      withCode('duplicate key value violates unique constraint', '23505'),
      withCode('relation "members" does not exist', '42P01'),
      new Error('something else'),
      'ECONNREFUSED',
      undefined,
    ])
      assert.equal(isConnectionLost(other), false, String(other));
  });

  it('is waited out: the work runs again until the database answers', async () => {
    let tries = 0;
    const result = await whileDatabaseAway(async () => {
      tries += 1;
      if (tries < 3) throw withCode('the database system is shutting down', '57P03');
      return 'done';
    }, [0, 0, 0]);
    assert.equal(result, 'done');
    assert.equal(tries, 3);
  });

  it('gives up after the last wait, and never retries another failure', async () => {
    let tries = 0;
    await assert.rejects(
      whileDatabaseAway(async () => {
        tries += 1;
        throw withCode('connect ECONNREFUSED', 'ECONNREFUSED');
      }, [0, 0]),
      /ECONNREFUSED/,
    );
    assert.equal(tries, 3, 'the first try and one per wait');
    tries = 0;
    await assert.rejects(
      whileDatabaseAway(async () => {
        tries += 1;
        throw withCode('duplicate key', '23505');
      }, [0, 0]),
      /duplicate key/,
    );
    assert.equal(tries, 1);
  });

  it('does not fail a batch of requests: the whole batch is done again', async () => {
    const background = createBackground(silent, 10);
    const handled: string[][] = [];
    let failures = 1;
    const batches = batchedTasks(
      background,
      'test',
      async (items: string[]) => {
        if (failures-- > 0) throw new Error('Connection terminated unexpectedly');
        handled.push(items);
      },
      { reconnectDelaysMs: [0, 0] },
    );
    batches.add('a');
    batches.add('b');
    await background.idle();
    assert.deepEqual(handled, [['a', 'b']], 'once, together, not one by one');
  });
});
