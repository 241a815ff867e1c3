// Password hashing: argon2id with OWASP's minimum (m = 19 MiB, t = 2, p = 1),
// stored as PHC strings. See docs/decisions/004-argon2id-parameters.md.
// At most one hash more than the cores runs at once (ADR 019).
import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import pLimit, { type LimitFunction } from 'p-limit';

/** @node-rs/argon2's Algorithm.Argon2id (a const enum, which isolated modules cannot import). */
const ARGON2ID = 2;

export interface HashParameters {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const DEFAULT_HASH_PARAMETERS: HashParameters = {
  memoryCost: 19456,
  timeCost: 2,
  parallelism: 1,
};

/**
 * How many hashes run at once by default: one more than the cores, so a
 * core never idles while a hash waits on memory, but never all of libuv's
 * pool (UV_THREADPOOL_SIZE, 4 unless set): one thread stays free for file
 * and DNS work. argon2id is memory-hard (19 MiB a hash); the rest wait
 * their turn in order, at no cost. On 2 cores: 3 (measured against 2 and 4
 * in ADR 019). A machine with more cores raises UV_THREADPOOL_SIZE to use
 * them.
 */
export function defaultHashConcurrency(env: NodeJS.ProcessEnv = process.env): number {
  const pool = Number(env.UV_THREADPOOL_SIZE);
  const threads = Number.isInteger(pool) && pool > 0 ? Math.min(pool, 1024) : 4;
  return Math.max(1, Math.min(availableParallelism() + 1, threads - 1));
}

/** Told how long one verification's argon2 work took, in seconds. */
export type VerifyObserver = (seconds: number) => void;

export class PasswordHasher {
  /** The dummy hash verifyNothing checks against, shared with observed() views. */
  #shared: { dummy?: Promise<string> } = {};
  #limit: LimitFunction;
  #observe: VerifyObserver | undefined;

  constructor(
    readonly parameters: HashParameters = DEFAULT_HASH_PARAMETERS,
    /** Hashes and verifications running at once; the others wait in order. */
    readonly concurrency: number = defaultHashConcurrency(),
  ) {
    this.#limit = pLimit(concurrency);
  }

  /**
   * This hasher, telling `observe` how long each verification's work took
   * (the metrics' histogram). The same slots and the same dummy hash: an
   * observed view adds no hashing at once beyond this hasher's own.
   */
  observed(observe: VerifyObserver): PasswordHasher {
    const view = new PasswordHasher(this.parameters, this.concurrency);
    view.#limit = this.#limit;
    view.#shared = this.#shared;
    view.#observe = observe;
    return view;
  }

  hash(password: string): Promise<string> {
    return this.#limit(() => hash(password, { algorithm: ARGON2ID, ...this.parameters }));
  }

  /** Verifies; a malformed stored hash is a mismatch, never an exception. */
  async verify(stored: string, password: string): Promise<boolean> {
    try {
      return await this.#limit(async () => {
        // Timed once it has its slot: the work, not the queue before it.
        const started = performance.now();
        const matches = await verify(stored, password);
        this.#observe?.((performance.now() - started) / 1000);
        return matches;
      });
    } catch {
      return false;
    }
  }

  /**
   * Spends the same work as verifying a real hash, for a document that has no
   * member or no password, so response times do not tell them apart.
   */
  async verifyNothing(password: string): Promise<false> {
    this.#shared.dummy ??= this.hash('autogestion-dummy-password');
    await this.verify(await this.#shared.dummy, password);
    return false;
  }

  /** True when the stored hash was made with other parameters or another algorithm. */
  needsRehash(stored: string): boolean {
    const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
    if (!match) return true;
    return (
      Number(match[1]) !== this.parameters.memoryCost ||
      Number(match[2]) !== this.parameters.timeCost ||
      Number(match[3]) !== this.parameters.parallelism
    );
  }
}
