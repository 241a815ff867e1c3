// ALTCHA: a self-hosted proof of work. The server signs each challenge with
// a key derived from APP_SECRET; a solved challenge is accepted once, the
// used signatures kept in the database so every instance refuses a replay.
import { randomInt } from 'node:crypto';
import { type Challenge, createChallenge, type Payload, verifySolution } from 'altcha-lib';
import { deriveKey as pbkdf2 } from 'altcha-lib/algorithms/pbkdf2';
import type { Clock } from '../auth/clock.ts';
import { keyedHash } from '../auth/secrets.ts';
import type { Database } from '../db/schema.ts';
import { ChallengePool } from './challenge-pool.ts';
import type { Captcha, CaptchaCheck, CaptchaVerdict } from './port.ts';

export const ALTCHA_CHALLENGE_MINUTES = 10;
const ALGORITHM = 'PBKDF2/SHA-256';

export interface AltchaOptions {
  db: Database;
  clock: Clock;
  secret: string;
  /** PBKDF2 iterations per guess (ADR 005); the counter is drawn up to this many guesses. */
  cost: number;
  maxCounter?: number;
  /** The pools of addresses past their challenge budget (challenge-pool.ts); defaults there. */
  pool?: { size?: number; maxAddresses?: number };
}

export class AltchaCaptcha implements Captcha {
  readonly provider = 'altcha';
  readonly widget = {
    // The widget's files are the site's (src/site/site.ts): its "external"
    // build, which needs neither 'unsafe-inline' nor blob: in the CSP.
    scripts: [],
    selfHosted: true,
    fieldName: 'altcha',
    cspOrigins: [],
  };
  readonly #hmacSecret: string;
  /** What addresses past CAPTCHA_CHALLENGES_PER_ADDRESS are served from. */
  readonly pool: ChallengePool;

  constructor(private readonly options: AltchaOptions) {
    this.#hmacSecret = keyedHash(options.secret, 'altcha', 'challenge-signature');
    this.pool = new ChallengePool({
      clock: options.clock,
      lifetimeMs: ALTCHA_CHALLENGE_MINUTES * 60_000,
      make: (factor) => this.createChallenge(factor),
      isSpent: (signature) => this.#isSpent(signature),
      ...options.pool,
    });
  }

  /**
   * A challenge for an address past its budget: one of the few kept for it,
   * at no new key derivation once they are made (challenge-pool.ts).
   */
  pooledChallenge(address: string, factor = 1): Promise<Challenge> {
    return this.pool.take(address, factor);
  }

  /** `factor`: how many times the usual work (more guesses), when the portal is under attack. */
  async createChallenge(factor = 1): Promise<Challenge> {
    const now = this.options.clock.now();
    return createChallenge({
      algorithm: ALGORITHM,
      cost: this.options.cost,
      deriveKey: pbkdf2,
      // Our own signed expiry, checked against the injected clock (altcha-lib's
      // `expiresAt` would be checked against the wall clock instead).
      data: { exp: Math.floor(now.getTime() / 1000) + ALTCHA_CHALLENGE_MINUTES * 60 },
      hmacSignatureSecret: this.#hmacSecret,
      counter: randomCounter((this.options.maxCounter ?? 50) * factor),
    });
  }

  async verify(check: CaptchaCheck): Promise<CaptchaVerdict> {
    if (!check.response) return 'missing';
    const payload = decodePayload(check.response);
    if (!payload) return 'failed';
    const signature = payload.challenge.signature;
    const expiresAt = payload.challenge.parameters.data?.exp;
    if (!signature || typeof expiresAt !== 'number') return 'failed';
    if (expiresAt * 1000 <= this.options.clock.now().getTime()) return 'failed';
    let verified = false;
    try {
      const result = await verifySolution({
        challenge: payload.challenge,
        solution: payload.solution,
        deriveKey: pbkdf2,
        hmacSignatureSecret: this.#hmacSecret,
      });
      verified = result.verified;
    } catch {
      verified = false;
    }
    if (!verified) return 'failed';
    // Single use: the first insert of this challenge's signature wins.
    const inserted = await this.options.db
      .insertInto('captcha_solutions')
      .values({ key: signature, expires_at: new Date(expiresAt * 1000) })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    return inserted ? 'ok' : 'failed';
  }

  /** Whether a solution of the challenge with this signature was accepted already. */
  async #isSpent(signature: string): Promise<boolean> {
    const row = await this.options.db
      .selectFrom('captcha_solutions')
      .select('key')
      .where('key', '=', signature)
      .executeTakeFirst();
    return row !== undefined;
  }
}

function randomCounter(max: number): number {
  // Uniform in [max/2, max): every challenge costs about the same to solve.
  const min = Math.max(1, Math.floor(max / 2));
  // A CSPRNG: a predictable counter would let a solver skip the work.
  return randomInt(min, Math.max(min + 1, max));
}

function decodePayload(response: string): Payload | null {
  if (response.length > 4096) return null;
  try {
    const json: unknown = JSON.parse(Buffer.from(response, 'base64').toString('utf8'));
    if (!json || typeof json !== 'object') return null;
    const { challenge, solution } = json as Partial<Payload>;
    if (!challenge || typeof challenge !== 'object' || !challenge.parameters) return null;
    if (!solution || typeof solution !== 'object') return null;
    if (typeof solution.counter !== 'number' || typeof solution.derivedKey !== 'string')
      return null;
    return { challenge, solution };
  } catch {
    return null;
  }
}
