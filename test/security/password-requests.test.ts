// Attack suite, password requests: the per-address budget (30 an hour) on
// the API and the pages, and links that always start with PUBLIC_URL
// whatever Host the request claims. SPEC §3.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { PASSWORD_REQUEST_ACCEPTED } from '../../src/routes/api/v1/recovery.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  solveAltcha,
  type TestApp,
  type TestDatabase,
} from '../helper.ts';
import { buildDeliveryRig, type DeliveryRig } from '../support/delivery.ts';
import { linkIn } from '../support/smtp.ts';
import {
  apiPasswordRequest,
  DEFAULT_ADDRESS_LIMITS,
  detailOf,
  FORM,
  retryAfter,
  send,
} from './attack.ts';

const TOO_MANY = 'Recibimos demasiados pedidos desde esta conexión.';

// One database for the file; each test has its own addresses and documents.
let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

describe(`password requests per client address (${databaseLabel})`, () => {
  let t: TestApp;

  before(async () => {
    t = await buildTestApp({ database, env: { ...DEFAULT_ADDRESS_LIMITS } });
    // Ten minutes into the hour's window: 50 minutes remain.
    t.clock.advanceMinutes(10);
  });
  after(async () => {
    await t.close();
  });

  const outboxCount = async (memberId: number) =>
    Number(
      (
        await t.db
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('member_id', '=', memberId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('is 30 an hour by default', () => {
    assert.deepEqual(loadConfig({}).limits.passwordRequestsPerAddress, {
      limit: 30,
      windowMs: 3_600_000,
    });
    assert.deepEqual(t.deps.config.limits.passwordRequestsPerAddress, {
      limit: 30,
      windowMs: 3_600_000,
    });
  });

  it('answers the 31st request from one address 429 with Retry-After and a Spanish message, and queues nothing', async () => {
    const ip = '203.0.113.40';
    const member = await createMember(t.db);
    const bodies = new Set<string>();
    for (let i = 1; i <= 30; i += 1) {
      const response = await apiPasswordRequest(
        t.app,
        `51000${String(i).padStart(2, '0')}`,
        'email',
        ip,
      );
      assert.equal(response.statusCode, 202, `request ${i}: ${response.body}`);
      bodies.add(response.body);
    }
    assert.deepEqual([...bodies], [JSON.stringify({ message: PASSWORD_REQUEST_ACCEPTED })]);

    const refused = await apiPasswordRequest(t.app, member.document, 'email', ip);
    assert.equal(refused.statusCode, 429);
    assert.equal(retryAfter(refused), 50 * 60);
    assert.deepEqual(refused.json(), {
      error: {
        code: 'REQUESTS_THROTTLED',
        message: `${TOO_MANY} Espere 50 minutos y vuelva a intentar.`,
        fields: {},
      },
    });
    assert.equal(await outboxCount(member.id), 0, 'a refused request sends nothing');
    // SMS too, and the registration flow: one budget per address.
    const bySms = await apiPasswordRequest(t.app, member.document, 'sms', ip);
    assert.equal(bySms.statusCode, 429);
    const registration = await send(t.app, {
      method: 'POST',
      url: '/api/v1/password-requests',
      remoteAddress: ip,
      payload: { document: member.document, channel: 'email', flow: 'registration' },
    });
    assert.equal(registration.statusCode, 429);
    assert.equal(await outboxCount(member.id), 0);

    const audit = await t.db
      .selectFrom('audit_events')
      .select('detail')
      .where('type', '=', 'throttled')
      .where('ip', '=', ip)
      .execute();
    assert.equal(audit.length, 3);
    assert.deepEqual(detailOf(audit[0]), {
      limit: 'password_requests_per_address',
      retryAfter: 3000,
    });

    // Another address is not affected; the same one is again in the next window.
    const other = await apiPasswordRequest(t.app, member.document, 'email', '203.0.113.41');
    assert.equal(other.statusCode, 202);
    assert.equal(await outboxCount(member.id), 1);
    t.clock.advanceMinutes(50);
    assert.equal((await apiPasswordRequest(t.app, '5100099', 'email', ip)).statusCode, 202);
  });

  it('shows the form again, status 429, with the message and how long to wait, on the pages (shared with the API)', async () => {
    const ip = '203.0.113.42';
    t.clock.advanceMinutes(15);
    // 15 minutes into a window: 45 minutes remain.
    for (let i = 1; i <= 15; i += 1)
      assert.equal((await apiPasswordRequest(t.app, `52000${i}`, 'sms', ip)).statusCode, 202);
    const page = (url: string, document: string) =>
      send(t.app, {
        method: 'POST',
        url,
        remoteAddress: ip,
        headers: FORM,
        payload: `document=${document}&channel=sms`,
      });
    for (let i = 16; i <= 30; i += 1) {
      const response = await page('/olvide-mi-contrasena', `52000${i}`);
      assert.equal(response.statusCode, 200, `request ${i}`);
    }

    const refused = await page('/olvide-mi-contrasena', '5209999');
    assert.equal(refused.statusCode, 429);
    assert.equal(retryAfter(refused), 45 * 60);
    assert.match(String(refused.headers['content-type']), /^text\/html/);
    assert.ok(refused.body.includes(`${TOO_MANY} Espere 45 minutos y vuelva a intentar.`));
    assert.match(refused.body, /<form method="post" action="\/olvide-mi-contrasena"/);
    assert.match(
      refused.body,
      /name="document"[^>]*value="5209999"|value="5209999"[^>]*name="document"/,
    );
    assert.match(refused.body, /name="channel" value="sms" checked/);

    const registration = await page('/registro', '5209999');
    assert.equal(registration.statusCode, 429);
    assert.match(registration.body, /<form method="post" action="\/registro"/);
    assert.ok(registration.body.includes('Espere 45 minutos'));
  });

  it('counts a whole IPv6 /64 as one address', async () => {
    t.clock.advanceMinutes(60);
    for (let i = 1; i <= 30; i += 1) {
      const ip = i % 2 === 0 ? '2001:db8:5:6::1' : '2001:db8:5:6:aaaa:bbbb:cccc:dddd';
      assert.equal((await apiPasswordRequest(t.app, `53000${i}`, 'email', ip)).statusCode, 202);
    }
    const refused = await apiPasswordRequest(t.app, '5300099', 'email', '2001:db8:5:6::99');
    assert.equal(refused.statusCode, 429);
    const apart = await apiPasswordRequest(t.app, '5300099', 'email', '2001:db8:5:7::1');
    assert.equal(apart.statusCode, 202);
  });

  it('counts wrong SMS codes in a budget of their own: code guessing over many documents stops at 30, and the neighbours can still ask', async () => {
    t.clock.advanceMinutes(60);
    const ip = '203.0.113.77';
    const guess = (document: string) =>
      send(t.app, {
        method: 'POST',
        url: '/api/v1/password-requests/verify',
        remoteAddress: ip,
        payload: { document, code: '123456' },
      });
    for (let i = 0; i < 30; i += 1) {
      const response = await guess(`54000${String(i).padStart(2, '0')}`);
      assert.equal(response.statusCode, 400, `guess ${i + 1}: ${response.body}`);
      assert.equal(response.json().error.code, 'CODE_INVALID');
    }
    const refused = await guess('5400099');
    assert.equal(refused.statusCode, 429);
    assert.equal(refused.json().error.code, 'REQUESTS_THROTTLED');
    assert.ok(retryAfter(refused) > 0);
    // Junk codes need no CAPTCHA: they do not spend the requests the address's members share.
    assert.equal((await apiPasswordRequest(t.app, '5400100', 'email', ip)).statusCode, 202);
  });
});

describe(`a refused password request spends no CAPTCHA (${databaseLabel})`, () => {
  it('refuses a full address before the CAPTCHA is checked, so the same solution is accepted afterwards', async () => {
    const clock = new FakeClock();
    const env = { PASSWORD_REQUESTS_PER_ADDRESS: '2/1m', ALTCHA_COST: '1' };
    const plain = await buildTestApp({ database, clock, env });
    const guarded = await buildTestApp({
      database,
      clock,
      env: { ...env, CAPTCHA_PROVIDER: 'altcha' },
    });
    try {
      const ip = '203.0.113.91';
      // Two requests from the address (no CAPTCHA on this instance) fill its budget.
      for (const document of ['5600001', '5600002'])
        assert.equal((await apiPasswordRequest(plain.app, document, 'email', ip)).statusCode, 202);
      const solution = await solveAltcha(guarded.app);
      const ask = () =>
        send(guarded.app, {
          method: 'POST',
          url: '/api/v1/password-requests',
          remoteAddress: ip,
          payload: { document: '5600003', channel: 'email', captcha: solution },
        });
      assert.equal((await ask()).statusCode, 429);
      // The refusal did not use the solution: in the next window it is accepted, once.
      clock.advance(60_000);
      assert.equal((await ask()).statusCode, 202);
      assert.equal((await ask()).json().error.code, 'CAPTCHA_FAILED');
    } finally {
      await plain.close();
      await guarded.close();
    }
  });

  it('without a CAPTCHA, refuses past the budget all the same (no look before the count)', async () => {
    const t = await buildTestApp({ database, env: { PASSWORD_REQUESTS_PER_ADDRESS: '2/1h' } });
    try {
      const ip = '203.0.113.92';
      const answers = [];
      for (const document of ['5700001', '5700002', '5700003', '5700004'])
        answers.push((await apiPasswordRequest(t.app, document, 'email', ip)).statusCode);
      assert.deepEqual(answers, [202, 202, 429, 429]);
      const throttled = await t.db
        .selectFrom('audit_events')
        .select('detail')
        .where('type', '=', 'throttled')
        .where('ip', '=', ip)
        .execute();
      assert.equal(throttled.length, 2, 'each refusal audited');
    } finally {
      await t.close();
    }
  });
});

describe(`links always start with PUBLIC_URL (${databaseLabel})`, () => {
  let rig: DeliveryRig;
  const PUBLIC_URL = 'https://portal.example.org';

  before(async () => {
    // Behind a trusted proxy Fastify would believe X-Forwarded-Host: the link must not.
    rig = await buildDeliveryRig({
      database,
      env: { PUBLIC_URL, TRUSTED_PROXIES: '127.0.0.1/32', ...DEFAULT_ADDRESS_LIMITS },
    });
  });
  after(async () => {
    await rig.close();
  });

  const forged = {
    host: 'evil.example',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-proto': 'http',
    'x-forwarded-for': '203.0.113.70',
  };

  it('mails a link on PUBLIC_URL to a request with a forged Host and X-Forwarded-Host (API)', async () => {
    const member = await createMember(rig.db);
    const response = await apiPasswordRequest(
      rig.app,
      member.document,
      'email',
      '127.0.0.1',
      forged,
    );
    assert.equal(response.statusCode, 202);
    await rig.deliver();
    const mail = rig.smtp.to(member.email as string).at(-1);
    assert.ok(mail, 'the email arrived');
    const link = linkIn(mail);
    assert.ok(link.startsWith(`${PUBLIC_URL}/cambiar-contrasena?token=`), link);
    assert.ok(!mail.raw.includes('evil.example'), 'the forged host appears nowhere in the email');
    assert.ok(!String(mail.parsed.html).includes('evil.example'));
  });

  it('mails a link on PUBLIC_URL to a request with a forged Host and X-Forwarded-Host (page)', async () => {
    const member = await createMember(rig.db);
    const response = await send(rig.app, {
      method: 'POST',
      url: '/olvide-mi-contrasena',
      headers: { ...FORM, ...forged },
      payload: `document=${member.document}&channel=email`,
    });
    assert.equal(response.statusCode, 200);
    await rig.deliver();
    const mail = rig.smtp.to(member.email as string).at(-1);
    assert.ok(mail, 'the email arrived');
    assert.ok(linkIn(mail).startsWith(`${PUBLIC_URL}/cambiar-contrasena?token=`), linkIn(mail));
    assert.ok(!mail.raw.includes('evil.example'));
  });
});
