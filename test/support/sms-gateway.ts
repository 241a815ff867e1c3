// A stand-in for the SMS gateway: a real HTTP server on 127.0.0.1 that
// records each POST's JSON {to, body} and answers 200, or the status it is
// told to answer (e.g. 503) for a number of requests.
import { createServer, type Server } from 'node:http';

export interface ReceivedSms {
  to: string;
  body: string;
  /** What the stub answered. */
  status: number;
  /** performance.now() when it was answered, and the sender's TCP port (for the fault tests). */
  receivedAt?: number;
  remotePort?: number;
}

export class SmsGatewayStub {
  /** Every POST, answered or refused, oldest first. */
  readonly requests: ReceivedSms[] = [];
  #failures: { status: number; remaining: number } | null = null;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<SmsGatewayStub> {
    let stub: SmsGatewayStub | undefined;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const status = stub ? stub.#nextStatus() : 500;
        const seen = { receivedAt: performance.now(), remotePort: request.socket.remotePort };
        try {
          const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<ReceivedSms>;
          stub?.requests.push({ to: String(json.to), body: String(json.body), status, ...seen });
        } catch {
          stub?.requests.push({ to: '', body: '', status: 400, ...seen });
        }
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ok: status < 300 }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('no address');
    stub = new SmsGatewayStub(server, `http://127.0.0.1:${address.port}/sms`);
    return stub;
  }

  /** The TCP port it listens on. */
  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Messages the gateway accepted (answered 2xx). */
  get delivered(): ReceivedSms[] {
    return this.requests.filter((r) => r.status < 300);
  }

  /** Accepted messages to one number. */
  to(number: string): ReceivedSms[] {
    return this.delivered.filter((r) => r.to === number);
  }

  /** Answer `status` to the next `times` requests (Infinity: until told otherwise). */
  fail(status = 503, times = Number.POSITIVE_INFINITY): void {
    this.#failures = { status, remaining: times };
  }

  /** Back to answering 200. */
  recover(): void {
    this.#failures = null;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #nextStatus(): number {
    if (!this.#failures || this.#failures.remaining <= 0) return 200;
    this.#failures.remaining -= 1;
    return this.#failures.status;
  }
}

/** The code in an SMS: the only run of 6 digits in the body. */
export function codeIn(sms: { body: string }): string {
  const runs = sms.body.match(/\d{6,}/g) ?? [];
  if (runs.length !== 1 || runs[0]?.length !== 6)
    throw new Error(`expected one run of 6 digits in: ${sms.body}`);
  return runs[0] as string;
}
