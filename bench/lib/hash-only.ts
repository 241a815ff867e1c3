// The ceiling: argon2id verifies per second with the product's parameters,
// as many in flight as the server's libuv pool runs at once, nothing else.
import { verify } from '@node-rs/argon2';

export interface HashOnlyResult {
  verifies: number;
  rps: number;
  inFlight: number;
}

/** The server's libuv pool: UV_THREADPOOL_SIZE, 4 by default. */
export function poolSize(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? size : 4;
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
