// Keeping one member out, or a whole carrier-NAT address: what junk costs
// the neighbours, what parallel right logins meet, and what device cookies
// give a member's own browser or app (ADR 009, ADR 016).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { issueDeviceToken } from '../../src/auth/devices.ts';
import { openText } from '../../src/auth/secrets.ts';
import type { Captcha } from '../../src/captcha/port.ts';
import { OUTBOX_SEAL } from '../../src/courier/outbox.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  TEST_SECRET,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';
import { DEFAULT_ADDRESS_LIMITS, detailOf, retryAfter, send } from './attack.ts';

/** A CAPTCHA whose only right answer is "solved": anything else is junk. */
const solvable: Captcha = {
  provider: 'test',
  widget: { scripts: [], fieldName: 'captcha', cspOrigins: [] },
  verify: async ({ response }) =>
    response === 'solved' ? 'ok' : response === undefined ? 'missing' : 'failed',
};

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

/** A JSON post from `ip`, with a solved CAPTCHA unless the body says otherwise. */
function post(
  t: TestApp,
  url: string,
  body: Record<string, string>,
  ip = '203.0.113.10',
  withCaptcha = true,
): Promise<LightMyRequestResponse> {
  return send(t.app, {
    method: 'POST',
    url,
    remoteAddress: ip,
    payload: withCaptcha ? { captcha: 'solved', ...body } : body,
  });
}

const login = (
  t: TestApp,
  body: { document: string; password: string; captcha?: string; deviceToken?: string },
  ip?: string,
) => post(t, '/api/v1/login', body, ip);

const ask = (
  t: TestApp,
  body: { document: string; channel: 'email' | 'sms'; captcha?: string; deviceToken?: string },
  ip?: string,
) => post(t, '/api/v1/password-requests', body, ip);

const verify = (
  t: TestApp,
  body: { document: string; code: string; deviceToken?: string },
  ip?: string,
) => post(t, '/api/v1/password-requests/verify', body, ip, false);

/** The code of the newest SMS queued for a member, as the gateway would receive it. */
async function sentCode(t: TestApp, memberId: number): Promise<string> {
  const row = await t.db
    .selectFrom('outbox')
    .select('payload')
    .where('member_id', '=', memberId)
    .where('channel', '=', 'sms')
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
  const code = /\b\d{6}\b/.exec(openText(TEST_SECRET, OUTBOX_SEAL, row.payload ?? ''))?.[0];
  assert.ok(code, 'the SMS carries a code');
  return code;
}

