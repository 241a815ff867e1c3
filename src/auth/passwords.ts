// Password hashing: argon2id with OWASP's minimum (m = 19 MiB, t = 2, p = 1),
// stored as PHC strings. See docs/decisions/004-argon2id-parameters.md.
import { hash, verify } from '@node-rs/argon2';

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

export class PasswordHasher {
  #dummy: Promise<string> | undefined;

  constructor(readonly parameters: HashParameters = DEFAULT_HASH_PARAMETERS) {}

  hash(password: string): Promise<string> {
    return hash(password, { algorithm: ARGON2ID, ...this.parameters });
  }

  /** Verifies; a malformed stored hash is a mismatch, never an exception. */
  async verify(stored: string, password: string): Promise<boolean> {
    try {
      return await verify(stored, password);
    } catch {
      return false;
    }
  }

  /**
   * Spends the same work as verifying a real hash, for a document that has no
   * member or no password, so response times do not tell them apart.
   */
  async verifyNothing(password: string): Promise<false> {
    this.#dummy ??= this.hash('autogestion-dummy-password');
    await this.verify(await this.#dummy, password);
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
