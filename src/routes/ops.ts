// Operations: liveness and readiness for load balancers and orchestrators,
// and metrics for Prometheus.

import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { isSchemaCurrent } from '../db/migrate.ts';
import type { AppDeps } from '../deps.ts';
import { type Metrics, metricsAccess } from '../ops/metrics.ts';

export function registerOps(app: FastifyInstance, deps: AppDeps, metrics: Metrics): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    try {
      await sql`select 1`.execute(deps.db);
      if (!(await isSchemaCurrent(deps.db))) {
        return reply.code(503).send({ status: 'unavailable', reason: 'migrations pending' });
      }
      return { status: 'ok' };
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed');
      return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });

  // A scraper that may not read the metrics finds nothing here.
  const mayRead = metricsAccess(deps.config);
  app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    if (!mayRead(request.socket.remoteAddress, request.headers.authorization))
      return reply.callNotFound();
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
