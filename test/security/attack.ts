// What the attack suite shares: requests from a chosen client address that
// fail the test on any 5xx, and the limits of SPEC §3 as the environment
// spells them (testConfig raises the per-address ones; these tests set them).
import assert from 'node:assert/strict';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { cookieFrom } from '../helper.ts';

/** SPEC §3's per-address defaults, set explicitly (testConfig raises them). */
export const DEFAULT_ADDRESS_LIMITS = {
  LOGIN_FAILURES_PER_ADDRESS: '100/15m',
  PASSWORD_REQUESTS_PER_ADDRESS: '30/1h',
  CAPTCHA_FAILURES_PER_ADDRESS: '30/15m',
  SMS_CODE_FAILURES_PER_ADDRESS: '30/1h',
} as const;

export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

export async function send(
  app: FastifyInstance,
  options: InjectOptions,
): Promise<LightMyRequestResponse> {
  const response = await app.inject(options);
  assert.ok(
    response.statusCode < 500,
    `${options.method} ${options.url} answered ${response.statusCode}: ${response.body}`,
  );
  return response;
}

/** POST /api/v1/login from `ip`. */
export function apiLogin(
  app: FastifyInstance,
  document: string,
  password: string,
  ip = '203.0.113.10',
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return send(app, {
    method: 'POST',
    url: '/api/v1/login',
    remoteAddress: ip,
    headers,
    payload: { document, password },
  });
}

/** POST /api/v1/password-requests from `ip`. */
export function apiPasswordRequest(
  app: FastifyInstance,
  document: string,
  channel: 'email' | 'sms',
  ip = '203.0.113.10',
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return send(app, {
    method: 'POST',
    url: '/api/v1/password-requests',
    remoteAddress: ip,
    headers,
    payload: { document, channel },
  });
}

/** The Retry-After header as a number of seconds (fails the test when absent). */
export function retryAfter(response: LightMyRequestResponse): number {
  const value = response.headers['retry-after'];
  assert.ok(value !== undefined, `no Retry-After on ${response.statusCode}: ${response.body}`);
  assert.match(String(value), /^\d+$/);
  return Number(value);
}

/** Status, Retry-After and body: what a client can observe of one answer. */
export function observed(response: LightMyRequestResponse) {
  return {
    status: response.statusCode,
    retryAfter: response.headers['retry-after'] ?? null,
    body: response.body,
  };
}

/** An audit row's detail, whether the driver gives jsonb parsed or as text. */
export function detailOf(row: { detail: unknown } | undefined): Record<string, unknown> {
  const detail = row?.detail;
  return (typeof detail === 'string' ? JSON.parse(detail) : detail) as Record<string, unknown>;
}

/** The value of the `sid` cookie a response sets, or undefined. */
export function sidSet(response: LightMyRequestResponse): string | undefined {
  return /(?:^|; )sid=([^;]*)/.exec(cookieFrom(response))?.[1];
}
