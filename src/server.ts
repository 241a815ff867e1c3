// The process: read the configuration, open and migrate the database,
// listen, run housekeeping, and shut down cleanly on SIGTERM / SIGINT.
import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import { buildApp } from './app.ts';
import { systemClock } from './auth/clock.ts';
import { PasswordHasher } from './auth/passwords.ts';
import { createCaptcha } from './captcha/create.ts';
import { loadConfig } from './config.ts';
import { DevMailboxChannel, forgetDevMailbox } from './courier/channels/dev-mailbox.ts';
import { SmsWebhookChannel } from './courier/channels/sms-webhook.ts';
import { SmtpChannel } from './courier/channels/smtp.ts';
import { Dispatcher } from './courier/dispatcher.ts';
import { connectDatabase } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { loadOrCreateDevSecret } from './dev-secret.ts';
import { RequestIntake } from './flows/recovery/intake.ts';
import { resumePasswordRequest } from './flows/recovery/service.ts';
import { buildManagementApp } from './management.ts';
import { assertNoDemoMember, DEMO_MEMBER, ensureDemoMember } from './members/demo.ts';
import { runHousekeeping } from './ops/housekeeping.ts';
import { createMetrics } from './ops/metrics.ts';
import { loggerOptions } from './plugins/logging.ts';
import { describeStartupError } from './startup-errors.ts';

const HOUSEKEEPING_INTERVAL_MS = 5 * 60_000;

async function main(): Promise<void> {
  const startedAt = performance.now();
  const config = loadConfig(process.env);
  const secret = config.appSecret ?? loadOrCreateDevSecret(config.dataDir);
  const db = await connectDatabase(
    config.database.kind === 'postgres' ? config.database : { kind: 'pglite', dir: config.dataDir },
  );
  await migrateToLatest(db);
  if (config.env === 'production') {
    await assertNoDemoMember(db);
    // Messages a development run kept in plain text do not survive into production.
    await forgetDevMailbox(db);
  }

  const clock = systemClock;
  const hasher = new PasswordHasher();
  const captcha = createCaptcha(config.captcha, { db, clock, secret, publicUrl: config.publicUrl });
  let dispatcher: Dispatcher | undefined;
  const courier = { wake: () => dispatcher?.wake() };
  const metrics = createMetrics({ db, clock, limits: config.limits, processMetrics: true });
  const app = await buildApp({ config, db, clock, hasher, captcha, secret, courier, metrics });
  dispatcher = new Dispatcher({
    db,
    clock,
    secret,
    channels: {
      email: config.smtpUrl
        ? new SmtpChannel(config.smtpUrl, config.mailFrom)
        : new DevMailboxChannel(db, clock),
      sms: config.smsWebhookUrl
        ? new SmsWebhookChannel(config.smsWebhookUrl)
        : new DevMailboxChannel(db, clock),
    },
    log: app.log,
    retryDelaysMs: config.outboxRetryDelaysMs,
    metrics,
  });

  const demoCreated = config.demoMember ? await ensureDemoMember(db, hasher, clock) : false;
  const address = await app.listen({ port: config.port, host: config.host });
  const management = config.management
    ? await buildManagementApp({ config, db, metrics }, loggerOptions(config.logLevel))
    : undefined;
  const managementAddress = config.management
    ? await management?.listen({ port: config.management.port, host: config.management.host })
    : undefined;
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  app.log.info({ address, database: config.database.kind, seconds }, 'Autogestión is listening');

  const lines = [
    ``,
    `  Autogestión — Portal del Socio: ${config.publicUrl}  (listening on ${address}, ready in ${seconds} s)`,
  ];
  if (config.database.kind === 'pglite')
    lines.push(`  Database: embedded PGlite in ${config.dataDir}`);
  if (config.demoMember) {
    lines.push(
      `  Demo member${demoCreated ? ' (created now)' : ''}: document ${DEMO_MEMBER.document}, password ${DEMO_MEMBER.password}`,
    );
  }
  if (config.productionBecause === 'https PUBLIC_URL')
    lines.push('  Production rules apply: PUBLIC_URL is https (NODE_ENV is unset)');
  if (managementAddress)
    lines.push(`  Metrics and probes (management listener): ${managementAddress}/metrics`);
  if (config.devMailboxChannels.length > 0)
    lines.push(
      `  Dev mailbox (${config.devMailboxChannels.map((c) => (c === 'sms' ? 'SMS' : c)).join(' and ')} kept instead of sent; this machine only): ${config.publicUrl}/dev/mailbox`,
    );
  process.stdout.write(`${lines.join('\n')}\n\n`);
  dispatcher.start();
  // Password requests an instance accepted and died before doing: taken over
  // here once their lease is over (ADR 011).
  const intake = new RequestIntake(app.parts.flow, resumePasswordRequest, { log: app.log });
  intake.start();

  const housekeeping = setInterval(() => {
    void (async () => {
      try {
        await runHousekeeping(db, clock, { auditRetentionDays: config.auditRetentionDays });
      } catch (error) {
        app.log.warn({ err: error }, 'housekeeping failed');
      }
    })();
  }, HOUSEKEEPING_INTERVAL_MS);
  housekeeping.unref();

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down');
    clearInterval(housekeeping);
    const force = setTimeout(() => {
      app.log.error({ graceMs: config.shutdownGraceMs }, 'shutdown grace period over; exiting');
      process.exit(1);
    }, config.shutdownGraceMs);
    force.unref();
    // The courier finishes the deliveries in hand and claims no more: the
    // outbox is shared, what is due is for the other instances (or the next
    // start), and a backlog must not hold the stop past its grace.
    const courierStopped = dispatcher?.stop();
    // Takes over no more requests; what it handed off, the app's close finishes.
    await intake.stop();
    // Behind a proxy, first stop taking connections while the open ones are
    // still served (drainConnections); half the grace at most, the other
    // half is for what follows.
    await drainConnections(app.server, config.shutdownGraceMs / 2);
    // Closing the app finishes the requests it accepted (and the work they
    // handed off, which may queue messages for the outbox).
    await app.close();
    await management?.close();
    await courierStopped;
    await db.destroy();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

/**
 * The first step of a graceful stop: no new connections (a proxy's next
 * connection is refused, and it tries another instance: nothing was sent,
 * so even a POST is retried safely), while requests on connections already
 * open are served as usual, each answer saying "Connection: close" so the
 * proxy stops using that connection. Idle keep-alive connections are left
 * for the proxy to close (nginx's upstream keepalive_timeout in
 * deploy/nginx/autogestion.conf): closed from this side, the proxy may be
 * sending a request on one at that very moment, and it does not resend a
 * POST (a login, a password request) that it sent once; and Fastify's own
 * close answers 503 to what arrives on them. Resolves when every
 * connection is gone or after `waitMs`, then closes the idle ones left.
 */
async function drainConnections(server: Server, waitMs: number): Promise<void> {
  server.prependListener('request', (_request, response) => {
    if (!response.headersSent) response.setHeader('connection', 'close');
  });
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    // net.Server's close, not http.Server's: that one also closes every
    // idle keep-alive connection at once.
    NetServer.prototype.close.call(server, () => {
      clearTimeout(timer);
      resolve();
    });
  });
  server.closeIdleConnections();
}

main().catch((error: unknown) => {
  process.stderr.write(`\nAutogestión cannot start: ${describeStartupError(error)}\n\n`);
  process.exit(1);
});
