// buildApp(deps): registers plugins and routes in a fixed order (external,
// then application hooks, then the areas of the site). It never listens:
// server.ts does, and tests drive it with app.inject.
//
// The areas, each an encapsulated context with its own hooks, error shape
// and not-found answer (no path decides which is which):
//   /api/     the JSON API (src/routes/api.ts): JSON only, JSON errors, bearer guard;
//   /assets/  static files (src/routes/assets.ts): no CSRF, error pages;
//   the rest  the pages (src/routes/pages.ts): CSRF, error pages, session guards,
//             and the not-found page for every address no other area has.
//   /healthz, /readyz, /metrics  operations (src/routes/ops.ts): neither pages
//             nor API, no CSRF, each address a small context of its own.
import fastifyCompress from '@fastify/compress';
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { type AppDeps, type AppParts, createFlowDeps } from './deps.ts';
import { createBackground } from './flows/background.ts';
import { createMetrics, metricsAccess } from './ops/metrics.ts';
import { handleFrameworkError, sendErrorPage } from './plugins/errors.ts';
import { warnAboutUntrustedProxy } from './plugins/local-client.ts';
import {
  AccessLogController,
  loggerOptions,
  REQUEST_ID_HEADER,
  requestIdOptions,
  sendRequestId,
} from './plugins/logging.ts';
import { errorSchema, memberSchema } from './routes/api/v1/schemas.ts';
import { apiPlugin } from './routes/api.ts';
import { registerAssets } from './routes/assets.ts';
import { registerOps } from './routes/ops.ts';
import { pagesPlugin } from './routes/pages.ts';
import { registerWellKnown } from './routes/well-known.ts';
import { loadSite, SERVICE_WORKER_PATH } from './site/site.ts';

export const BODY_LIMIT_BYTES = 16 * 1024;

declare module 'fastify' {
  interface FastifyInstance {
    /** The parts the app was built with, completed (background, metrics, what flows get). */
    parts: AppParts;
  }
}

export interface BuildOptions {
  /** Fastify logger options; false for silence. */
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(
  given: AppDeps,
  options: BuildOptions = {},
): Promise<FastifyInstance> {
  const { config } = given;
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config.logLevel),
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
    routerOptions: { ignoreTrailingSlash: true },
    // Raised before routing, where no hook runs: the answer names its request here.
    frameworkErrors: (error, request, reply) => {
      reply.header(REQUEST_ID_HEADER, request.id);
      handleFrameworkError(error, request, reply);
    },
    logController: new AccessLogController(),
    // request.id: a trusted proxy's X-Request-Id, else a new one (logging.ts).
    ...requestIdOptions(config.trustedProxies),
  });

  // The parts, completed once; what it was given is left as it was.
  // Flows raise their operator alerts through the app's logger unless told otherwise.
  const log = given.log ?? app.log;
  const background = given.background ?? createBackground(log, config.backgroundQueueLimit);
  const metrics =
    given.metrics ?? createMetrics({ db: given.db, clock: given.clock, limits: config.limits });
  const site = given.site ?? (await loadSite(config.brand));
  const completed = {
    ...given,
    // Every password check of the app is timed for the metrics.
    hasher: given.hasher.observed((seconds) => metrics.observePasswordVerify(seconds)),
    site,
    log,
    background,
    metrics,
    courier: given.courier ?? { wake: () => {} },
  };
  const deps: AppParts = { ...completed, flow: createFlowDeps(completed) };
  app.decorate('parts', deps);
  // Closing (a graceful stop, or a test's end) finishes the work already accepted.
  app.addHook('onClose', async () => background.idle());
  metrics.watchBackground(background);

  // External plugins.
  const hostedOrigins = deps.captcha.widget.cspOrigins;
  const hosted = hostedOrigins.length > 0;
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...hostedOrigins],
        // ALTCHA (the default) needs no inline style; the hosted widgets inject theirs.
        styleSrc: hosted ? ["'self'", "'unsafe-inline'", ...hostedOrigins] : ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", ...hostedOrigins],
        frameSrc: hosted ? hostedOrigins : ["'none'"],
        workerSrc: hosted ? ["'self'", 'blob:'] : ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    hsts: config.secureCookies ? { maxAge: 31536000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
  });
  // Pages and API answers compressed as they go out (brotli, else gzip) once
  // over 1 KB; the files under /assets/ were compressed at start and say so
  // (content-encoding), which this plugin leaves alone. Request bodies are
  // never decompressed (ADR 022).
  await app.register(fastifyCompress, {
    globalCompression: true,
    globalDecompression: false,
    encodings: ['br', 'gzip'],
    threshold: 1024,
  });
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT_BYTES });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Autogestión API',
        version: '1.0.0',
        description:
          'JSON API of the member portal for the mobile app. Errors answer {"error": {"code", "message", "fields"}} with Spanish messages.',
      },
      servers: [{ url: config.publicUrl }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
      },
    },
    hideUntagged: true,
  });
  app.addSchema(errorSchema);
  app.addSchema(memberSchema);

  // Application hooks, for every area (added before the areas, which inherit them).
  const proxyWarning = warnAboutUntrustedProxy(config.trustedProxies, app.log);
  app.addHook('onRequest', async (request) => proxyWarning(request));
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeResponse(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      reply.statusCode,
    );
  });
  // Every answer names its request, errors and not-found answers included.
  app.addHook('onSend', sendRequestId);
  app.addHook('onSend', async (request, reply) => {
    // Pages and API answers are never stored; the files set their own
    // (routes/assets.ts, routes/well-known.ts).
    if (
      !request.url.startsWith('/assets/') &&
      !request.url.startsWith('/.well-known/') &&
      request.url !== SERVICE_WORKER_PATH
    )
      reply.header('cache-control', 'no-store');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  });

  // Anything on the root itself fails as every address outside the API
  // does: with the error page. Each area below sets its own.
  app.setErrorHandler(sendErrorPage);

  // The areas. Probes and metrics: with a management listener, metrics live
  // there only (src/management.ts).
  await registerOps(
    app,
    deps.db,
    config.management ? null : { metrics, mayRead: metricsAccess(config) },
  );
  await registerAssets(app, site);
  registerWellKnown(app, config.passkeys);
  await app.register(pagesPlugin, { prefix: '', deps });
  await app.register(apiPlugin, { prefix: '/api/', deps });

  return app;
}
