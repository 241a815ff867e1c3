// A real SMTP server in the test process (smtp-server), whose messages are
// parsed with mailparser as a mail client would read them. It can be
// started on a reserved port later (the "SMTP is down" case), stopped,
// and told to refuse connections with a reply code.
import { createServer as createNetServer } from 'node:net';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerEnvelope } from 'smtp-server';

export interface ReceivedMail {
  envelope: { from: string | null; to: string[] };
  parsed: ParsedMail;
  raw: string;
  /** performance.now() when the message was fully received. */
  receivedAt: number;
  /** The sender's TCP port (which process sent it, for the fault tests). */
  remotePort: number;
}

/** A free TCP port on 127.0.0.1: listened on once and released, so nothing answers there. */
export async function reservePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export class SmtpStub {
  readonly messages: ReceivedMail[] = [];
  /** Errors of client connections (e.g. a sender that died mid-message). */
  readonly errors: Error[] = [];
  /** Connections seen, refused ones included. */
  connections = 0;
  /** When set, every connection and message is refused with this reply code (e.g. 421). */
  refuseWith: number | null = null;
  /**
   * How long each recipient waits for its reply (a slow mail server): a
   * message is received only after it, so a sender that dies meanwhile has
   * delivered nothing.
   */
  delayMs = 0;
  /** The senders' ports of the messages waiting out `delayMs` now. */
  readonly #delaying = new Map<string, number>();
  #server: SMTPServer | null = null;
  #waiters: { count: number; resolve: () => void }[] = [];

  private constructor(readonly port: number) {}

  /** Starts listening on `port` (0: any free port). */
  static async start(port = 0): Promise<SmtpStub> {
    const stub = new SmtpStub(port === 0 ? await reservePort() : port);
    await stub.listen();
    return stub;
  }

  /** A stub that owns a port but does not listen yet: connections are refused. */
  static async stopped(): Promise<SmtpStub> {
    return new SmtpStub(await reservePort());
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  get listening(): boolean {
    return this.#server !== null;
  }

  async listen(): Promise<void> {
    if (this.#server) return;
    const server = new SMTPServer({
      authOptional: true,
      disableReverseLookup: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      // Pooled client connections are closed at once on stop().
      closeTimeout: 50,
      onConnect: (_session, callback) => {
        this.connections += 1;
        callback(this.#refusal());
      },
      // Connections a pooled client already holds are refused at the next message.
      onMailFrom: (_address, _session, callback) => callback(this.#refusal()),
      onRcptTo: (_address, session, callback) => {
        if (this.delayMs <= 0) return callback();
        this.#delaying.set(session.id, session.remotePort);
        setTimeout(() => {
          this.#delaying.delete(session.id);
          callback();
        }, this.delayMs);
      },
      onData: (stream, session, callback) => {
        // The session is reused by the next message of the connection: copy it now.
        const envelope = copyEnvelope(session.envelope);
        const remotePort = session.remotePort;
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', callback);
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const receivedAt = performance.now();
          simpleParser(raw)
            .then((parsed) => {
              this.messages.push({ envelope, parsed, raw, receivedAt, remotePort });
              this.#notify();
              callback();
            })
            .catch(callback);
        });
      },
    });
    // A client that vanishes mid-session (a sender killed) is the client's
    // problem, not the server's: kept, not thrown.
    server.on('error', (error) => this.errors.push(error));
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
  }

  /** Stops listening (the port stays reserved for listen() again). */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = null;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The TCP ports of the senders whose messages wait out `delayMs` right now. */
  delayingPorts(): number[] {
    return [...this.#delaying.values()];
  }

  /** Messages sent to `address`, oldest first. */
  to(address: string): ReceivedMail[] {
    return this.messages.filter((m) => m.envelope.to.includes(address));
  }

  /** Resolves once `count` messages have arrived in total (for the background dispatcher). */
  waitForCount(count: number, timeoutMs = 5000): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`SMTP stub: ${this.messages.length} of ${count} messages`)),
        timeoutMs,
      );
      this.#waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  #refusal(): Error | null {
    if (this.refuseWith === null) return null;
    return Object.assign(new Error('Service not available, try again later'), {
      responseCode: this.refuseWith,
    });
  }

  #notify(): void {
    const ready = this.#waiters.filter((w) => this.messages.length >= w.count);
    this.#waiters = this.#waiters.filter((w) => this.messages.length < w.count);
    for (const waiter of ready) waiter.resolve();
  }
}

function copyEnvelope(envelope: SMTPServerEnvelope): ReceivedMail['envelope'] {
  return {
    from: envelope.mailFrom ? envelope.mailFrom.address : null,
    to: envelope.rcptTo.map((r) => r.address),
  };
}

/** The first http(s) link of the plain-text part. */
export function linkIn(mail: ReceivedMail): string {
  const match = /https?:\/\/\S+/.exec(mail.parsed.text ?? '');
  if (!match) throw new Error(`no link in: ${mail.parsed.text}`);
  return match[0];
}
