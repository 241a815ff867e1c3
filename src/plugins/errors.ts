// The one error handler and the one not-found handler. A FlowError keeps
// its code and Spanish message, and answers with its code's status
// (error-statuses.ts); Fastify's own errors (bad JSON, big bodies, schema
// failures) become codes too; anything else is a logged 500 whose details
// never reach the member.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FlowError, invalidFields } from '../flows/errors.ts';
import { CHANGE_PASSWORD_PATH } from '../flows/recovery/service.ts';
import { type ErrorCode, errors } from '../messages/es.ts';
import { errorPage } from '../views/pages/error.ts';
import { RECOVERY_PATHS } from '../views/pages/recovery.ts';
import { statusOf } from './error-statuses.ts';

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

/** The API's error shape, with the status given (by default the code's). */
export function sendApiError(
  reply: FastifyReply,
  error: FlowError,
  status = statusOf(error),
): FastifyReply {
  applyErrorHeaders(reply, error);
  return reply.code(status).send({
    error: { code: error.code, message: error.message, fields: error.fields },
  });
}

/** A caught error as the edge answers it: the FlowError shown and the status sent. */
export interface ErrorAnswer {
  readonly error: FlowError;
  readonly status: number;
}

/**
 * How the edge answers whatever was thrown: a FlowError, or one of Fastify's
 * errors mapped to a code, with its code's status; another plugin's 4xx
 * refusal (refusalAnswer); null for anything else (a logged 500).
 */
export function toErrorAnswer(error: unknown): ErrorAnswer | null {
  const flowError = toFlowError(error);
  if (flowError) return { error: flowError, status: statusOf(flowError) };
  return refusalAnswer(error);
}

/** A FlowError as it is, or Fastify's own errors (parsers, schemas, CSRF) as codes. */
export function toFlowError(error: unknown): FlowError | null {
  if (error instanceof FlowError) return error;
  const e = error as Partial<FastifyError> & { validation?: unknown[] };
  if (e.validation) return validationError(e as FastifyError);
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new FlowError('MALFORMED_BODY');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new FlowError('BODY_TOO_LARGE');
    case 'FST_CSRF_MISSING_SECRET':
    case 'FST_CSRF_INVALID_TOKEN':
      return new FlowError('FORM_EXPIRED');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new FlowError('UNSUPPORTED_MEDIA_TYPE');
  }
  if (error instanceof SyntaxError) return new FlowError('MALFORMED_BODY');
  return null;
}

/** The answer to an unexpected error: INTERNAL, and nothing of what went wrong. */
function internalAnswer(): ErrorAnswer {
  const error = new FlowError('INTERNAL');
  return { error, status: statusOf(error) };
}

/**
 * Any other 4xx a plugin raised (a 404 or 405 from routing, @fastify/static's
 * 403 for a path outside its folder, 412 for a failed If-Match, 416 for a
 * range past the end): the nearest code, and the status that plugin chose —
 * the code's own status for 404, 405, 413 and 415; for the rest, which the
 * catalogue has no code for, MALFORMED_BODY keeps the plugin's 4xx.
 */
function refusalAnswer(error: unknown): ErrorAnswer | null {
  const status = (error as Partial<FastifyError> | null)?.statusCode;
  if (typeof status !== 'number' || status < 400 || status >= 500) return null;
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
  return { error: new FlowError(code), status };
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
  return invalidFields(fields);
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
      throw new FlowError('UNSUPPORTED_MEDIA_TYPE');
  });

  app.setErrorHandler((error, request, reply) => {
    const answer = toErrorAnswer(error);
    if (!answer) {
      request.log.error({ err: error }, 'request failed');
    }
    const { error: known, status } = answer ?? internalAnswer();
    if (isApiRequest(request)) return sendApiError(reply, known, status);
    // A page says when to try again too (429, 503), as the API does.
    return applyErrorHeaders(reply, known)
      .code(status)
      .type('text/html; charset=utf-8')
      .send(
        errorPage(
          status === 404 ? 'not-found' : 'error',
          answer ? known.message : undefined,
          status === 403 ? formPageFor(request.routeOptions?.url) : undefined,
        ),
      );
  });

  app.setNotFoundHandler(sendNotFound);
}

function sendNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = new FlowError('NOT_FOUND');
  if (isApiRequest(request)) return sendApiError(reply, error);
  return reply.code(statusOf(error)).type('text/html; charset=utf-8').send(errorPage('not-found'));
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
