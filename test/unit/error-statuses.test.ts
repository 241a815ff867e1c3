// Flows raise codes; the edge decides the HTTP status. Every code of the
// catalogue has one (a missing one is also a type error in
// src/plugins/error-statuses.ts), and a FlowError carries none of its own.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { captchaErrors, FlowError, invalidFields, throttledError } from '../../src/flows/errors.ts';
import { loginErrors } from '../../src/flows/login/errors.ts';
import { recoveryErrors } from '../../src/flows/recovery/errors.ts';
import { type ErrorCode, errors } from '../../src/messages/es.ts';
import { ERROR_STATUSES, statusOf } from '../../src/plugins/error-statuses.ts';
import { toErrorAnswer } from '../../src/plugins/errors.ts';

/** The code and status the error handler answers a caught error with. */
function answered(caught: unknown) {
  const answer = toErrorAnswer(caught);
  return answer && { code: answer.error.code, status: answer.status };
}

describe('the status of each error code', () => {
  it('gives every code of the catalogue an HTTP error status, and no code outside it', () => {
    const catalogue = Object.keys(errors).sort();
    assert.deepEqual(Object.keys(ERROR_STATUSES).sort(), catalogue);
    for (const code of catalogue as ErrorCode[]) {
      const status = statusOf({ code });
      assert.ok(Number.isInteger(status) && status >= 400 && status < 600, `${code}: ${status}`);
    }
  });

  it('answers the statuses the portal has always given', () => {
    const expected: Partial<Record<ErrorCode, number>> = {
      VALIDATION_FAILED: 400,
      MALFORMED_BODY: 400,
      INVALID_CREDENTIALS: 401,
      UNAUTHENTICATED: 401,
      LOGIN_THROTTLED: 429,
      REQUESTS_THROTTLED: 429,
      SERVICE_BUSY: 503,
      NOT_FOUND: 404,
      CAPTCHA_UNAVAILABLE: 404,
      METHOD_NOT_ALLOWED: 405,
      CROSS_SITE_FORM: 403,
      FORM_EXPIRED: 403,
      UNSUPPORTED_MEDIA_TYPE: 415,
      BODY_TOO_LARGE: 413,
      TOKEN_INVALID: 400,
      CODE_INVALID: 400,
      CAPTCHA_REQUIRED: 400,
      CAPTCHA_FAILED: 400,
      DOCUMENT_HAS_CHECK_DIGIT: 400,
      PASSWORD_REJECTED: 400,
      INTERNAL: 500,
    };
    for (const [code, status] of Object.entries(expected))
      assert.equal(statusOf({ code: code as ErrorCode }), status, code);
  });

  it('raises flow errors that carry a code and no status', () => {
    const raised: FlowError[] = [
      new FlowError('INTERNAL'),
      invalidFields({ document: errors.DOCUMENT_REQUIRED }),
      captchaErrors.missing(),
      captchaErrors.failed(),
      throttledError('LOGIN_THROTTLED', 60),
      loginErrors.invalidCredentials(),
      loginErrors.checkDigit('1234567'),
      recoveryErrors.codeInvalid(),
      recoveryErrors.tokenInvalid(),
      recoveryErrors.passwordRejected({ password: errors.PASSWORD_COMMON }),
    ];
    for (const error of raised) {
      assert.ok(error.code in errors, error.code);
      assert.equal('status' in error, false, `${error.code} carries a status`);
      assert.equal('statusCode' in error, false, `${error.code} carries a statusCode`);
    }
  });

  it('keeps the wait of a throttled error, which the edge sends as Retry-After', () => {
    const error = throttledError('REQUESTS_THROTTLED', 90);
    assert.equal(error.retryAfterSeconds, 90);
    assert.equal(statusOf(error), 429);
  });

  it("answers Fastify's own errors with the status of the code they map to", () => {
    const fastifyError = (code: string, statusCode: number) =>
      Object.assign(new Error(code), { code, statusCode });
    assert.deepEqual(answered(fastifyError('FST_ERR_CTP_INVALID_JSON_BODY', 400)), {
      code: 'MALFORMED_BODY',
      status: 400,
    });
    assert.deepEqual(answered(fastifyError('FST_ERR_CTP_BODY_TOO_LARGE', 413)), {
      code: 'BODY_TOO_LARGE',
      status: 413,
    });
    assert.deepEqual(answered(fastifyError('FST_CSRF_INVALID_TOKEN', 403)), {
      code: 'FORM_EXPIRED',
      status: 403,
    });
    // Fastify says 500 (a bad content-type setting); the code says 415.
    assert.deepEqual(answered(fastifyError('FST_ERR_CTP_INVALID_TYPE', 500)), {
      code: 'UNSUPPORTED_MEDIA_TYPE',
      status: 415,
    });
  });

  it('keeps the status of a plugin refusal the catalogue has no code for (a static file 403, 412, 416)', () => {
    for (const status of [403, 412, 416])
      assert.deepEqual(answered(Object.assign(new Error('refused'), { statusCode: status })), {
        code: 'MALFORMED_BODY',
        status,
      });
    assert.deepEqual(answered(Object.assign(new Error('gone'), { statusCode: 404 })), {
      code: 'NOT_FOUND',
      status: 404,
    });
  });

  it('leaves anything else to the logged 500', () => {
    assert.equal(answered(new Error('boom')), null);
    assert.equal(answered(Object.assign(new Error('upstream'), { statusCode: 502 })), null);
  });
});
