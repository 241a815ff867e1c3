// The mail catcher for the browser journeys: a real SMTP server and a real
// SMS gateway that the server under test delivers to, and an HTTP view of
// what arrived, so the test workers (other processes) can read the email
// link or the SMS code as a member would.
//
//   SMTP  127.0.0.1:MAIL_CATCHER_SMTP_PORT  (default 3925): smtp-server, parsed by mailparser
//   HTTP  127.0.0.1:MAIL_CATCHER_HTTP_PORT  (default 3926):
//     POST /sms                    the SMS gateway contract: JSON {to, body} → 200
//     GET  /messages?to=ADDRESS    JSON list of what was received, newest last
//                                  (email: {kind, to, from, subject, text, html};
//                                   SMS: {kind, to, body}); without `to`, everything
//     GET  /healthz                200 once both listen (Playwright's readiness url)
//
// Run as its own process by playwright.config.ts (`node --import tsx
// test/support/mail-catcher.ts`); startMailCatcher() also works in-process.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { SmtpStub } from './smtp.ts';

export interface CaughtEmail {
  kind: 'email';
  /** The envelope recipient (one entry per recipient). */
  to: string;
  /** The From header as written, e.g. "Autogestión <no-reply@localhost>". */
  from: string;
  subject: string;
  text: string;
  html: string;
}

export interface CaughtSms {
  kind: 'sms';
  to: string;
  body: string;
}

export type CaughtMessage = CaughtEmail | CaughtSms;

export const DEFAULT_SMTP_PORT = 3925;
export const DEFAULT_HTTP_PORT = 3926;
const MAX_SMS_REQUEST_BYTES = 64 * 1024;

export interface MailCatcher {
  smtpPort: number;
  httpPort: number;
  messages(to?: string): CaughtMessage[];
  close(): Promise<void>;
}

export async function startMailCatcher(
  ports: { smtp: number; http: number } = { smtp: DEFAULT_SMTP_PORT, http: DEFAULT_HTTP_PORT },
): Promise<MailCatcher> {
  const smtp = await SmtpStub.start(ports.smtp);
  // Both channels in one list, in arrival order (performance.now() when received).
  const sms: { receivedAt: number; message: CaughtSms }[] = [];

  const messages = (to?: string): CaughtMessage[] => {
    const emails = smtp.messages.flatMap((mail) =>
      mail.envelope.to.map((recipient) => ({
        receivedAt: mail.receivedAt,
        message: {
          kind: 'email' as const,
          to: recipient,
          from: mail.parsed.from?.text ?? '',
          subject: mail.parsed.subject ?? '',
          text: mail.parsed.text ?? '',
          html: typeof mail.parsed.html === 'string' ? mail.parsed.html : '',
        },
      })),
    );
    const wanted = to?.trim().toLowerCase();
    return [...emails, ...sms]
      .sort((a, b) => a.receivedAt - b.receivedAt)
      .map((entry) => entry.message)
      .filter((message) => wanted === undefined || message.to.toLowerCase() === wanted);
  };

  const http = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      send(response, 500, { error: String(error) });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://catcher');
    if (request.method === 'GET' && url.pathname === '/healthz') {
      send(response, 200, { ok: true });
    } else if (request.method === 'GET' && url.pathname === '/messages') {
      send(response, 200, messages(url.searchParams.get('to') ?? undefined));
    } else if (request.method === 'POST' && url.pathname === '/sms') {
      const body = await readBody(request);
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = null;
      }
      const { to, body: text } = (json ?? {}) as { to?: unknown; body?: unknown };
      if (typeof to !== 'string' || typeof text !== 'string' || to === '') {
        send(response, 400, { error: 'expected JSON {"to": "+598…", "body": "…"}' });
        return;
      }
      sms.push({ receivedAt: performance.now(), message: { kind: 'sms', to, body: text } });
      send(response, 200, { ok: true });
    } else {
      send(response, 404, { error: 'not found' });
    }
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(ports.http, '127.0.0.1', () => resolve());
  });

  return {
    smtpPort: smtp.port,
    httpPort: ports.http,
    messages,
    async close() {
      await Promise.all([smtp.stop(), closeHttp(http)]);
    },
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_SMS_REQUEST_BYTES) {
        reject(new Error('request too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function closeHttp(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

function portFrom(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`${name}: expected a port number, got "${raw}"`);
  return port;
}

async function main(): Promise<void> {
  const catcher = await startMailCatcher({
    smtp: portFrom('MAIL_CATCHER_SMTP_PORT', DEFAULT_SMTP_PORT),
    http: portFrom('MAIL_CATCHER_HTTP_PORT', DEFAULT_HTTP_PORT),
  });
  process.stdout.write(
    `Mail catcher: SMTP on 127.0.0.1:${catcher.smtpPort}, SMS gateway and messages on http://127.0.0.1:${catcher.httpPort}\n`,
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void catcher.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`mail catcher cannot start: ${String(error)}\n`);
    process.exit(1);
  });
}
