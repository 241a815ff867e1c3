// One load run with autocannon, in this process, against a server on
// loopback: a fixed number of connections for a fixed time, each request
// built by `next()` (so every request can name another member).
import autocannon from 'autocannon';

export interface LoadRequest {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  next: () => LoadRequest;
  /** Requests per second for the whole run (a fixed, moderate load); saturating when absent. */
  rate?: number;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** Answers other than 2xx, plus connection errors and timeouts. */
  errors: number;
  seconds: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const startedAt = performance.now();
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    ...(options.rate ? { overallRate: options.rate } : {}),
    timeout: 30,
    requests: [
      {
        setupRequest: (request) => {
          const next = options.next();
          return {
            ...request,
            method: next.method,
            path: next.path,
            headers: { ...next.headers },
            ...(next.body !== undefined ? { body: next.body } : {}),
          };
        },
      },
    ],
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const requests = result.requests.total;
  return {
    requests,
    rps: result.duration > 0 ? requests / result.duration : 0,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.non2xx + result.errors + result.timeouts,
    seconds,
  };
}

/** A JSON POST. */
export function postJson(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): LoadRequest {
  return {
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}
