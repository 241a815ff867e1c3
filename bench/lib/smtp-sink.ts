// An SMTP server that only counts what it receives (no parsing), so the
// benchmark's own process spends as little as possible on mail.
import { SMTPServer } from 'smtp-server';
import { freePort } from './ports.ts';

export class SmtpSink {
  received = 0;
  #server: SMTPServer;

  private constructor(readonly port: number) {
    this.#server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      size: 1_000_000,
      onData: (stream, _session, callback) => {
        stream.on('data', () => {});
        stream.on('end', () => {
          this.received += 1;
          callback();
        });
      },
    });
    // A client that goes away mid-connection (a server stopped) is not the sink's failure.
    this.#server.on('error', () => {});
  }

  static async start(): Promise<SmtpSink> {
    const sink = new SmtpSink(await freePort());
    await new Promise<void>((resolve, reject) => {
      sink.#server.once('error', reject);
      sink.#server.listen(sink.port, '127.0.0.1', () => resolve());
    });
    return sink;
  }

  /** Resolves when `count` messages in all have arrived, or after `timeoutMs` (false). */
  async waitFor(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.received < count) {
      if (performance.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
