// Staff accounts of the branch desk (src/staff/accounts.ts, ADR 023) on a
// real database with a clock the test moves: creation, the one-time
// enrolment link, the TOTP key proven by a code, recovery codes, and the
// login with both factors, its replay refusal and its throttles. And the
// operator's `npm run staff:create`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { generateHOTP } from '@oslojs/otp';
import {
  completeEnrolment,
  createStaff,
  ENROLMENT_HOURS,
  openEnrolment,
  STAFF_CODE_FAILURES,
  STAFF_LOGIN_FAILURES,
  StaffError,
  startEnrolment,
  unusedRecoveryCodes,
  verifyStaffLogin,
} from '../../src/staff/accounts.ts';
import { timeStep } from '../../src/staff/second-factor.ts';
import {
  createTestDatabase,
  databaseLabel,
  FAST_HASHER,
  FakeClock,
  TEST_SECRET,
  type TestDatabase,
} from '../helper.ts';

const run = promisify(execFile);
const PASSWORD = 'mesa-de-ayuda-2026';

/** The code an authenticator app shows at `now` (or `offset` steps away). */
function codeAt(key: Uint8Array, now: Date, offset = 0): string {
  return generateHOTP(key, BigInt(timeStep(now) + offset), 6);
}

async function refusal(work: Promise<unknown>): Promise<StaffError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof StaffError) return error;
    throw error;
  }
  assert.fail('expected a StaffError');
}