describe(`junk CAPTCHAs from a shared address (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ database, captcha: solvable, env: { ...DEFAULT_ADDRESS_LIMITS } });
  });
  after(async () => {
    await t.close();
  });

  it('130 junk logins from a NAT address do not keep a neighbour with a solved CAPTCHA out', async () => {
    const nat = '198.51.100.80';
    const member = await createMember(t.db);
    for (let i = 0; i < 130; i += 1) {
      const junk = await login(t, { document: `61${i}000`, password: 'mala1', captcha: 'x' }, nat);
      assert.ok([400, 429].includes(junk.statusCode), `junk ${i}: ${junk.statusCode}`);
    }
    const neighbour = await login(t, { document: member.document, password: 'clave2026' }, nat);
    assert.equal(neighbour.statusCode, 200, neighbour.body);
  });

  it('40 junk password requests from a NAT address do not block a neighbour’s recovery', async () => {
    const nat = '198.51.100.81';
    const member = await createMember(t.db);
    for (let i = 0; i < 40; i += 1)
      await ask(t, { document: `62${i}000`, channel: 'email', captcha: 'x' }, nat);
    const neighbour = await ask(t, { document: member.document, channel: 'email' }, nat);
    assert.equal(neighbour.statusCode, 202, neighbour.body);
    const queued = await t.db
      .selectFrom('outbox')
      .select('id')
      .where('member_id', '=', member.id)
      .execute();
    assert.equal(queued.length, 1, 'the neighbour’s link is on its way');
  });

  it('slows only the junk’s sender past its own limit (429), and audits the flood once', async () => {
    t.clock.advanceMinutes(60);
    const nat = '198.51.100.82';
    const statuses: number[] = [];
    for (let i = 0; i < 40; i += 1)
      statuses.push(
        (await login(t, { document: '6300001', password: 'mala1', captcha: 'x' }, nat)).statusCode,
      );
    assert.deepEqual(
      [statuses.filter((s) => s === 400).length, statuses.filter((s) => s === 429).length],
      [30, 10],
    );
    const last = await login(t, { document: '6300001', password: 'mala1', captcha: 'x' }, nat);
    assert.equal(last.json().error.code, 'REQUESTS_THROTTLED');
    assert.ok(retryAfter(last) > 0);
    const audit = await t.db
      .selectFrom('audit_events')
      .select(['type', 'detail'])
      .where('ip', '=', nat)
      .execute();
    assert.equal(audit.filter((r) => r.type === 'captcha_failed').length, 30);
    const throttled = audit.filter((r) => r.type === 'throttled');
    assert.equal(throttled.length, 1, 'one row for the flood, not one per request');
    assert.equal(detailOf(throttled[0]).limit, 'captcha_failures_per_address');
    // The same address with a solved CAPTCHA still gets an answer on the merits.
    const member = await createMember(t.db);
    assert.equal(
      (await login(t, { document: member.document, password: 'clave2026' }, nat)).statusCode,
      200,
    );
  });
});

describe(`simultaneous right logins of one member (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ database });
  });
  after(async () => {
    await t.close();
  });

  it('eight phones logging one member in at once, six times each, all get in', async () => {
    const member = await createMember(t.db);
    const phone = async (n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i += 1)
        statuses.push(
          (await login(t, { document: member.document, password: 'clave2026' }, `192.0.2.${n}`))
            .statusCode,
        );
      return statuses;
    };
    const all = (await Promise.all(Array.from({ length: 8 }, (_, n) => phone(n + 1)))).flat();
    assert.equal(all.length, 48);
    assert.deepEqual(
      all.filter((s) => s !== 200),
      [],
      'every right login gets in',
    );
  });

  it('a burst of wrong passwords still gets at most the free tries checked', async () => {
    const member = await createMember(t.db);
    const burst = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        login(t, { document: member.document, password: `mala${i}` }, `192.0.2.${100 + i}`),
      ),
    );
    const statuses = burst.map((r) => r.statusCode);
    assert.equal(statuses.filter((s) => s === 401).length, 5, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 19);
    const failed = await t.db
      .selectFrom('audit_events')
      .select('id')
      .where('member_id', '=', member.id)
      .where('type', '=', 'login')
      .where('outcome', '=', 'failed')
      .execute();
    assert.equal(failed.length, 5, 'five passwords were checked');
    // And the right password, in its wait, still waits.
    const right = await login(t, { document: member.document, password: 'clave2026' });
    assert.equal(right.statusCode, 429);
  });

  it('right and wrong passwords at once: no right one counts as a failure, and the wrong ones get only the free tries between successes', async () => {
    const member = await createMember(t.db);
    const mixed = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        login(
          t,
          { document: member.document, password: i % 2 === 0 ? 'clave2026' : `mala${i}` },
          `192.0.2.${150 + i}`,
        ),
      ),
    );
    const statuses = mixed.map((r, i) => `${i % 2 === 0 ? 'right' : 'wrong'}:${r.statusCode}`);
    const seen = statuses.join(',');
    // A right password is let in or, when wrong ones started the wait first, told to wait:
    // never answered as a wrong one.
    assert.ok(!statuses.includes('right:401'), seen);
    assert.ok(
      mixed.every((r) => [200, 401, 429].includes(r.statusCode)),
      seen,
    );
    const successes = statuses.filter((s) => s === 'right:200').length;
    const checkedWrong = statuses.filter((s) => s === 'wrong:401').length;
    assert.ok(successes >= 1, `at least the first right ones get in: ${seen}`);
    // Each success forgets the failures before it; between two, at most the 5 free tries.
    assert.ok(checkedWrong <= 5 * (successes + 1), seen);
  });
});

