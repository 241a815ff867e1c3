// The ceiling: argon2id verifies per second with the product's parameters,
// as many in flight as the server runs at once (PasswordHasher), nothing else.
import { verify } from '@node-rs/argon2';
import { defaultHashConcurrency } from '../../src/auth/passwords.ts';

export interface HashOnlyResult {
  verifies: number;
  rps: number;
  inFlight: number;
}

/** As many verifies at once as the server runs. */
export function poolSize(): number {
  return defaultHashConcurrency();
}

export async function runHashOnly(
  hashes: readonly { hash: string; password: string }[],
  seconds: number,
  inFlight = poolSize(),
): Promise<HashOnlyResult> {
  let verifies = 0;
  let next = 0;
  const startedAt = performance.now();
  const endAt = startedAt + seconds * 1000;
  const worker = async () => {
    while (performance.now() < endAt) {
      const item = hashes[next++ % hashes.length] as { hash: string; password: string };
      if (!(await verify(item.hash, item.password))) throw new Error('hash-only: a verify failed');
      verifies += 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = (performance.now() - startedAt) / 1000;
  return { verifies, rps: verifies / elapsed, inFlight };
}