describe(`staff accounts (${databaseLabel})`, () => {
  let database: TestDatabase;
  let sequence = 0;

  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database.close();
  });

  /** A staff user created and enrolled; returns what a test needs. */
  async function enrolled(clock: FakeClock, role = 'desk') {
    sequence += 1;
    const email = `persona${sequence}@example.org`;
    const { enrolment } = await createStaff(database.db, clock, {
      email,
      name: `Persona ${sequence}`,
      role,
      createdBy: 'test',
    });
    const { key } = await openEnrolment(database.db, clock, TEST_SECRET, enrolment.token);
    const { staff, recoveryCodes } = await completeEnrolment(
      database.db,
      clock,
      TEST_SECRET,
      FAST_HASHER,
      {
        token: enrolment.token,
        password: PASSWORD,
        confirmation: PASSWORD,
        code: codeAt(key, clock.now()),
      },
    );
    return { staff, key, recoveryCodes, email };
  }

  it('creates a staff user with a normalised email, and refuses a taken email, a bad role or a bad email', async () => {
    const clock = new FakeClock();
    const { staff, enrolment } = await createStaff(database.db, clock, {
      email: '  Laura.Sosa@Example.ORG ',
      name: ' Laura   Sosa ',
      role: 'supervisor',
      createdBy: 'test',
    });
    assert.equal(staff.email, 'laura.sosa@example.org');
    assert.equal(staff.name, 'Laura Sosa');
    assert.equal(staff.password_hash, null);
    assert.equal(
      enrolment.expiresAt.getTime() - clock.now().getTime(),
      ENROLMENT_HOURS * 3_600_000,
    );
    const again = await refusal(
      createStaff(database.db, clock, {
        email: 'laura.sosa@example.org',
        name: 'Otra',
        role: 'desk',
        createdBy: 'test',
      }),
    );
    assert.equal(again.code, 'STAFF_EMAIL_TAKEN');
    for (const [input, code] of [
      [{ email: 'x@example.org', name: 'X', role: 'root' }, 'STAFF_ROLE_INVALID'],
      [{ email: 'no-es-un-email', name: 'X', role: 'desk' }, 'STAFF_EMAIL_INVALID'],
      [{ email: 'y@example.org', name: '', role: 'desk' }, 'STAFF_NAME_INVALID'],
    ] as const) {
      const error = await refusal(createStaff(database.db, clock, { ...input, createdBy: 'test' }));
      assert.equal(error.code, code);
    }
  });

  it('offers one TOTP key per link (a reload shows the same), and the link works once', async () => {
    const clock = new FakeClock();
    const { enrolment } = await createStaff(database.db, clock, {
      email: 'una.vez@example.org',
      name: 'Una Vez',
      role: 'desk',
      createdBy: 'test',
    });
    const first = await openEnrolment(database.db, clock, TEST_SECRET, enrolment.token);
    const reload = await openEnrolment(database.db, clock, TEST_SECRET, enrolment.token);
    assert.deepEqual(reload.key, first.key);

    const wrongCode = await refusal(
      completeEnrolment(database.db, clock, TEST_SECRET, FAST_HASHER, {
        token: enrolment.token,
        password: PASSWORD,
        confirmation: PASSWORD,
        code: codeAt(first.key, clock.now(), 5),
      }),
    );
    assert.equal(wrongCode.code, 'TOTP_INVALID');
    const short = await refusal(
      completeEnrolment(database.db, clock, TEST_SECRET, FAST_HASHER, {
        token: enrolment.token,
        password: 'corta2026',
        confirmation: 'corta2026',
        code: codeAt(first.key, clock.now()),
      }),
    );
    assert.equal(short.code, 'STAFF_PASSWORD_REJECTED');

    const done = await completeEnrolment(database.db, clock, TEST_SECRET, FAST_HASHER, {
      token: enrolment.token,
      password: PASSWORD,
      confirmation: PASSWORD,
      code: codeAt(first.key, clock.now()),
    });
    assert.equal(done.recoveryCodes.length, 10);
    assert.equal(await unusedRecoveryCodes(database.db, done.staff.id), 10);
    assert.ok(
      done.staff.totp_key &&
        !done.staff.totp_key.includes(Buffer.from(first.key).toString('base64')),
    );
    const used = await refusal(openEnrolment(database.db, clock, TEST_SECRET, enrolment.token));
    assert.equal(used.code, 'ENROLMENT_INVALID');
  });

  it('lets an enrolment link expire after 24 hours, and a new link withdraws the old one', async () => {
    const clock = new FakeClock();
    const { staff, enrolment } = await createStaff(database.db, clock, {
      email: 'vence@example.org',
      name: 'Vence',
      role: 'desk',
      createdBy: 'test',
    });
    clock.advance(ENROLMENT_HOURS * 3_600_000 + 1000);
    assert.equal(
      (await refusal(openEnrolment(database.db, clock, TEST_SECRET, enrolment.token))).code,
      'ENROLMENT_INVALID',
    );
    const second = await startEnrolment(database.db, clock, staff.id);
    const third = await startEnrolment(database.db, clock, staff.id);
    assert.equal(
      (await refusal(openEnrolment(database.db, clock, TEST_SECRET, second.token))).code,
      'ENROLMENT_INVALID',
    );
    assert.ok(await openEnrolment(database.db, clock, TEST_SECRET, third.token));
  });

  it('lets a staff user in with the password and a code of the current, previous or next step, never the same code twice', async () => {
    const clock = new FakeClock();
    const { staff, key, email } = await enrolled(clock);
    const login = (code: string, password = PASSWORD) =>
      verifyStaffLogin(database.db, clock, TEST_SECRET, FAST_HASHER, {
        email,
        password,
        code,
        ip: '198.51.100.7',
      });

    // The enrolment used this step's code: it cannot log in.
    assert.equal((await refusal(login(codeAt(key, clock.now())))).code, 'STAFF_LOGIN_FAILED');
    clock.advance(30_000);
    const now = await login(codeAt(key, clock.now()));
    assert.equal(now.staff.id, staff.id);
    assert.equal(now.factor, 'totp');
    // Replayed: refused.
    assert.equal((await refusal(login(codeAt(key, clock.now())))).code, 'STAFF_LOGIN_FAILED');
    // A phone a little ahead: the next step's code is accepted.
    const ahead = await login(codeAt(key, clock.now(), 1));
    assert.equal(ahead.factor, 'totp');
    // Then the current step's code is older than the last one used: refused.
    assert.equal((await refusal(login(codeAt(key, clock.now())))).code, 'STAFF_LOGIN_FAILED');
    clock.advance(90_000);
    // A phone a little behind: the previous step's code, newer than the last used, is accepted.
    assert.equal((await login(codeAt(key, clock.now(), -1))).factor, 'totp');
    clock.advance(30_000);
    // Two steps away: refused.
    assert.equal((await refusal(login(codeAt(key, clock.now(), 2)))).code, 'STAFF_LOGIN_FAILED');
    // A right code with a wrong password: the same refusal.
    assert.equal(
      (await refusal(login(codeAt(key, clock.now()), 'otra-clave-2026'))).code,
      'STAFF_LOGIN_FAILED',
    );
  });

  it('takes each recovery code once', async () => {
    const clock = new FakeClock();
    const { recoveryCodes, email, staff } = await enrolled(clock);
    const login = (code: string) =>
      verifyStaffLogin(database.db, clock, TEST_SECRET, FAST_HASHER, {
        email,
        password: PASSWORD,
        code,
        ip: null,
      });
    const [first, second] = recoveryCodes as [string, string];
    assert.equal((await login(first.toLowerCase())).factor, 'recovery_code');
    assert.equal((await refusal(login(first))).code, 'STAFF_LOGIN_FAILED');
    assert.equal((await login(second.replace('-', ' '))).factor, 'recovery_code');
    assert.equal(await unusedRecoveryCodes(database.db, staff.id), 8);
  });

  it('answers an unknown email, a disabled account and a wrong password alike, then throttles the email', async () => {
    const clock = new FakeClock();
    const { key, email, staff } = await enrolled(clock);
    const unknown = await refusal(
      verifyStaffLogin(database.db, clock, TEST_SECRET, FAST_HASHER, {
        email: 'nadie@example.org',
        password: PASSWORD,
        code: '123456',
        ip: '203.0.113.1',
      }),
    );
    assert.equal(unknown.code, 'STAFF_LOGIN_FAILED');
    await database.db
      .updateTable('staff_users')
      .set({ status: 'disabled' })
      .where('id', '=', staff.id)
      .execute();
    clock.advance(30_000);
    const disabled = await refusal(
      verifyStaffLogin(database.db, clock, TEST_SECRET, FAST_HASHER, {
        email,
        password: PASSWORD,
        code: codeAt(key, clock.now()),
        ip: '203.0.113.2',
      }),
    );
    assert.equal(disabled.code, 'STAFF_LOGIN_FAILED');

    const target = await enrolled(clock);
    const codes: string[] = [];
    for (let i = 0; i < STAFF_LOGIN_FAILURES.limit + 1; i++) {
      const error = await refusal(
        verifyStaffLogin(database.db, clock, TEST_SECRET, FAST_HASHER, {
          email: target.email,
          password: `intento-${i}-equivocado`,
          code: '000000',
          ip: `192.0.2.${i + 1}`,
        }),
      );
      codes.push(error.code);
    }
    assert.deepEqual(codes.slice(0, STAFF_LOGIN_FAILURES.limit), [
      ...Array(STAFF_LOGIN_FAILURES.limit).fill('STAFF_LOGIN_FAILED'),
    ]);
    assert.equal(codes.at(-1), 'STAFF_LOGIN_THROTTLED');
    // Even the right password and code wait until the window ends.
    clock.advance(30_000);
    const held = await refusal(
      verifyStaffLogin(database.db, clock, TEST_SECRET, FAST_HASHER, {
        email: target.email,
        password: PASSWORD,
        code: codeAt(target.key, clock.now()),
        ip: '192.0.2.200',
      }),
    );
    assert.equal(held.code, 'STAFF_LOGIN_THROTTLED');
    assert.ok((held.retryAfterSeconds ?? 0) > 0);
  });

  it('counts wrong second-factor codes after a right password in a budget of their own', async () => {
    const clock = new FakeClock();
    const { key, email } = await enrolled(clock);
    clock.advance(30_000);
    const outcomes: string[] = [];
    for (let i = 0; i < STAFF_CODE_FAILURES.limit + 1; i++) {
      const error = await refusal(
        verifyStaffLogin(database.db, clock, TEST_SECRET, FAST_HASHER, {
          email,
          password: PASSWORD,
          code: codeAt(key, clock.now(), 7 + i),
          ip: `198.51.100.${i + 10}`,
        }),
      );
      outcomes.push(error.code);
    }
    assert.equal(outcomes.at(-1), 'STAFF_LOGIN_THROTTLED');
    assert.equal(
      outcomes.filter((o) => o === 'STAFF_LOGIN_FAILED').length,
      STAFF_CODE_FAILURES.limit,
    );
    const held = await refusal(
      verifyStaffLogin(database.db, clock, TEST_SECRET, FAST_HASHER, {
        email,
        password: PASSWORD,
        code: codeAt(key, clock.now()),
        ip: '198.51.100.99',
      }),
    );
    assert.equal(held.code, 'STAFF_LOGIN_THROTTLED');
  });
});

