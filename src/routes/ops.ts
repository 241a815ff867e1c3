// Operations: liveness and readiness for load balancers and orchestrators,
// and metrics for Prometheus. With MANAGEMENT_PORT the metrics move to a
// listener of their own (src/management.ts) and the public port has none.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { isSchemaCurrent } from '../db/migrate.ts';
import type { Database } from '../db/schema.ts';
import type { Metrics } from '../ops/metrics.ts';

export function registerProbes(app: FastifyInstance, db: Database): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
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
  });
}

/** GET /metrics for whoever `mayRead` admits; anyone else finds nothing here. */
export function registerMetrics(
  app: FastifyInstance,
  metrics: Metrics,
  mayRead: (request: FastifyRequest) => boolean,
): void {
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!mayRead(request)) return reply.callNotFound();
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
