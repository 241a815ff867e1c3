// Static files: our CSS, JS and icons from public/, and the ALTCHA widget
// served from our own origin out of the `altcha` package. Neither pages nor
// API: a context of their own under /assets/, without the pages' CSRF hooks,
// whose errors and missing files answer the portal's error and not-found pages.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { useHtmlErrors } from '../plugins/errors.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

/** Paths relative to /assets/. */
const assetsPlugin: FastifyPluginAsync = async (assets) => {
  useHtmlErrors(assets);
  await assets.register(fastifyStatic, {
    root: join(root, 'public'),
    prefix: '/',
    maxAge: '1h',
    index: false,
    schemaHide: true,
  });

  // The package exports only its entry points; its dist/ folder is one level up from them.
  const altchaDist = join(dirname(require.resolve('altcha')), '..');
  // The "external" build, its stylesheet and its PBKDF2 worker (ADR 005), and its Spanish.
  const files: Record<string, Buffer> = {
    'altcha.min.js': readFileSync(join(altchaDist, 'external', 'altcha.min.js')),
    'altcha.css': readFileSync(join(altchaDist, 'external', 'altcha.css')),
    'pbkdf2.js': readFileSync(join(altchaDist, 'workers', 'pbkdf2.js')),
    'es-419.js': readFileSync(join(altchaDist, 'i18n', 'es-419.js')),
  };
  assets.get<{ Params: { file: string } }>(
    '/altcha/:file',
    { schema: { hide: true } },
    async (request, reply) => {
      const name = request.params.file;
      const body = files[name];
      if (!body) return reply.callNotFound();
      const type = name.endsWith('.css') ? 'text/css' : 'text/javascript';
      return reply
        .type(`${type}; charset=utf-8`)
        .header('cache-control', 'public, max-age=86400')
        .send(body);
    },
  );
};

/** The assets' context, at /assets/. */
export async function registerAssets(app: FastifyInstance): Promise<void> {
  await app.register(assetsPlugin, { prefix: '/assets/' });
}
