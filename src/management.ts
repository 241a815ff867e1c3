// The management listener (MANAGEMENT_PORT, bound to MANAGEMENT_HOST,
// loopback by default), as Keycloak keeps its metrics and health on port
// 9000: /metrics, /healthz and /readyz only, out of the proxy's reach. The
// public port then serves no /metrics at all (ADR 015).
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.ts';
import type { Database } from './db/schema.ts';
import { type Metrics, metricsAccess } from './ops/metrics.ts';
import { requestIdOptions, sendRequestId } from './plugins/logging.ts';
import { registerMetrics, registerProbes } from './routes/ops.ts';

export async function buildManagementApp(
  parts: {
    config: Pick<Config, 'metricsToken'> & Partial<Pick<Config, 'trustedProxies'>>;
    db: Database;
    metrics: Metrics;
  },
  logger: FastifyServerOptions['logger'] = false,
): Promise<FastifyInstance> {
  // Request ids as on the public port: a scraper rarely sends one, but the
  // answer and the log lines of a failed probe name theirs.
  const app = Fastify({ logger, ...requestIdOptions(parts.config.trustedProxies ?? []) });
  app.addHook('onSend', sendRequestId);
  registerProbes(app, parts.db);
  // Whoever reaches this listener is the operator's (it is bound to loopback
  // or a management network); METRICS_TOKEN, when set, is asked here too.
  const token = parts.config.metricsToken;
  registerMetrics(app, parts.metrics, token ? metricsAccess({ metricsToken: token }) : () => true);
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ status: 'not found' }));
  return app;
}
