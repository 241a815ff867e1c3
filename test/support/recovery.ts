// The recovery steps as the mobile app calls them, and what a member reads
// from the received email or SMS.
import assert from 'node:assert/strict';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import type { Member } from '../../src/db/schema.ts';
import type { TestApp } from '../helper.ts';
import type { DeliveryRig } from './delivery.ts';
import { codeIn } from './sms-gateway.ts';
import { linkIn, type ReceivedMail } from './smtp.ts';

type Rig = Pick<TestApp, 'app'>;

/** app.inject that fails the test on any 5xx. */
export async function send(rig: Rig, options: InjectOptions): Promise<LightMyRequestResponse> {
  const response = await rig.app.inject(options);
  assert.ok(
    response.statusCode < 500,
    `${options.method} ${options.url} answered ${response.statusCode}: ${response.body}`,
  );
  return response;
}

export function requestPassword(
  rig: Rig,
  document: string,
  channel: 'email' | 'sms',
  extra: Record<string, unknown> = {},
): Promise<LightMyRequestResponse> {
  return send(rig, {
    method: 'POST',
    url: '/api/v1/password-requests',
    payload: { document, channel, ...extra },
  });
}

export function verifyCode(
  rig: Rig,
  document: string,
  code: string,
): Promise<LightMyRequestResponse> {
  return send(rig, {
    method: 'POST',
    url: '/api/v1/password-requests/verify',
    payload: { document, code },
  });
}

export function setPassword(
  rig: Rig,
  token: string,
  password: string,
  passwordConfirmation = password,
  extra: Record<string, unknown> = {},
): Promise<LightMyRequestResponse> {
  return send(rig, {
    method: 'POST',
    url: '/api/v1/password',
    payload: { token, password, passwordConfirmation, ...extra },
  });
}

export function logIn(rig: Rig, document: string, password: string) {
  return send(rig, { method: 'POST', url: '/api/v1/login', payload: { document, password } });
}

/** The token of an emailed link (the `token` query parameter). */
export function tokenIn(mail: ReceivedMail): string {
  const token = new URL(linkIn(mail)).searchParams.get('token');
  assert.ok(token, 'the link carries a token');
  return token;
}

/** The newest email the SMTP server received for a member. */
export function lastMailTo(rig: DeliveryRig, member: Pick<Member, 'email'>): ReceivedMail {
  const mail = rig.smtp.to(member.email as string).at(-1);
  assert.ok(mail, `no email for ${member.email}`);
  return mail;
}

/** Asks for a link by email, delivers it over SMTP and returns the received email. */
export async function emailedLink(rig: DeliveryRig, member: Member): Promise<ReceivedMail> {
  const before = rig.smtp.to(member.email as string).length;
  const response = await requestPassword(rig, member.document, 'email');
  assert.equal(response.statusCode, 202, response.body);
  await rig.deliver();
  const received = rig.smtp.to(member.email as string);
  assert.equal(received.length, before + 1, 'exactly one new email');
  return received.at(-1) as ReceivedMail;
}

/** Asks for a code by SMS, delivers it through the gateway and returns the code. */
export async function textedCode(rig: DeliveryRig, member: Member): Promise<string> {
  const before = rig.sms.to(member.mobile as string).length;
  const response = await requestPassword(rig, member.document, 'sms');
  assert.equal(response.statusCode, 202, response.body);
  await rig.deliver();
  const received = rig.sms.to(member.mobile as string);
  assert.equal(received.length, before + 1, 'exactly one new SMS');
  return codeIn(received.at(-1) as { body: string });
}

/** Verifies a code and returns the set-password token. */
export async function tokenForCode(rig: Rig, document: string, code: string): Promise<string> {
  const response = await verifyCode(rig, document, code);
  assert.equal(response.statusCode, 200, response.body);
  const { token } = response.json() as { token: string };
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  return token;
}
