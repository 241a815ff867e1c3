// buildApp(deps): registers plugins and routes in a fixed order (external,
// then application decorators, then routes). It never listens: server.ts
// does, and tests drive it with app.inject.
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { type AppDeps, type AppParts, createFlowDeps } from './deps.ts';
import { createBackground } from './flows/background.ts';
import { createMetrics, metricsAccess } from './ops/metrics.ts';
import { registerCsrf } from './plugins/csrf.ts';
import { handleFrameworkError, registerErrorHandlers } from './plugins/errors.ts';
import { warnAboutUntrustedProxy } from './plugins/local-client.ts';
import { loggerOptions } from './plugins/logging.ts';
import { registerSession } from './plugins/session.ts';
import { registerLoginApi } from './routes/api/v1/login.ts';
import { registerRecoveryApi } from './routes/api/v1/recovery.ts';
import { errorSchema, memberSchema } from './routes/api/v1/schemas.ts';
import { registerAssets } from './routes/assets.ts';
import { registerMetrics, registerProbes } from './routes/ops.ts';
import { registerDevMailbox } from './routes/web/dev-mailbox.ts';
import { registerLoginPages } from './routes/web/login.ts';
import { registerRecoveryPages } from './routes/web/recovery.ts';

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
    frameworkErrors: handleFrameworkError,
  });

  // The parts, completed once; what it was given is left as it was.
  // Flows raise their operator alerts through the app's logger unless told otherwise.
  const log = given.log ?? app.log;
  const background = given.background ?? createBackground(log, config.backgroundQueueLimit);
  const metrics =
    given.metrics ?? createMetrics({ db: given.db, clock: given.clock, limits: config.limits });
  const completed = {
    ...given,
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

  // Application decorators and hooks.
  registerErrorHandlers(app);
  const proxyWarning = warnAboutUntrustedProxy(config.trustedProxies, app.log);
  app.addHook('onRequest', async (request) => proxyWarning(request));
  registerSession(app, deps);
  await registerCsrf(app, deps);
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeResponse(
      request.routeOptions.url ?? 'unmatched',
      request.method,
      reply.statusCode,
    );
  });
  app.addHook('onSend', async (request, reply) => {
    if (!request.url.startsWith('/assets/')) reply.header('cache-control', 'no-store');
    reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
  });

  // Routes.
  await registerAssets(app);
  registerProbes(app, deps.db);
  // With a management listener, metrics live there only (src/management.ts).
  if (!config.management) registerMetrics(app, metrics, metricsAccess(config));
  registerLoginPages(app, deps);
  registerLoginApi(app, deps);
  registerRecoveryPages(app, deps);
  registerRecoveryApi(app, deps);
  if (config.devMailbox && config.env !== 'production') registerDevMailbox(app, deps);
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app;
}
