// The JSON API, as one encapsulated Fastify context under /api/ with hooks
// of its own. Everything registered here, and every unknown address under
// /api/, gets:
//   - JSON only: a body of any other type is 415 UNSUPPORTED_MEDIA_TYPE, before
//     any parser sees it (the pages' form parser is not for the API);
//   - errors and the not-found answer in the API's JSON shape;
//   - the guard its routes declare: `requireApiMember` (a bearer token of a
//     live API session, or 401 UNAUTHENTICATED).
// Version 1's routes sit in a context of their own under /api/v1, with paths
// relative to it ('/login'); the OpenAPI document stays at /api/openapi.json.
// No CSRF here: bearer tokens, JSON bodies only, no ambient credentials.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { AppParts } from '../deps.ts';
import { FlowError } from '../flows/errors.ts';
import { useJsonErrors } from '../plugins/errors.ts';
import { registerApiGuard } from '../plugins/session.ts';
import { registerLoginApi } from './api/v1/login.ts';
import { registerMeApi } from './api/v1/me.ts';
import { registerPasskeysApi } from './api/v1/passkeys.ts';
import { registerRecoveryApi } from './api/v1/recovery.ts';

/** Register with `{ prefix: '/api/', deps }`. */
export const apiPlugin: FastifyPluginAsync<{ deps: AppParts }> = async (api, { deps }) => {
  api.addHook('onRequest', async (request) => refuseOtherThanJson(request));
  useJsonErrors(api);
  registerApiGuard(api, deps);

  api.get('/openapi.json', { schema: { hide: true } }, async () => api.swagger());
  await api.register(
    async (v1) => {
      registerLoginApi(v1, deps);
      registerRecoveryApi(v1, deps);
      registerMeApi(v1, deps);
      registerPasskeysApi(v1, deps);
    },
    { prefix: '/v1' },
  );
};

const JSON_MEDIA_TYPE = /^application\/json\s*(?:;|$)/i;

/** The API speaks JSON only: a request body of another type (a form, plain text) is refused. */
function refuseOtherThanJson(request: FastifyRequest): void {
  if (!hasBody(request)) return;
  if (!JSON_MEDIA_TYPE.test(request.headers['content-type'] ?? ''))
    throw new FlowError('UNSUPPORTED_MEDIA_TYPE');
}

/** A request that carries a body (a declared length above zero, or a chunked one). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (
    (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined
  );
}
