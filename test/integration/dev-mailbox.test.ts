// The dev mailbox (SPEC §4): outside production and without SMTP_URL /
// SMS_WEBHOOK_URL, the dispatcher's DevMailboxChannel keeps every email and
// SMS, and /dev/mailbox shows them so the whole journey works on one machine.
// In production the route does not exist.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DevMailboxChannel } from '../../src/courier/channels/dev-mailbox.ts';
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
});
