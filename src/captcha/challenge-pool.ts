// Challenges for an address past its CAPTCHA_CHALLENGES_PER_ADDRESS budget.
// That budget protects the server's CPU (each new ALTCHA challenge costs one
// key derivation), but members share addresses (carrier NAT, a proxy without
// TRUSTED_PROXIES): refusing the address past it would let one client that
// fetched the budget's worth of challenges, for free, keep every neighbour
// from logging in. So past the budget the address is served from a small
// pool of its own, at no extra CPU cost:
//
//   - the pool fills lazily: each of the first `size` requests past the
//     budget makes one challenge and keeps it; later requests get the kept
//     ones in turn;
//   - a kept challenge is handed out only while whoever gets it still has
//     SERVE_MARGIN_MS to solve it and send the form; then it is dropped and
//     its slot made again on demand (so at most `size` new challenges per
//     address every 8 minutes, per instance);
//   - a kept challenge whose solution was already accepted (captcha_solutions,
//     any instance) is made again: that costs one derivation, paid for by a
//     solved proof of work (dozens of derivations on the solver's side);
//   - a change of work factor (the hardened CAPTCHA, past the global failure
//     limit) empties the pool, so its challenges are never easier than new ones;
//   - at most `maxAddresses` pools are kept, the least recently used dropped
//     first; pools whose challenges are all past serving are dropped too.
//
// Neighbours may get the same challenge: the first solution sent is accepted
// and the second refused as used (CAPTCHA_FAILED), and the form asks for a
// new challenge. Nothing is refused here: serving a kept challenge costs three
// small database statements and no derivation, like any other request.
// See docs/decisions/005-altcha-captcha.md, "Challenges past the budget".
import type { Challenge } from 'altcha-lib';
import type { Clock } from '../auth/clock.ts';

/** Challenges kept per address. */
export const POOL_SIZE = 16;
/** Addresses whose pools are kept (≈ 0.5 KB per challenge: at most ≈ 80 MB). */
export const POOL_MAX_ADDRESSES = 10_000;
/** What a pooled challenge must have left of its life to be handed out. */
export const SERVE_MARGIN_MS = 2 * 60_000;

export interface ChallengePoolOptions {
  clock: Clock;
  /** How long a challenge is valid after it is made. */
  lifetimeMs: number;
  /** Makes one new challenge at `factor` times the usual work (one key derivation). */
  make(factor: number): Promise<Challenge>;
  /** Whether a solution of the challenge with this signature was already accepted. */
  isSpent(signature: string): Promise<boolean>;
  size?: number;
  maxAddresses?: number;
}

interface Kept {
  /** A promise, so that concurrent requests never make more than the pool holds. */
  challenge: Promise<Challenge>;
  /** Epoch ms after which it is no longer handed out. */
  serveUntil: number;
}

interface Pool {
  factor: number;
  kept: Kept[];
  /** The index of the next kept challenge to hand out. */
  next: number;
}

export class ChallengePool {
  readonly #options: ChallengePoolOptions;
  readonly #size: number;
  readonly #maxAddresses: number;
  /** Pools by address key, least recently used first (a Map keeps insertion order). */
  readonly #pools = new Map<string, Pool>();

  constructor(options: ChallengePoolOptions) {
    this.#options = options;
    this.#size = options.size ?? POOL_SIZE;
    this.#maxAddresses = options.maxAddresses ?? POOL_MAX_ADDRESSES;
  }

  /** How many addresses have a pool now (for tests and metrics). */
  get addresses(): number {
    return this.#pools.size;
  }

  /** Whether `address` has a pool now. */
  has(address: string): boolean {
    return this.#pools.has(address);
  }

  /** A challenge for `address` (an address key), from its pool. */
  async take(address: string, factor: number): Promise<Challenge> {
    const now = this.#options.clock.now().getTime();
    this.#dropStalePools(now);
    const pool = this.#poolFor(address, factor, now);
    if (pool.kept.length < this.#size) return this.#keepNew(pool, factor, now).challenge;
    const kept = pool.kept[pool.next % pool.kept.length] as Kept;
    pool.next = (pool.next + 1) % pool.kept.length;
    const taken = kept.challenge;
    const challenge = await taken;
    if (!challenge.signature || !(await this.#options.isSpent(challenge.signature)))
      return challenge;
    // Spent: made again once, however many requests found it spent at the same time.
    if (kept.challenge === taken) this.#renew(pool, kept, factor);
    return kept.challenge;
  }

  /** The address's pool, made most recently used, without challenges past serving or of another factor. */
  #poolFor(address: string, factor: number, now: number): Pool {
    let pool = this.#pools.get(address);
    if (pool) this.#pools.delete(address);
    if (!pool || pool.factor !== factor) pool = { factor, kept: [], next: 0 };
    pool.kept = pool.kept.filter((kept) => kept.serveUntil > now);
    this.#pools.set(address, pool);
    while (this.#pools.size > this.#maxAddresses) {
      const oldest = this.#pools.keys().next().value as string;
      this.#pools.delete(oldest);
    }
    return pool;
  }

  /** Drops pools, least recently used first, while every challenge they hold is past serving. */
  #dropStalePools(now: number): void {
    for (const [address, pool] of this.#pools) {
      if (pool.kept.some((kept) => kept.serveUntil > now)) return;
      this.#pools.delete(address);
    }
  }

  /** Makes one challenge and keeps it in `pool`; a failed one is not kept. */
  #keepNew(pool: Pool, factor: number, now: number): Kept {
    const kept: Kept = { challenge: this.#options.make(factor), serveUntil: 0 };
    this.#watch(pool, kept, now);
    pool.kept.push(kept);
    return kept;
  }

  /** Makes the challenge of `kept` again, in its slot (its solution was accepted already). */
  #renew(pool: Pool, kept: Kept, factor: number): void {
    kept.challenge = this.#options.make(factor);
    this.#watch(pool, kept, this.#options.clock.now().getTime());
  }

  /** Sets when `kept` stops being handed out, and forgets it if making it fails. */
  #watch(pool: Pool, kept: Kept, now: number): void {
    kept.serveUntil = now + this.#options.lifetimeMs - SERVE_MARGIN_MS;
    const made = kept.challenge;
    made.catch(() => {
      if (kept.challenge === made) pool.kept = pool.kept.filter((other) => other !== kept);
    });
  }
}
