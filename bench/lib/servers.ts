// The two servers the benchmark measures, started the same way by every
// script in bench/: ours (src/server.ts, as `npm start` runs it) with the
// CAPTCHA off and every limit raised so that none fires, and the Better Auth
// peer (bench/peers/better-auth).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.ts';
import { type RunningServer, startServer } from './server.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PEER = join(ROOT, 'bench', 'peers', 'better-auth');

/** The servers log as they would in production (LOG_LEVEL unset: info, one line a request). */
export function baseEnv(): Record<string, string> {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
}

/** Our server; `nodeArgs` go before the script (e.g. --cpu-prof). */
export async function startOurs(
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  return startServer({
    command: [process.execPath, ...nodeArgs, '--import', 'tsx', join(ROOT, 'src', 'server.ts')],
    cwd: ROOT,
    url,
    readyPath: '/readyz',
    env: {
      ...baseEnv(),
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      CAPTCHA_PROVIDER: 'none',
      LOGIN_FREE_FAILURES: '100',
      LOGIN_FAILURES_PER_ADDRESS: '9999999/1m',
      LOGIN_FAILURES_GLOBAL: '9999999/1m',
      PASSWORD_REQUESTS_PER_ADDRESS: '9999999/1m',
      MESSAGES_PER_MEMBER_PER_HOUR: '1000',
      BACKGROUND_QUEUE_LIMIT: '1000000',
      ...env,
    },
  });
}

/** The Better Auth peer on its own database, mailing through the sink at `smtpPort`. */
export async function startPeer(databaseUrl: string, smtpPort: number): Promise<RunningServer> {
  const port = await freePort();
  return startServer({
    command: [process.execPath, join(PEER, 'server.mjs')],
    cwd: PEER,
    url: `http://127.0.0.1:${port}`,
    readyPath: '/bench/stats',
    env: {
      ...baseEnv(),
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      SMTP_PORT: String(smtpPort),
    },
  });
}
