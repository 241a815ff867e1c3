import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import {
  DEFAULT_HASH_PARAMETERS,
  defaultHashConcurrency,
  PasswordHasher,
} from '../../src/auth/passwords.ts';
import { FAST_HASHER } from '../helper.ts';

describe('passwords', () => {
  it('hashes with argon2id, m=19456, t=2, p=1 by default, as a PHC string', async () => {
    const hasher = new PasswordHasher();
    assert.deepEqual(hasher.parameters, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
    assert.equal(hasher.parameters, DEFAULT_HASH_PARAMETERS);
    const stored = await hasher.hash('clave2026');
    assert.match(
      stored,
      /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/,
    );
    assert.ok(!stored.includes('clave2026'));
    assert.equal(hasher.needsRehash(stored), false);
    assert.equal(await hasher.verify(stored, 'clave2026'), true);
  });

  it('salts every hash', async () => {
    const first = await FAST_HASHER.hash('clave2026');
    const second = await FAST_HASHER.hash('clave2026');
    assert.notEqual(first, second);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await FAST_HASHER.hash('clave2026');
    assert.equal(await FAST_HASHER.verify(stored, 'clave2026'), true);
    assert.equal(await FAST_HASHER.verify(stored, 'clave2027'), false);
    assert.equal(await FAST_HASHER.verify(stored, 'CLAVE2026'), false);
    assert.equal(await FAST_HASHER.verify(stored, ''), false);
  });

  it('verifies a hash made with other parameters (they travel in the PHC string)', async () => {
    const stored = await FAST_HASHER.hash('clave2026');
    const other = new PasswordHasher({ memoryCost: 2048, timeCost: 2, parallelism: 1 });
    assert.equal(await other.verify(stored, 'clave2026'), true);
  });

  it('treats a malformed stored hash as a mismatch without throwing', async () => {
    for (const stored of [
      '',
      'clave2026',
      '$argon2id$',
      '$argon2id$v=19$m=1024,t=1,p=1$bm90YmFzZTY0$%%%',
      '$2b$10$abcdefghijklmnopqrstuuJQ6Yq2z3nH5Jd0Yt0H0y1mQb8rVf1S',
    ]) {
      assert.equal(await FAST_HASHER.verify(stored, 'clave2026'), false, JSON.stringify(stored));
    }
  });

  it('asks for a re-hash when the parameters or the algorithm differ', async () => {
    const hasher = new PasswordHasher();
    const weak = await FAST_HASHER.hash('clave2026');
    assert.equal(hasher.needsRehash(weak), true, 'weaker argon2id parameters');
    assert.equal(
      hasher.needsRehash('$argon2id$v=19$m=19456,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'),
      true,
      'another time cost',
    );
    assert.equal(
      hasher.needsRehash('$argon2id$v=19$m=19456,t=2,p=2$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'),
      true,
      'another parallelism',
    );
    assert.equal(
      hasher.needsRehash('$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA'),
      true,
      'argon2i',
    );
    assert.equal(
      hasher.needsRehash('$2b$10$abcdefghijklmnopqrstuuJQ6Yq2z3nH5Jd0Yt0H0y1mQb8rVf1S'),
      true,
    );
    assert.equal(hasher.needsRehash('not a hash'), true);
  });

  it('does not ask for a re-hash of a hash made with the current parameters', async () => {
    assert.equal(FAST_HASHER.needsRehash(await FAST_HASHER.hash('clave2026')), false);
    assert.equal(
      new PasswordHasher().needsRehash(
        '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA',
      ),
      false,
    );
  });

  it('spends a verification for a missing hash and answers false', async () => {
    assert.equal(await FAST_HASHER.verifyNothing('clave2026'), false);
    assert.equal(await FAST_HASHER.verifyNothing('autogestion-dummy-password'), false);
  });

  it('runs one hash more than the cores at once, never the whole libuv pool', async () => {
    const cores = availableParallelism();
    assert.equal(defaultHashConcurrency({}), Math.min(cores + 1, 3));
    assert.equal(defaultHashConcurrency({ UV_THREADPOOL_SIZE: '64' }), Math.min(cores + 1, 63));
    assert.equal(defaultHashConcurrency({ UV_THREADPOOL_SIZE: '1' }), 1);
    assert.equal(defaultHashConcurrency({ UV_THREADPOOL_SIZE: 'many' }), Math.min(cores + 1, 3));
  });
});
