// The two error shapes and the not-found answers. A FlowError keeps its code
// and Spanish message, and answers with its code's status (error-statuses.ts);
// Fastify's own errors (bad JSON, big bodies, schema failures) become codes
// too; anything else is a logged 500 whose details never reach the member.
// Each area of the site installs its shape in its own encapsulated context:
// the API (src/routes/api.ts) answers JSON, the pages (src/routes/pages.ts)
// and the assets answer the portal's error page. No path decides it.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isConnectionLost } from '../db/reconnect.ts';
import { serviceBusyError } from '../flows/background.ts';
import { FlowError, invalidFields } from '../flows/errors.ts';
import { ACTIVATION_CODE_PATH } from '../flows/recovery/activation.ts';
import { CHANGE_PASSWORD_PATH } from '../flows/recovery/service.ts';
import { type ErrorCode, errors } from '../messages/es.ts';
import { ACCOUNT_PATHS } from '../views/pages/account.ts';
import { errorPage } from '../views/pages/error.ts';
import { RECOVERY_PATHS } from '../views/pages/recovery.ts';
import { statusOf } from './error-statuses.ts';

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
  // «Llaves de acceso» (src/routes/web/account.ts): the list, its rename and remove forms.
  ...['', '/renombrar', '/eliminar'].map((form): [string, string] => [
    `${ACCOUNT_PATHS.passkeys}${form}`,
    ACCOUNT_PATHS.passkeys,
  ]),
  [CHANGE_PASSWORD_PATH, CHANGE_PASSWORD_PATH],
  // The branch desk (src/routes/web/desk.ts).
  ['/mesa/ingresar', '/mesa/ingresar'],
  ['/mesa/alta', '/mesa/alta'],
  ['/mesa/salir', '/mesa'],
  // The member search, a member's card and its actions: back to the desk.
  ['/mesa/socios', '/mesa'],
  ...[
    '',
    '/identidad',
    '/enviar',
    '/codigo',
    '/desbloquear',
    '/contacto',
    '/llaves',
    '/historial',
  ].map((action): [string, string] => [`/mesa/socios/:id${action}`, '/mesa']),
  [ACTIVATION_CODE_PATH, ACTIVATION_CODE_PATH],
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

/**
 * What the edge answers for whatever was thrown, and whether it was expected
 * (a code, or a refusal); anything unexpected is logged and answers INTERNAL.
 */
function answerFor(error: unknown, request: FastifyRequest): ErrorAnswer & { expected: boolean } {
  const answer = toErrorAnswer(error);
  if (answer) return { ...answer, expected: true };
  // The database away (a restart, a failover): 503 with Retry-After, which
  // a client and a proxy know to try again, rather than an unexplained 500.
  if (isConnectionLost(error)) {
    request.log.warn({ err: error }, 'request failed: the database is unreachable');
    const busy = serviceBusyError();
    return { error: busy, status: statusOf(busy), expected: true };
  }
  request.log.error({ err: error }, 'request failed');
  return { ...internalAnswer(), expected: false };
}

/** The API's error handler: every error in the API's JSON shape. */
export function sendApiErrorAnswer(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const { error: shown, status } = answerFor(error, request);
  return sendApiError(reply, shown, status);
}

/**
 * The pages' error handler: the error page in the portal's look, saying when
 * to try again (429, 503) as the API does; a refused form post (403) links
 * back to its form by the route it matched, an unexpected error shows no detail.
 */
export function sendErrorPage(
  error: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const { error: shown, status, expected } = answerFor(error, request);
  return applyErrorHeaders(reply, shown)
    .code(status)
    .type('text/html; charset=utf-8')
    .send(
      errorPage(
        request.server.parts.site,
        status === 404 ? 'not-found' : 'error',
        expected ? shown.message : undefined,
        status === 403 ? formPageFor(request.routeOptions?.url) : undefined,
      ),
    );
}

/** The API's answer to an address it does not have: 404 NOT_FOUND in JSON. */
export function sendApiNotFound(_request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendApiError(reply, new FlowError('NOT_FOUND'));
}

/** The Spanish not-found page. */
export function sendNotFoundPage(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = new FlowError('NOT_FOUND');
  return reply
    .code(statusOf(error))
    .type('text/html; charset=utf-8')
    .send(errorPage(request.server.parts.site, 'not-found'));
}

/** This context's errors and unknown addresses answer in the API's JSON shape. */
export function useJsonErrors(instance: FastifyInstance): void {
  instance.setErrorHandler(sendApiErrorAnswer);
  instance.setNotFoundHandler(sendApiNotFound);
}

/** This context's errors and unknown addresses answer the portal's pages. */
export function useHtmlErrors(instance: FastifyInstance): void {
  instance.setErrorHandler(sendErrorPage);
  instance.setNotFoundHandler(sendNotFoundPage);
}

/**
 * Fastify's `frameworkErrors` option: errors raised before routing (a URL
 * that is not valid percent-encoding, FST_ERR_BAD_URL), which never reach an
 * area's handlers and would otherwise answer Fastify's English JSON. Such an
 * address cannot exist: the same 404 as any unknown address. With no route
 * and so no area yet, the address itself says which 404: under `/api/` (read
 * decoded where it can be) the API's, anywhere else the page.
 */
export function handleFrameworkError(
  _error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (decodedPath(request.url).startsWith('/api/')) sendApiNotFound(request, reply);
  else sendNotFoundPage(request, reply);
}

/** The path of an address, percent-decoded when it is valid percent-encoding. */
function decodedPath(url: string): string {
  const path = url.split('?')[0] ?? '/';
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
