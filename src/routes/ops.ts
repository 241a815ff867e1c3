// Operations: liveness and readiness for load balancers and orchestrators,
// and metrics for Prometheus. With MANAGEMENT_PORT the metrics move to a
// listener of their own (src/management.ts) and the public port has none.
//
// On the public app they are neither pages nor API: each address is a
// context of its own beside the areas (registerOps), so a refused scrape and
// a method the address does not take answer the plain not-found page, without
// the pages' CSRF hooks, which own every other unknown address.
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import { sql } from 'kysely';
import { isSchemaCurrent } from '../db/migrate.ts';
import type { Database } from '../db/schema.ts';
import type { Metrics } from '../ops/metrics.ts';
import { useHtmlErrors } from '../plugins/errors.ts';

/** Liveness: the process answers. */
async function answerHealth() {
  return { status: 'ok' };
}

/** Readiness: the database answers and its schema is current. */
function answerReadiness(db: Database): RouteHandlerMethod {
  return async (request, reply) => {
    try {
      await sql`select 1`.execute(db);
      if (!(await isSchemaCurrent(db))) {
        return reply.code(503).send({ status: 'unavailable', reason: 'migrations pending' });
      }
      return { status: 'ok' };
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed');
      return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  };
}

/** The metrics for whoever `mayRead` admits; anyone else finds nothing here. */
function answerMetrics(
  metrics: Metrics,
  mayRead: (request: FastifyRequest) => boolean,
): RouteHandlerMethod {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (!mayRead(request)) return reply.callNotFound();
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  };
}

/** GET /healthz and /readyz, on `app` itself (the management listener). */
export function registerProbes(app: FastifyInstance, db: Database): void {
  app.get('/healthz', { schema: { hide: true } }, answerHealth);
  app.get('/readyz', { schema: { hide: true } }, answerReadiness(db));
}

/** GET /metrics, on `app` itself (the management listener). */
export function registerMetrics(
  app: FastifyInstance,
  metrics: Metrics,
  mayRead: (request: FastifyRequest) => boolean,
): void {
  app.get('/metrics', { schema: { hide: true } }, answerMetrics(metrics, mayRead));
}

/**
 * The public app's probes and metrics: each address a context of its own,
 * with the plain error and not-found pages. Without `metrics` (they are on
 * the management listener) /metrics has no route, and answers as a refused
 * scrape does.
 */
export async function registerOps(
  app: FastifyInstance,
  db: Database,
  metrics: { metrics: Metrics; mayRead: (request: FastifyRequest) => boolean } | null,
): Promise<void> {
  const endpoints: [string, RouteHandlerMethod | null][] = [
    ['/healthz', answerHealth],
    ['/readyz', answerReadiness(db)],
    ['/metrics', metrics ? answerMetrics(metrics.metrics, metrics.mayRead) : null],
  ];
  for (const [address, handler] of endpoints)
    await app.register(
      async (own) => {
        useHtmlErrors(own);
        if (handler) own.get('/', { schema: { hide: true } }, handler);
      },
      { prefix: address },
    );
}