describe(`device cookies against targeted lockout (${databaseLabel})`, () => {
  let t: TestApp;
  before(async () => {
    t = await buildTestApp({ database, captcha: solvable, env: { ...DEFAULT_ADDRESS_LIMITS } });
  });
  after(async () => {
    await t.close();
  });

  /** The member's own phone: logged in once, keeps the device token. */
  async function knownPhone(document: string): Promise<string> {
    const first = await login(t, { document, password: 'clave2026' }, '192.0.2.200');
    assert.equal(first.statusCode, 200, first.body);
    const { deviceToken } = first.json() as { deviceToken: string };
    assert.match(deviceToken, /^v1\./);
    return deviceToken;
  }

  /** An attacker with solved CAPTCHAs keeps the account waiting. */
  async function lockOut(document: string): Promise<void> {
    for (let i = 0; i < 6; i += 1)
      await login(t, { document, password: `mala${i}` }, `198.18.0.${i + 1}`);
    const stranger = await login(t, { document, password: 'clave2026' }, '198.18.1.1');
    assert.equal(stranger.statusCode, 429, 'the account waits for everyone else');
  }

  it('an attacker who keeps the account waiting does not keep out the member’s known phone', async () => {
    const member = await createMember(t.db);
    const deviceToken = await knownPhone(member.document);
    await lockOut(member.document);
    const phone = await login(t, { document: member.document, password: 'clave2026', deviceToken });
    assert.equal(phone.statusCode, 200, phone.body);
    const renewed = (phone.json() as { deviceToken: string }).deviceToken;
    assert.notEqual(renewed, deviceToken, 'each login renews the device token');
    const audit = await t.db
      .selectFrom('audit_events')
      .select('detail')
      .where('member_id', '=', member.id)
      .where('type', '=', 'login')
      .where('outcome', '=', 'ok')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(detailOf(audit).device, 'known');
  });

  it('a known device’s own failures start its own wait, not the account’s', async () => {
    const member = await createMember(t.db);
    const deviceToken = await knownPhone(member.document);
    for (let i = 0; i < 5; i += 1)
      assert.equal(
        (await login(t, { document: member.document, password: `mala${i}`, deviceToken }))
          .statusCode,
        401,
      );
    const waiting = await login(t, {
      document: member.document,
      password: 'clave2026',
      deviceToken,
    });
    assert.equal(waiting.statusCode, 429, 'the device waits');
    const elsewhere = await login(
      t,
      { document: member.document, password: 'clave2026' },
      '192.0.2.201',
    );
    assert.equal(elsewhere.statusCode, 200, 'the account does not');
  });

  it('does not trust a device token of another member, an altered one or one older than 180 days', async () => {
    const member = await createMember(t.db);
    const other = await createMember(t.db);
    const othersToken = await knownPhone(other.document);
    const ownToken = await knownPhone(member.document);
    const altered = `${ownToken.slice(0, -1)}${ownToken.endsWith('0') ? '1' : '0'}`;
    const expired = issueDeviceToken(
      TEST_SECRET,
      member.id,
      new Date(t.clock.now().getTime() - 181 * 86_400_000),
    );
    await lockOut(member.document);
    for (const deviceToken of [othersToken, altered, expired, 'v1.1.2.3.4', 'x'.repeat(150)]) {
      const response = await login(t, {
        document: member.document,
        password: 'clave2026',
        deviceToken,
      });
      assert.equal(response.statusCode, 429, deviceToken);
    }
  });

  it('a web browser that logged in before gets in through the account’s wait', async () => {
    const member = await createMember(t.db);
    const form = (cookie?: string) =>
      t.app.inject({
        method: 'POST',
        url: '/ingresar',
        remoteAddress: '192.0.2.210',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(cookie ? { cookie } : {}),
        },
        payload: `document=${member.document}&password=clave2026&captcha=solved`,
      });
    const first = await form();
    assert.equal(first.statusCode, 303);
    const setCookies = ([] as string[]).concat(first.headers['set-cookie'] ?? []);
    const device = setCookies.find((c) => c.startsWith('device='))?.split(';')[0];
    assert.ok(device, 'a device cookie is set at login');
    await lockOut(member.document);
    assert.equal((await form()).statusCode, 429, 'a browser the member never used waits');
    assert.equal((await form(device)).statusCode, 303, 'the member’s browser gets in');
  });

  it('requests from elsewhere neither spend the known device’s messages nor cancel its link', async () => {
    const member = await createMember(t.db);
    const deviceToken = await knownPhone(member.document);
    // An attacker spends the member's five messages of the hour (solved CAPTCHAs, many addresses).
    for (let i = 0; i < 6; i += 1)
      await ask(t, { document: member.document, channel: 'email' }, `198.18.2.${i + 1}`);
    const own = await ask(t, { document: member.document, channel: 'email', deviceToken });
    assert.equal(own.statusCode, 202);
    const rows = await t.db
      .selectFrom('outbox')
      .select(['known_device'])
      .where('member_id', '=', member.id)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      rows.map((r) => r.known_device),
      [false, false, false, false, false, true],
      'five from elsewhere, the sixth refused, the known phone’s sent',
    );
    // A later request from elsewhere does not retire the member's link.
    t.clock.advanceMinutes(61);
    await ask(t, { document: member.document, channel: 'email' }, '198.18.3.1');
    const live = await t.db
      .selectFrom('one_time_secrets')
      .select(['known_device'])
      .where('member_id', '=', member.id)
      .where('used_at', 'is', null)
      .execute();
    assert.deepEqual(live.map((r) => r.known_device).sort(), [false, true]);
  });

  it('a NAT neighbour who spends the address’s 30 requests does not keep the known phone from asking', async () => {
    const nat = '198.51.100.90';
    const member = await createMember(t.db);
    const deviceToken = await knownPhone(member.document);
    for (let i = 0; i < 30; i += 1)
      assert.equal(
        (await ask(t, { document: `66${i}000`, channel: 'email' }, nat)).statusCode,
        202,
      );
    const stranger = await ask(t, { document: member.document, channel: 'email' }, nat);
    assert.equal(stranger.statusCode, 429, 'the address is spent for browsers it does not know');
    const phone = await ask(t, { document: member.document, channel: 'email', deviceToken }, nat);
    assert.equal(phone.statusCode, 202, phone.body);
    const queued = await t.db
      .selectFrom('outbox')
      .select('known_device')
      .where('member_id', '=', member.id)
      .execute();
    assert.deepEqual(
      queued.map((r) => r.known_device),
      [true],
    );
  });

  it('a code asked for from the known phone still works after a stranger asks for another', async () => {
    const member = await createMember(t.db);
    const deviceToken = await knownPhone(member.document);
    await ask(t, { document: member.document, channel: 'sms', deviceToken });
    const mine = await sentCode(t, member.id);
    await ask(t, { document: member.document, channel: 'sms' }, '198.18.4.1');
    assert.notEqual(await sentCode(t, member.id), mine, 'the stranger’s request sent another code');
    const verified = await verify(t, { document: member.document, code: mine, deviceToken });
    assert.equal(verified.statusCode, 200, verified.body);
  });
});

