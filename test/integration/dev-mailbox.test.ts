// The dev mailbox (SPEC §4): outside production and without SMTP_URL /
// SMS_WEBHOOK_URL, the dispatcher's DevMailboxChannel keeps every email and
// SMS, and /dev/mailbox shows them so the whole journey works on one machine.
// In production the route does not exist.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DevMailboxChannel, forgetDevMailbox } from '../../src/courier/channels/dev-mailbox.ts';
import { Dispatcher } from '../../src/courier/dispatcher.ts';
import {
  buildTestApp,
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  TEST_SECRET,
  type TestApp,
  type TestDatabase,
  testConfig,
} from '../helper.ts';
import { CapturedLog } from '../support/delivery.ts';
import { logIn, requestPassword } from '../support/recovery.ts';
import { codeIn } from '../support/sms-gateway.ts';

const PRODUCTION = {
  NODE_ENV: 'production',
  APP_SECRET: 'production-secret-production-secret-0123',
  PUBLIC_URL: 'https://portal.example.org',
  SMTP_URL: 'smtp://127.0.0.1:2525',
  SMS_WEBHOOK_URL: 'https://sms.example.org/send',
  CAPTCHA_PROVIDER: 'altcha',
};

/** Keeps a message in the dev mailbox as its channel would; answers its id. */
async function keepInMailbox(
  t: TestApp,
  message: { channel: 'email' | 'sms'; recipient: string; text: string; subject?: string },
): Promise<string> {
  const row = await t.db
    .insertInto('dev_mailbox')
    .values({
      channel: message.channel,
      recipient: message.recipient,
      subject: message.subject ?? null,
      text_body: message.text,
      html_body: message.channel === 'email' ? `<p>${message.text}</p>` : null,
      created_at: t.clock.now(),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

describe(`the dev mailbox (${databaseLabel})`, () => {
  let database: TestDatabase;
  let t: TestApp;
  let dispatcher: Dispatcher;

  before(async () => {
    database = await createTestDatabase();
    const clock = new FakeClock();
    const mailbox = new DevMailboxChannel(database.db, clock);
    dispatcher = new Dispatcher({
      db: database.db,
      clock,
      secret: TEST_SECRET,
      channels: { email: mailbox, sms: mailbox },
      log: new CapturedLog(),
    });
    t = await buildTestApp({ database, clock, courier: dispatcher });
  });
  after(async () => {
    await dispatcher.stop();
    await t.close();
    await database.close();
  });

  it('is on by default in tests without SMTP_URL, and lists the email with its link and the SMS with its code', async () => {
    assert.equal(t.deps.config.devMailbox, true);
    const member = await createMember(t.db, { email: 'buzon@example.org', mobile: '+59899555111' });
    // SMS first: the newer email link is the one that stays valid.
    assert.equal((await requestPassword(t, member.document, 'sms')).statusCode, 202);
    const empty = await t.app.inject({ method: 'GET', url: '/dev/mailbox' });
    assert.match(empty.body, /Todavía no se envió ningún mensaje/);

    // Each is delivered before the next request: a newer request retires the
    // older code, and a retired code is never sent.
    assert.equal(await dispatcher.runOnce(), 1);
    assert.equal((await requestPassword(t, member.document, 'email')).statusCode, 202);
    assert.equal(await dispatcher.runOnce(), 1);
    const page = await t.app.inject({ method: 'GET', url: '/dev/mailbox' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /Solicitud nueva contraseña/);
    assert.match(page.body, /buzon@example\.org/);

    const link =
      /href="(http:\/\/localhost:3000\/cambiar-contrasena\?token=[A-Za-z0-9_-]{43})"/.exec(
        page.body,
      )?.[1];
    assert.ok(link, 'the link is clickable in the list');
    const sms = /<pre class="sms">([^<]*)<\/pre>/.exec(page.body)?.[1];
    assert.ok(sms, 'the SMS is listed');
    const stored = await t.db
      .selectFrom('dev_mailbox')
      .select('text_body')
      .where('channel', '=', 'sms')
      .executeTakeFirstOrThrow();
    assert.equal(codeIn({ body: sms }), codeIn({ body: stored.text_body }));

    // The link from the mailbox works like the emailed one.
    const opened = await t.app.inject({
      method: 'GET',
      url: new URL(link).pathname + new URL(link).search,
    });
    assert.equal(opened.statusCode, 303);
    const done = await t.app.inject({
      method: 'POST',
      url: '/cambiar-contrasena',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieFrom(opened) },
      payload: 'password=buzon2027&passwordConfirmation=buzon2027',
    });
    assert.match(done.body, /Contraseña modificada correctamente/);
    assert.equal((await logIn(t, member.document, 'buzon2027')).statusCode, 200);
  });

  it('renders an email as HTML, under a policy that allows no scripts', async () => {
    const email = await t.db
      .selectFrom('dev_mailbox')
      .select(['id', 'html_body'])
      .where('channel', '=', 'email')
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const response = await t.app.inject({ method: 'GET', url: `/dev/mailbox/${email.id}` });
    assert.equal(response.statusCode, 200);
    assert.match(String(response.headers['content-type']), /^text\/html/);
    assert.equal(response.body, email.html_body);
    assert.match(response.body, /Estimado\/a Afiliado\/a/);
    assert.match(String(response.headers['content-security-policy']), /default-src 'none'/);

    const missing = await t.app.inject({ method: 'GET', url: '/dev/mailbox/999999' });
    assert.equal(missing.statusCode, 404);
    const bad = await t.app.inject({ method: 'GET', url: '/dev/mailbox/abc' });
    assert.equal(bad.statusCode, 400);
  });

  it('does not exist with a production configuration', async () => {
    const production = await buildTestApp({ database, env: PRODUCTION });
    try {
      assert.equal(production.deps.config.devMailbox, false);
      for (const url of ['/dev/mailbox', '/dev/mailbox/1']) {
        const response = await production.app.inject({ method: 'GET', url });
        assert.equal(response.statusCode, 404, url);
        assert.doesNotMatch(response.body, /Buzón de desarrollo|Estimado/);
      }
    } finally {
      await production.close();
    }
  });

  it('is off outside production too once both SMTP_URL and SMS_WEBHOOK_URL are set', async () => {
    const configured = await buildTestApp({
      database,
      env: { SMTP_URL: PRODUCTION.SMTP_URL, SMS_WEBHOOK_URL: PRODUCTION.SMS_WEBHOOK_URL },
    });
    try {
      assert.equal(configured.deps.config.devMailbox, false);
      const response = await configured.app.inject({ method: 'GET', url: '/dev/mailbox' });
      assert.equal(response.statusCode, 404);
    } finally {
      await configured.close();
    }
  });

  it('answers 404 to a client through a proxy, even a trusted one on loopback', async () => {
    const proxied = await buildTestApp({ database, env: { TRUSTED_PROXIES: '127.0.0.1' } });
    try {
      const id = await keepInMailbox(proxied, {
        channel: 'sms',
        recipient: '+59899000111',
        text: 'Su código es 481516',
      });
      const through = [
        { 'x-forwarded-for': '203.0.113.5' },
        { forwarded: 'for=203.0.113.5;proto=https' },
        { 'x-real-ip': '203.0.113.5' },
      ];
      for (const url of ['/dev/mailbox', `/dev/mailbox/${id}`]) {
        for (const headers of through) {
          const response = await proxied.app.inject({
            method: 'GET',
            url,
            remoteAddress: '127.0.0.1',
            headers,
          });
          const label = `${url} ${Object.keys(headers)[0]}`;
          assert.equal(response.statusCode, 404, label);
          assert.doesNotMatch(response.body, /481516|Buzón de desarrollo/, label);
        }
        const remote = await proxied.app.inject({
          method: 'GET',
          url,
          remoteAddress: '203.0.113.5',
        });
        assert.equal(remote.statusCode, 404, `${url} from 203.0.113.5`);
        assert.doesNotMatch(remote.body, /481516|Buzón de desarrollo/);
      }

      // The same browser on this machine, talking to us directly, sees it.
      const direct = await proxied.app.inject({
        method: 'GET',
        url: '/dev/mailbox',
        remoteAddress: '127.0.0.1',
      });
      assert.equal(direct.statusCode, 200);
      assert.match(direct.body, /Su código es 481516/);
    } finally {
      await proxied.close();
    }
  });

  it('shows only the channel without a real transport', async () => {
    const withSmtp = await buildTestApp({ database, env: { SMTP_URL: 'smtp://127.0.0.1:9' } });
    try {
      assert.deepEqual(withSmtp.deps.config.devMailboxChannels, ['sms']);
      const emailId = await keepInMailbox(withSmtp, {
        channel: 'email',
        recipient: 'solo-smtp@example.org',
        subject: 'Enviado por SMTP',
        text: 'Un email que salió por SMTP',
      });
      const smsId = await keepInMailbox(withSmtp, {
        channel: 'sms',
        recipient: '+59899000222',
        text: 'Su código es 271828',
      });

      const list = await withSmtp.app.inject({ method: 'GET', url: '/dev/mailbox' });
      assert.equal(list.statusCode, 200);
      assert.match(list.body, /Su código es 271828/);
      assert.doesNotMatch(list.body, /solo-smtp@example\.org|Enviado por SMTP/);
      assert.doesNotMatch(list.body, /Solicitud nueva contraseña/, 'no email at all');

      const email = await withSmtp.app.inject({ method: 'GET', url: `/dev/mailbox/${emailId}` });
      assert.equal(email.statusCode, 404);
      assert.doesNotMatch(email.body, /salió por SMTP/);
      const sms = await withSmtp.app.inject({ method: 'GET', url: `/dev/mailbox/${smsId}` });
      assert.equal(sms.statusCode, 200);
    } finally {
      await withSmtp.close();
    }
  });

  it('does not exist with an https PUBLIC_URL', async () => {
    const https = { NODE_ENV: 'development', PUBLIC_URL: 'https://dev.example.org' };
    const onHttps = await buildTestApp({ database, env: https });
    try {
      assert.equal(onHttps.deps.config.env, 'development');
      assert.equal(onHttps.deps.config.devMailbox, false);
      for (const url of ['/dev/mailbox', '/dev/mailbox/1']) {
        const response = await onHttps.app.inject({
          method: 'GET',
          url,
          remoteAddress: '127.0.0.1',
        });
        assert.equal(response.statusCode, 404, url);
        assert.doesNotMatch(response.body, /Buzón de desarrollo|Estimado/);
      }
    } finally {
      await onHttps.close();
    }
    // Asking for it on https is refused, not granted.
    assert.throws(() => testConfig({ ...https, DEV_MAILBOX: 'true' }), /DEV_MAILBOX/);
  });

  it('is emptied when a data folder first run in development starts in production', async () => {
    const dev = await buildTestApp({ database });
    try {
      await keepInMailbox(dev, {
        channel: 'sms',
        recipient: '+59899000333',
        text: 'Código 314159',
      });
      assert.ok((await forgetDevMailbox(dev.db)) >= 1, 'the kept messages are deleted');
      const left = await dev.db.selectFrom('dev_mailbox').select('id').execute();
      assert.deepEqual(left, []);
    } finally {
      await dev.close();
    }
  });
});
