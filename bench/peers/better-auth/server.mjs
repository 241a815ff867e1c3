// Better Auth peer for `npm run bench`: a plain Better Auth server set up as
// close to Autogestión as its options allow (same argon2id, same pool size,
// pooled SMTP, rate limiter off) so the comparison measures the frameworks.
//
// Environment:
//   PORT          port to listen on (127.0.0.1)
//   DATABASE_URL  a PostgreSQL database reserved for this peer
//   SMTP_PORT     an SMTP sink on 127.0.0.1 (no auth, no TLS)
// Routes: Better Auth under /api/auth/*, and GET /bench/stats.
// Stdout: exactly one line, `ready <port>`, once listening.
import http from 'node:http';
import { hash, verify } from '@node-rs/argon2';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import nodemailer from 'nodemailer';
import pg from 'pg';

/** @node-rs/argon2's Algorithm.Argon2id (a const enum, which isolated modules cannot import). */
const ARGON2ID = 2;

/** The product's parameters (src/auth/passwords.ts): OWASP's argon2id minimum. */
const ARGON2_OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Fixed on purpose: a benchmark peer, never a deployment. */
const SECRET = 'bench-peer-better-auth-secret-0123456789abcdef';

/** Reads a required environment variable or stops with a clear message. */
function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`${name} is required\n`);
    process.exit(2);
  }
  return value;
}

const port = Number(requireEnv('PORT'));
const databaseUrl = requireEnv('DATABASE_URL');
const smtpPort = Number(requireEnv('SMTP_PORT'));
const baseURL = `http://127.0.0.1:${port}`;

/** Mail counters, read by GET /bench/stats so the bench can wait for the queue to drain. */
const mailStats = { inFlight: 0, sent: 0, failed: 0 };

// Pooled like the product's SmtpChannel (nodemailer's default 5 connections).
const mailer = nodemailer.createTransport({
  host: '127.0.0.1',
  port: smtpPort,
  secure: false,
  ignoreTLS: true,
  pool: true,
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 20_000,
});

/** Sends one reset mail in the background, counting it while in flight. */
function sendResetMail(user, url) {
  mailStats.inFlight++;
  mailer
    .sendMail({
      from: 'Bench <no-reply@bench.invalid>',
      to: user.email,
      subject: 'Restablecer tu contraseña',
      text: `Hola ${user.name}, para elegir una contraseña nueva abrí este enlace: ${url}`,
      html: `<p>Hola ${user.name}, para elegir una contraseña nueva abrí <a href="${url}">este enlace</a>.</p>`,
    })
    .then(
      () => {
        mailStats.sent++;
      },
      (error) => {
        mailStats.failed++;
        process.stderr.write(`reset mail failed: ${error.message}\n`);
      },
    )
    .finally(() => {
      mailStats.inFlight--;
    });
}

// Sized like the product's pool (src/db/connect.ts).
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });

/** Better Auth's options; also given to getMigrations so the schema matches. */
const authOptions = {
  baseURL,
  secret: SECRET,
  database: pool,
  // Better Auth refuses a POST whose Origin (when sent, or when Sec-Fetch-*
  // headers or a cookie force the check) is not trusted; its own baseURL is.
  trustedOrigins: [baseURL, `http://localhost:${port}`],
  // The product applies its own limits; measuring throughput needs neither side's limiter.
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
  // Everything Better Auth logs goes to stderr; stdout carries only `ready <port>`.
  logger: {
    level: 'error',
    log: (level, message, ...args) => {
      process.stderr.write(`[better-auth] ${level} ${message} ${args.map(String).join(' ')}\n`);
    },
  },
  emailAndPassword: {
    enabled: true,
    password: {
      hash: (password) => hash(password, ARGON2_OPTIONS),
      // The parameters come from the PHC string, so hashes made elsewhere verify too.
      verify: async ({ hash: stored, password }) => {
        try {
          return await verify(stored, password);
        } catch {
          return false;
        }
      },
    },
    // Not awaited, as Better Auth's docs advise (response time must not tell
    // whether the address exists); the returned promise resolves at once.
    sendResetPassword: async ({ user, url }) => {
      sendResetMail(user, url);
    },
  },
};

const auth = betterAuth(authOptions);
const authHandler = toNodeHandler(auth);

/** Answers GET /bench/stats; everything else goes to Better Auth. */
function handle(request, response) {
  if (request.method === 'GET' && request.url === '/bench/stats') {
    const body = JSON.stringify({
      mailsInFlight: mailStats.inFlight,
      mailsSent: mailStats.sent,
      mailsFailed: mailStats.failed,
      rssBytes: process.memoryUsage.rss(),
    });
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(body);
    return;
  }
  authHandler(request, response).catch((error) => {
    process.stderr.write(`handler error: ${error?.stack ?? error}\n`);
    if (!response.headersSent) response.writeHead(500);
    response.end();
  });
}

/** Creates Better Auth's tables (user, session, account, verification) when missing. */
async function migrate() {
  const { runMigrations } = await getMigrations(authOptions);
  await runMigrations();
}

await migrate();
const server = http.createServer(handle);
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`ready ${port}\n`);
});

/** Stops accepting, gives requests a moment to finish, closes the mail and database pools. */
async function shutdown() {
  const closed = new Promise((resolve) => server.close(resolve));
  server.closeIdleConnections();
  const grace = setTimeout(() => server.closeAllConnections(), 2_000);
  await closed;
  clearTimeout(grace);
  mailer.close();
  await pool.end();
  process.exit(0);
}

process.once('SIGTERM', () => {
  shutdown().catch(() => process.exit(1));
});
process.once('SIGINT', () => {
  shutdown().catch(() => process.exit(1));
});