describe(`wrong SMS codes are counted before they are checked (${databaseLabel})`, () => {
  it('of 60 parallel wrong codes from one address, exactly 30 are checked', async () => {
    const t = await buildTestApp({
      database,
      clock: new FakeClock(),
      env: { SMS_CODE_FAILURES_PER_ADDRESS: '30/1h' },
    });
    try {
      const member = await createMember(t.db);
      assert.equal(
        (
          await t.app.inject({
            method: 'POST',
            url: '/api/v1/password-requests',
            payload: { document: member.document, channel: 'sms' },
          })
        ).statusCode,
        202,
      );
      const ip = '203.0.113.90';
      const burst = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          verify(t, { document: `64${String(i).padStart(5, '0')}`, code: '000000' }, ip),
        ),
      );
      const statuses = burst.map((r) => r.statusCode);
      assert.equal(statuses.filter((s) => s === 400).length, 30, statuses.join(','));
      assert.equal(statuses.filter((s) => s === 429).length, 30);
      const checked = await t.db
        .selectFrom('audit_events')
        .select('id')
        .where('type', '=', 'code_verified')
        .where('ip', '=', ip)
        .execute();
      assert.equal(checked.length, 30);
    } finally {
      await t.close();
    }
  });

  it('a right code gives its count back', async () => {
    const t = await buildTestApp({
      database,
      env: { SMS_CODE_FAILURES_PER_ADDRESS: '2/1h' },
    });
    try {
      const ip = '203.0.113.91';
      const member = await createMember(t.db);
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/password-requests',
        payload: { document: member.document, channel: 'sms' },
      });
      const code = await sentCode(t, member.id);
      assert.equal((await verify(t, { document: member.document, code }, ip)).statusCode, 200);
      assert.equal((await verify(t, { document: '6500001', code: '111111' }, ip)).statusCode, 400);
      assert.equal((await verify(t, { document: '6500002', code: '111111' }, ip)).statusCode, 400);
      assert.equal((await verify(t, { document: '6500003', code: '111111' }, ip)).statusCode, 429);
    } finally {
      await t.close();
    }
  });
});
