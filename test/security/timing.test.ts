// Attack suite, timing: how long an answer takes must not tell whether a
// document belongs to a member. Real sockets (the app listens on a free
// port; the client runs in a worker thread with its own event loop, as a
// remote client would, so work the server does after answering does not
// delay the client's reading), the production argon2id parameters, 50
// samples of each kind taken in alternation after a warm-up; the medians
// must be within 0.8–1.25 of each other. Every sample uses a document of its own, so no throttle interferes
// and every known member goes the whole way (a password check; a link queued).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { PasswordHasher } from '../../src/auth/passwords.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';

const SAMPLES = 50;
const WARM_UP = 10;

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

describe(`answer times do not tell who is a member (${databaseLabel})`, () => {
  let t: TestApp;
  let base: string;
  const hasher = new PasswordHasher();

  let client: TimingClient;

  before(async () => {
    client = new TimingClient();
    t = await buildTestApp({ database, hasher });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await client.close();
    await t.close();
  });

  /** Members with a real password hash (one hash, shared: hashing is not what is measured). */
  async function members(count: number) {
    const hash = await hasher.hash('clave2026');
    const created = [];
    for (let i = 0; i < count; i += 1) {
      const member = await createMember(t.db, { password: null });
      await t.db
        .updateTable('members')
        .set({ password_hash: hash })
        .where('id', '=', member.id)
        .execute();
      created.push(member);
    }
    return created;
  }

  let unknownSequence = 0;
  const unknownDocument = () => {
    unknownSequence += 1;
    return String(8_100_000 + unknownSequence);
  };

  /** Milliseconds until the answer has arrived; then waits for work handed off after it. */
  async function timed(path: string, body: object, expected: number): Promise<number> {
    const { status, elapsed } = await client.post(`${base}${path}`, JSON.stringify(body));
    assert.equal(status, expected, path);
    await t.deps.background?.idle();
    return elapsed;
  }

  async function compare(
    label: string,
    known: (i: number) => Promise<number>,
    unknown: () => Promise<number>,
  ) {
    for (let i = 0; i < WARM_UP; i += 1) {
      await known(SAMPLES + i);
      await unknown();
    }
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    // Pairs in turn known-first and unknown-first: neither kind always follows the other's work.
    for (let i = 0; i < SAMPLES; i += 1) {
      if (i % 2 === 0) {
        knownTimes.push(await known(i));
        unknownTimes.push(await unknown());
      } else {
        unknownTimes.push(await unknown());
        knownTimes.push(await known(i));
      }
    }
    const ratio = median(knownTimes) / median(unknownTimes);
    const summary = `${label}: median known ${median(knownTimes).toFixed(2)} ms, unknown ${median(unknownTimes).toFixed(2)} ms, ratio ${ratio.toFixed(3)} (${SAMPLES} samples each, ${databaseLabel})`;
    console.log(summary);
    assert.ok(ratio >= 0.8 && ratio <= 1.25, summary);
  }

  it('login: a wrong password and an unknown document take alike', async () => {
    const accounts = await members(SAMPLES + WARM_UP);
    await compare(
      'login',
      (i) =>
        timed('/api/v1/login', { document: accounts[i]?.document, password: 'Equivocada9' }, 401),
      () => timed('/api/v1/login', { document: unknownDocument(), password: 'Equivocada9' }, 401),
    );
  });

  it('password requests: a member (a link queued) and an unknown document (nothing) take alike', async () => {
    const accounts = await members(SAMPLES + WARM_UP);
    await compare(
      'password request',
      (i) =>
        timed(
          '/api/v1/password-requests',
          { document: accounts[i]?.document, channel: 'email' },
          202,
        ),
      () =>
        timed('/api/v1/password-requests', { document: unknownDocument(), channel: 'email' }, 202),
    );
    const queued = await t.db
      .selectFrom('outbox')
      .select('id')
      .where('template', '=', 'password-request')
      .execute();
    assert.equal(queued.length, SAMPLES + WARM_UP, 'every member got a link; no unknown did');
  });
});

/** A client in a worker thread: posts JSON and reports the status and the milliseconds to the full answer. */
class TimingClient {
  private readonly worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', async ({ url, body }) => {
       const start = process.hrtime.bigint();
       try {
         const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
         await response.arrayBuffer();
         parentPort.postMessage({ status: response.status, elapsed: Number(process.hrtime.bigint() - start) / 1e6 });
       } catch (error) {
         parentPort.postMessage({ status: 0, elapsed: 0, error: String(error) });
       }
     });`,
    { eval: true },
  );

  post(url: string, body: string): Promise<{ status: number; elapsed: number }> {
    return new Promise((resolve, reject) => {
      this.worker.once('message', (message: { status: number; elapsed: number; error?: string }) =>
        message.error ? reject(new Error(message.error)) : resolve(message),
      );
      this.worker.postMessage({ url, body });
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
