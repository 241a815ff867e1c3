// Helpers for tests of the branch desk (/mesa): an app on a real database
// with a clock the test moves, staff users of any role already enrolled
// (through the enrolment service, as the link's page does), and a login
// through the desk's page that returns the cookie to send.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { generateHOTP } from '@oslojs/otp';
import type { StaffUser } from '../../src/db/schema.ts';
import {
  completeEnrolment,
  createStaff,
  openEnrolment,
  type StaffRole,
} from '../../src/staff/accounts.ts';
import { timeStep } from '../../src/staff/second-factor.ts';
import { buildTestApp, type TestApp, type TestAppOptions } from '../helper.ts';

/** The password every staff user of these helpers chooses (12+ characters, not their name). */
export const STAFF_PASSWORD = 'mesa-de-ayuda-2026';

export const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };

/** An app for desk tests (the same as buildTestApp: PGlite, or TEST_DATABASE_URL). */
export function buildDeskApp(options: TestAppOptions = {}): Promise<TestApp> {
  return buildTestApp(options);
}

export interface EnrolledStaff {
  staff: StaffUser;
  email: string;
  name: string;
  role: StaffRole;
  /** The TOTP key their authenticator app holds. */
  key: Uint8Array;
  password: string;
  recoveryCodes: string[];
}

/** The 6-digit code an authenticator app shows for the key at the app's clock. */
export function totpNow(t: TestApp, key: Uint8Array): string {
  return generateHOTP(key, BigInt(timeStep(t.clock.now())), 6);
}

let sequence = 0;

/** A staff user of `role` who has used their enrolment link: password and TOTP key set. */
export async function createEnrolledStaff(
  t: TestApp,
  role: StaffRole,
  who: { email?: string; name?: string } = {},
): Promise<EnrolledStaff> {
  sequence += 1;
  const email = who.email ?? `${role}${sequence}-${randomBytes(3).toString('hex')}@example.org`;
  const name = who.name ?? `Empleado ${role} ${sequence}`;
  const { enrolment } = await createStaff(t.db, t.clock, {
    email,
    name,
    role,
    createdBy: 'test',
  });
  const { key } = await openEnrolment(t.db, t.clock, t.deps.secret, enrolment.token);
  const done = await completeEnrolment(t.db, t.clock, t.deps.secret, t.deps.hasher, {
    token: enrolment.token,
    password: STAFF_PASSWORD,
    confirmation: STAFF_PASSWORD,
    code: totpNow(t, key),
  });
  return {
    staff: done.staff,
    email,
    name,
    role,
    key,
    password: STAFF_PASSWORD,
    recoveryCodes: done.recoveryCodes,
  };
}

/**
 * Logs in at /mesa/ingresar and returns the cookie header of the staff
 * session ("desk=…"). The clock moves 30 s first: a TOTP step is accepted
 * once, and the enrolment or an earlier login may have used the current one.
 */
export async function logInStaff(
  t: TestApp,
  who: { email: string; key: Uint8Array; password?: string },
): Promise<string> {
  t.clock.advance(30_000);
  const response = await t.app.inject({
    method: 'POST',
    url: '/mesa/ingresar',
    headers: FORM_HEADERS,
    payload: new URLSearchParams({
      email: who.email,
      password: who.password ?? STAFF_PASSWORD,
      code: totpNow(t, who.key),
    }).toString(),
  });
  assert.equal(response.statusCode, 303, `desk login answered ${response.statusCode}`);
  assert.equal(response.headers.location, '/mesa');
  const raw = response.headers['set-cookie'];
  const cookies = Array.isArray(raw) ? raw : raw ? [String(raw)] : [];
  const desk = cookies.map((c) => c.split(';')[0] as string).find((c) => /^desk=/.test(c));
  assert.ok(desk, 'the login set the desk cookie');
  return desk;
}