describe('npm run staff:create', () => {
  let folder: string;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'staff-create-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  const env = () => ({
    ...process.env,
    NODE_ENV: 'development',
    DATA_DIR: folder,
    DATABASE_URL: '',
    PUBLIC_URL: 'https://portal.example.org',
    APP_SECRET: TEST_SECRET,
    SMTP_URL: 'smtp://127.0.0.1:1',
    SMS_WEBHOOK_URL: 'http://127.0.0.1:1/sms',
    DEMO_MEMBER: 'false',
    DEV_MAILBOX: 'false',
  });

  it('creates the first admin and prints a one-time enrolment link; refuses a second with the same email', async () => {
    const args = [
      '--import',
      'tsx',
      'src/cli/staff-create.ts',
      '--',
      '--email',
      'Admin@Example.org',
    ];
    const created = await run(
      process.execPath,
      [...args, '--name', 'Ana Admin', '--role', 'admin'],
      { env: env() },
    );
    assert.match(
      created.stdout,
      /^Created admin Ana Admin <admin@example\.org> \(staff user \d+\)\./,
    );
    assert.match(
      created.stdout,
      /https:\/\/portal\.example\.org\/mesa\/alta\?token=[A-Za-z0-9_-]{43}\n/,
    );
    const again = await run(process.execPath, [...args, '--name', 'Otra', '--role', 'admin'], {
      env: env(),
    }).then(
      () => assert.fail('a second admin with the same email was created'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /staff:create refused: a staff user with admin@example\.org exists already/,
    );
  });

  it('explains a missing option or a wrong role with the usage, exit 1', async () => {
    const bad = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/staff-create.ts',
        '--',
        '--email',
        'x@example.org',
        '--name',
        'X',
        '--role',
        'jefe',
      ],
      { env: env() },
    ).then(
      () => assert.fail('accepted'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /the role must be one of desk, supervisor, admin \(got "jefe"\)/);
    const missing = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/staff-create.ts', '--', '--email', 'x@example.org'],
      { env: env() },
    ).then(
      () => assert.fail('accepted'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.match(missing.stderr, /missing --name, --role\nusage: npm run staff:create/);
  });
});
