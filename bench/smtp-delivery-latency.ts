// How long a member waits for the «Solicitud nueva contraseña» email: from
// the HTTP answer of POST /api/v1/password-requests to the moment a real SMTP
// server has received the message, with the outbox dispatcher running on its
// own timer (woken by the flow) and the system clock, as in `npm start`.
//
//   node --import tsx bench/smtp-delivery-latency.ts [requests]
//
// Uses an in-memory PGlite, or PostgreSQL when TEST_DATABASE_URL is set.
import { buildApp } from '../src/app.ts';
import { systemClock } from '../src/auth/clock.ts';
import { createCaptcha } from '../src/captcha/create.ts';
import { SmsWebhookChannel } from '../src/courier/channels/sms-webhook.ts';
import { SmtpChannel } from '../src/courier/channels/smtp.ts';
import { Dispatcher } from '../src/courier/dispatcher.ts';
import { createTestDatabase, FAST_HASHER, TEST_SECRET, testConfig } from '../test/helper.ts';
import { CapturedLog, MAIL_FROM } from '../test/support/delivery.ts';
import { SmsGatewayStub } from '../test/support/sms-gateway.ts';
import { SmtpStub } from '../test/support/smtp.ts';

const REQUESTS = Number(process.argv[2] ?? 20);

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return `${label}: n=${sorted.length} p50 ${ms(percentile(sorted, 50))} · p95 ${ms(percentile(sorted, 95))} · min ${ms(sorted[0] as number)} · max ${ms(sorted.at(-1) as number)}`;
}

const database = await createTestDatabase();
const smtp = await SmtpStub.start();
const sms = await SmsGatewayStub.start();
let dispatcher: Dispatcher | undefined;
const config = testConfig();
const app = await buildApp(
  {
    config,
    db: database.db,
    clock: systemClock,
    hasher: FAST_HASHER,
    captcha: createCaptcha(config.captcha, {
      db: database.db,
      clock: systemClock,
      secret: TEST_SECRET,
    }),
    secret: TEST_SECRET,
    courier: { wake: () => dispatcher?.wake() },
  },
  { logger: false },
);
dispatcher = new Dispatcher({
  db: database.db,
  clock: systemClock,
  secret: TEST_SECRET,
  channels: { email: new SmtpChannel(smtp.url, MAIL_FROM), sms: new SmsWebhookChannel(sms.url) },
  log: new CapturedLog(),
});
const base = await app.listen({ port: 0, host: '127.0.0.1' });
dispatcher.start();

const documents: string[] = [];
for (let i = 0; i < REQUESTS * 2; i += 1) {
  const document = String(6_000_000 + i);
  await database.db
    .insertInto('members')
    .values({
      document,
      member_number: String(800_000 + i),
      first_name: 'Ana',
      last_name: 'Pérez',
      email: `latencia${i}@example.org`,
      mobile: null,
      status: 'active',
      password_hash: null,
      password_changed_at: null,
    })
    .execute();
  documents.push(document);
}

async function ask(document: string): Promise<number> {
  const response = await fetch(`${base}/api/v1/password-requests`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ document, channel: 'email' }),
  });
  await response.arrayBuffer();
  if (response.status !== 202) throw new Error(`answered ${response.status}`);
  return performance.now();
}

// One at a time: the wait of a member when the portal is quiet.
const sequential: number[] = [];
for (const document of documents.slice(0, REQUESTS)) {
  const answeredAt = await ask(document);
  await smtp.waitForCount(sequential.length + 1);
  sequential.push((smtp.messages.at(-1)?.receivedAt as number) - answeredAt);
}

// All at once: the wait when they arrive together.
const before = smtp.messages.length;
const answeredAt = new Map<string, number>();
await Promise.all(
  documents.slice(REQUESTS).map(async (document) => {
    answeredAt.set(`latencia${Number(document) - 6_000_000}@example.org`, await ask(document));
  }),
);
await smtp.waitForCount(before + REQUESTS, 30_000);
const burst = smtp.messages
  .slice(before)
  .map((message) => message.receivedAt - (answeredAt.get(message.envelope.to[0] ?? '') ?? NaN));

process.stdout.write(
  `SMTP delivery latency (HTTP 202 answer → SMTP server has the message), ${database.url ? 'PostgreSQL' : 'PGlite'}\n` +
    `${summary('  one at a time', sequential)}\n${summary('  all at once  ', burst)}\n`,
);

await dispatcher.stop();
await app.close();
await smtp.stop();
await sms.close();
await database.close();
