// Attack suite, timing: how long an answer takes must not tell whether a
// document belongs to a member. Real sockets (the app listens on a free
// port; the client runs in a worker thread with its own event loop, as a
// remote client would, so work the server does after answering does not
// delay the client's reading), the production argon2id parameters, 50
// samples of each kind taken in alternation after a warm-up; the medians
// must be within 0.8–1.25 of each other. Every sample uses a document of its own, so no throttle interferes
// and every known member goes the whole way (a password check; a link queued;
// a wrong try counted on a live SMS code).
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { PasswordHasher } from '../../src/auth/passwords.ts';
import { keyedHash } from '../../src/auth/secrets.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  TEST_SECRET,
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

  /** Members who each asked for a code by SMS (through the app): each has one live code. */
  async function membersWithLiveCodes(count: number) {
    const created = [];
    for (let i = 0; i < count; i += 1) {
      const member = await createMember(t.db, { password: null });
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/password-requests',
        payload: { document: member.document, channel: 'sms' },
      });
      assert.equal(response.statusCode, 202, response.body);
      created.push({ document: member.document, wrongCode: await wrongCodeFor(member.id) });
    }
    return created;
  }

  /** A code of six digits that is not the member's live one (read from its stored HMAC). */
  async function wrongCodeFor(memberId: number): Promise<string> {
    const live = await t.db
      .selectFrom('one_time_secrets')
      .select('secret_hash')
      .where('member_id', '=', memberId)
      .where('kind', '=', 'sms_code')
      .where('used_at', 'is', null)
      .where('attempts', '=', 0)
      .executeTakeFirstOrThrow();
    const matches = (code: string) =>
      keyedHash(TEST_SECRET, 'sms-code', `${memberId}:${code}`) === live.secret_hash;
    return matches('000000') ? '111111' : '000000';
  }

  it('answers a wrong SMS code as fast for a known document as for an unknown one', async () => {
    // One member (with a fresh code) per sample: every known try meets a live
    // code with tries left, as a member's first wrong try would.
    const accounts = await membersWithLiveCodes(SAMPLES + WARM_UP);
    const verify = '/api/v1/password-requests/verify';
    await compare(
      'wrong SMS code',
      (i) => timed(verify, { document: accounts[i]?.document, code: accounts[i]?.wrongCode }, 400),
      () => timed(verify, { document: unknownDocument(), code: '000000' }, 400),
    );
    const tried = await t.db
      .selectFrom('one_time_secrets')
      .select('id')
      .where('kind', '=', 'sms_code')
      .where('attempts', '=', 1)
      .where('used_at', 'is', null)
      .execute();
    assert.equal(tried.length, SAMPLES + WARM_UP, 'every known try met a live code and missed');
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
