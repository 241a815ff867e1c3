// The one error handler and the one not-found handler. A FlowError keeps
// its code and Spanish message; Fastify's own errors (bad JSON, big bodies,
// schema failures) become the same shape; anything else is a logged 500
// whose details never reach the member.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FlowError } from '../flows/errors.ts';
import { CHANGE_PASSWORD_PATH } from '../flows/recovery/service.ts';
import { type ErrorCode, errors } from '../messages/es.ts';
import { errorPage } from '../views/pages/error.ts';
import { RECOVERY_PATHS } from '../views/pages/recovery.ts';

/**
 * Whether the request is for the JSON API: by the route it matched (so
 * `/%61pi/v1/login`, which routes to the API, is the API too), or by its
 * decoded path when no route matched.
 */
export function isApiRequest(request: FastifyRequest): boolean {
  return requestPath(request).startsWith('/api/');
}

/** The matched route's path, or the decoded path of the address. */
export function requestPath(request: FastifyRequest): string {
  const route = request.routeOptions?.url;
  if (route) return route;
  const path = request.url.split('?')[0] ?? '/';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/**
 * The portal's own forms: each route a form is shown or posted on, to the
 * page that shows that form. The only source of the "open the form again"
 * link: a link built from the address asked for could point anywhere
 * (`//evil.example/ingresar`, `/\\evil.example/…`).
 */
const FORM_PAGES: ReadonlyMap<string, string> = new Map([
  ['/', '/'],
  ['/ingresar', '/'],
  ['/inicio', '/inicio'],
  ['/salir', '/inicio'],
  [CHANGE_PASSWORD_PATH, CHANGE_PASSWORD_PATH],
  ...Object.values(RECOVERY_PATHS).flatMap((base): [string, string][] => [
    [base, base],
    [`${base}/codigo`, base],
  ]),
]);

/**
 * Where a member gets the form of a refused post again, by the route the
 * request matched (`request.routeOptions.url`), never by its address; any
 * other route, or none, gets the login page.
 */
export function formPageFor(route: string | undefined): string {
  return (route !== undefined && FORM_PAGES.get(route)) || '/';
}

/** Headers an error brings along (Retry-After on 429 and 503). */
export function applyErrorHeaders(reply: FastifyReply, error: FlowError): FastifyReply {
  if (error.retryAfterSeconds !== undefined)
    reply.header('retry-after', String(error.retryAfterSeconds));
  return reply;
}

export function sendApiError(reply: FastifyReply, error: FlowError): FastifyReply {
  applyErrorHeaders(reply, error);
  return reply.code(error.status).send({
    error: { code: error.code, message: error.message, fields: error.fields },
  });
}

export function toFlowError(error: unknown): FlowError | null {
  if (error instanceof FlowError) return error;
  const e = error as Partial<FastifyError> & { validation?: unknown[] };
  if (e.validation) return validationError(e as FastifyError);
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new FlowError('MALFORMED_BODY', 400);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FlowError('BODY_TOO_LARGE', 413);
    case 'FST_CSRF_MISSING_SECRET':
    case 'FST_CSRF_INVALID_TOKEN':
      return new FlowError('FORM_EXPIRED', 403);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new FlowError('UNSUPPORTED_MEDIA_TYPE', 415);
  }
  if (error instanceof SyntaxError) return new FlowError('MALFORMED_BODY', 400);
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code: ErrorCode =
      status === 413
        ? 'BODY_TOO_LARGE'
        : status === 415
          ? 'UNSUPPORTED_MEDIA_TYPE'
          : status === 404
            ? 'NOT_FOUND'
            : status === 405
              ? 'METHOD_NOT_ALLOWED'
              : 'MALFORMED_BODY';
    return new FlowError(code, status);
  }
  return null;
}

function validationError(error: FastifyError): FlowError {
  const fields: Record<string, string> = {};
  for (const issue of error.validation ?? []) {
    const params = issue.params as { missingProperty?: string; additionalProperty?: string };
    const path = issue.instancePath.replace(/^\//, '').replace(/\//g, '.');
    if (params.missingProperty)
      fields[path ? `${path}.${params.missingProperty}` : params.missingProperty] =
        errors.FIELD_REQUIRED;
    else if (params.additionalProperty) fields[params.additionalProperty] = errors.FIELD_INVALID;
    else fields[path || 'body'] = errors.FIELD_INVALID;
  }
  return new FlowError('VALIDATION_FAILED', 400, fields);
}

/** A request that carries a body (a declared length above zero, or a chunked one). */
function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (
    (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined
  );
}

const JSON_MEDIA_TYPE = /^application\/json\s*(?:;|$)/i;

export function registerErrorHandlers(app: FastifyInstance): void {
  // The API speaks JSON only: a body of any other type (a form, plain text)
  // is 415 in the API's error shape, before any parser sees it. The pages'
  // form parser stays for the HTML routes.
  app.addHook('onRequest', async (request) => {
    if (!isApiRequest(request) || !hasBody(request)) return;
    if (!JSON_MEDIA_TYPE.test(request.headers['content-type'] ?? ''))
      throw new FlowError('UNSUPPORTED_MEDIA_TYPE', 415);
  });

  app.setErrorHandler((error, request, reply) => {
    const flowError = toFlowError(error);
    if (!flowError) {
      request.log.error({ err: error }, 'request failed');
    }
    const known = flowError ?? new FlowError('INTERNAL', 500);
    if (isApiRequest(request)) return sendApiError(reply, known);
    // A page says when to try again too (429, 503), as the API does.
    return applyErrorHeaders(reply, known)
      .code(known.status)
      .type('text/html; charset=utf-8')
      .send(
        errorPage(
          known.status === 404 ? 'not-found' : 'error',
          flowError ? known.message : undefined,
          known.status === 403 ? formPageFor(request.routeOptions?.url) : undefined,
        ),
      );
  });

  app.setNotFoundHandler(sendNotFound);
}

function sendNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = new FlowError('NOT_FOUND', 404);
  if (isApiRequest(request)) return sendApiError(reply, error);
  return reply.code(404).type('text/html; charset=utf-8').send(errorPage('not-found'));
}

/**
 * Fastify's `frameworkErrors` option: errors raised before routing (a URL
 * that is not valid percent-encoding, FST_ERR_BAD_URL), which never reach
 * setErrorHandler and would otherwise answer Fastify's English JSON. Such an
 * address cannot exist: the same 404 as any unknown address.
 */
export function handleFrameworkError(
  _error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  sendNotFound(request, reply);
}
