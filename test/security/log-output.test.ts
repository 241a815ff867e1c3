// Attack suite, server output: the app with its real pino logger (the
// production options of src/plugins/logging.ts at debug level) writing to a
// captured stream, the real Dispatcher logging to it too (as server.ts
// wires it), and a member going through login (ok and failed) and recovery
// by email and by SMS. The output must hold no password, no token, no SMS
// code, no full email address, no full phone number and no full client
// address (SPEC §3 "Audit": logs never contain them).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, FastifyServerOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { createCaptcha } from '../../src/captcha/create.ts';
import type { Dispatcher } from '../../src/courier/dispatcher.ts';
import type { AppDeps } from '../../src/deps.ts';
import { loggerOptions } from '../../src/plugins/logging.ts';
import {
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  FAST_HASHER,
  FakeClock,
  TEST_SECRET,
  type TestDatabase,
  testConfig,
  withFormTokens,
} from '../helper.ts';
import { createDispatcher } from '../support/delivery.ts';
import { codeIn, SmsGatewayStub } from '../support/sms-gateway.ts';
import { SmtpStub } from '../support/smtp.ts';
import { DEFAULT_ADDRESS_LIMITS, FORM, send } from './attack.ts';

type LoggerObject = Exclude<FastifyServerOptions['logger'], boolean | undefined>;

const CLIENT = '203.0.113.77';
const EMAIL = 'Lucia.Fernandez.Logs@example.org';
const MOBILE = '+59899777123';
const PASSWORDS = ['clave2026', 'Incorrecta99', 'nueva2026', 'otra2027x', 'Secreta123'];

/** Everything written, as text. */
class Capture extends Writable {
  readonly chunks: string[] = [];
  override _write(chunk: Buffer | string, _encoding: string, callback: () => void): void {
    this.chunks.push(chunk.toString());
    callback();
  }
  get text(): string {
    return this.chunks.join('');
  }
}

/** A 6-digit code as a number of its own (not inside a longer run of digits, e.g. a timestamp). */
function containsCode(text: string, code: string): boolean {
  return new RegExp(`(?<!\\d)${code}(?!\\d)`).test(text);
}

describe(`what the server writes to its log (${databaseLabel})`, () => {
  let database: TestDatabase;
  let app: FastifyInstance;
  let dispatcher: Dispatcher;
  let smtp: SmtpStub;
  let sms: SmsGatewayStub;
  const output = new Capture();
  const consoleLines: string[] = [];
  const secrets: { what: string; value: string }[] = [];
  const restoreConsole: (() => void)[] = [];

  before(async () => {
    database = await createTestDatabase();
    smtp = await SmtpStub.start();
    sms = await SmsGatewayStub.start();
    const clock = new FakeClock();
    const config = testConfig({ ...DEFAULT_ADDRESS_LIMITS, LOG_LEVEL: 'debug' });
    const deps: AppDeps = {
      config,
      db: database.db,
      clock,
      hasher: FAST_HASHER,
      captcha: createCaptcha(config.captcha, { db: database.db, clock, secret: TEST_SECRET }),
      secret: TEST_SECRET,
    };
    const logger = { ...(loggerOptions('debug') as LoggerObject), stream: output };
    app = await buildApp(deps, { logger });
    await app.ready();
    withFormTokens(app, app.parts.background);
    dispatcher = createDispatcher({
      db: database.db,
      clock,
      smtpUrl: smtp.url,
      smsUrl: sms.url,
      log: app.log,
    });
    // Anything printed some other way is server output too.
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      const original = console[level];
      console[level] = (...args: unknown[]) => {
        consoleLines.push(args.map(String).join(' '));
      };
      restoreConsole.push(() => {
        console[level] = original;
      });
    }
  });
  after(async () => {
    for (const restore of restoreConsole) restore();
    await dispatcher.stop();
    await app.close();
    await database.close();
    await smtp.stop();
    await sms.close();
  });

  const inject = (options: Parameters<typeof send>[1]): Promise<LightMyRequestResponse> =>
    send(app, { remoteAddress: CLIENT, ...options });

  it('logs requests and deliveries, but no password, token, code, contact data or full address', async (t) => {
    const member = await createMember(database.db, { email: EMAIL, mobile: MOBILE });

    // Login: API ok and failed, page ok and failed, a broken JSON body with a password in it.
    const apiOk = await inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { document: member.document, password: 'clave2026' },
    });
    assert.equal(apiOk.statusCode, 200);
    const apiToken = (apiOk.json() as { token: string }).token;
    secrets.push({ what: 'API session token', value: apiToken });
    assert.equal(
      (
        await inject({
          method: 'GET',
          url: '/api/v1/me',
          headers: { authorization: `Bearer ${apiToken}` },
        })
      ).statusCode,
      200,
    );
    const apiFailed = await inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { document: member.document, password: 'Incorrecta99' },
    });
    assert.equal(apiFailed.statusCode, 401);
    const broken = await inject({
      method: 'POST',
      url: '/api/v1/login',
      headers: { 'content-type': 'application/json' },
      payload: `{"document":"${member.document}","password":"Secreta123"`,
    });
    assert.equal(broken.statusCode, 400);
    const webOk = await inject({
      method: 'POST',
      url: '/ingresar',
      headers: FORM,
      payload: `document=${member.document}&password=clave2026`,
    });
    assert.equal(webOk.statusCode, 303);
    const sid = /sid=([^;]+)/.exec(cookieFrom(webOk))?.[1];
    assert.ok(sid);
    secrets.push({ what: 'web session id', value: sid });
    assert.equal(
      (await inject({ method: 'GET', url: '/inicio', headers: { cookie: `sid=${sid}` } }))
        .statusCode,
      200,
    );
    const webFailed = await inject({
      method: 'POST',
      url: '/ingresar',
      headers: FORM,
      payload: `document=${member.document}&password=Incorrecta99`,
    });
    assert.equal(webFailed.statusCode, 401);

    // Recovery by email, on the pages: the link is opened and the new password set.
    const asked = await inject({
      method: 'POST',
      url: '/olvide-mi-contrasena',
      headers: FORM,
      payload: `document=${member.document}&channel=email`,
    });
    assert.equal(asked.statusCode, 200);
    await dispatcher.runOnce();
    const mail = smtp.to(EMAIL).at(-1);
    assert.ok(mail, 'the email arrived');
    const link = new URL(/https?:\/\/\S+/.exec(mail.parsed.text ?? '')?.[0] ?? '');
    const linkToken = link.searchParams.get('token');
    assert.ok(linkToken);
    secrets.push({ what: 'emailed link token', value: linkToken });
    const opened = await inject({ method: 'GET', url: `${link.pathname}${link.search}` });
    assert.equal(opened.statusCode, 303);
    const pwCookie = cookieFrom(opened);
    const form = await inject({
      method: 'GET',
      url: '/cambiar-contrasena',
      headers: { cookie: pwCookie },
    });
    assert.equal(form.statusCode, 200);
    const changed = await inject({
      method: 'POST',
      url: '/cambiar-contrasena',
      headers: { ...FORM, cookie: pwCookie },
      payload: 'password=nueva2026&passwordConfirmation=nueva2026',
    });
    assert.equal(changed.statusCode, 200);

    // Recovery by SMS, through the API: a wrong code, the right one, the new password.
    const bySms = await inject({
      method: 'POST',
      url: '/api/v1/password-requests',
      payload: { document: member.document, channel: 'sms' },
    });
    assert.equal(bySms.statusCode, 202);
    await dispatcher.runOnce();
    const text = sms.to(MOBILE).at(-1);
    assert.ok(text, 'the SMS arrived');
    const code = codeIn(text);
    secrets.push({ what: 'SMS code', value: code });
    const wrong = await inject({
      method: 'POST',
      url: '/api/v1/password-requests/verify',
      payload: { document: member.document, code: code === '000000' ? '111111' : '000000' },
    });
    assert.equal(wrong.statusCode, 400);
    const verified = await inject({
      method: 'POST',
      url: '/api/v1/password-requests/verify',
      payload: { document: member.document, code },
    });
    assert.equal(verified.statusCode, 200);
    const setToken = (verified.json() as { token: string }).token;
    secrets.push({ what: 'set-password token', value: setToken });
    const set = await inject({
      method: 'POST',
      url: '/api/v1/password',
      payload: { token: setToken, password: 'otra2027x', passwordConfirmation: 'otra2027x' },
    });
    assert.equal(set.statusCode, 200, set.body);
    await dispatcher.runOnce();
    const relogin = await inject({
      method: 'POST',
      url: '/api/v1/login',
      payload: { document: member.document, password: 'otra2027x' },
    });
    assert.equal(relogin.statusCode, 200);
    secrets.push({ what: 'second API session token', value: relogin.json().token });

    // The logger did write: every request, the deliveries, at debug level.
    const log = output.text;
    const lines = log.trim().split('\n');
    t.diagnostic(`${lines.length} log lines captured, ${log.length} characters`);
    for (const line of lines) JSON.parse(line);
    // One access line per request: method, path, masked address, status, time.
    assert.ok(!log.includes('"msg":"incoming request"'));
    const access = lines
      .map((line) => JSON.parse(line))
      .filter((e) => e.msg === 'request completed');
    assert.ok(access.length >= 8, `${access.length} access lines`);
    for (const entry of access) {
      assert.equal(typeof entry.req?.url, 'string');
      assert.equal(typeof entry.res?.statusCode, 'number');
      assert.equal(typeof entry.responseTime, 'number');
    }
    assert.ok(log.includes('"msg":"outbox message delivered"'));
    assert.ok(log.includes('"url":"/cambiar-contrasena"'), 'the link was logged without its query');
    assert.ok(log.includes('203.0.113.x'), 'the client address is logged masked');

    const everything = `${log}\n${consoleLines.join('\n')}`;
    for (const password of PASSWORDS)
      assert.ok(!everything.includes(password), `a password is in the log: ${password}`);
    for (const { what, value } of secrets) {
      const found =
        what === 'SMS code' ? containsCode(everything, value) : everything.includes(value);
      assert.ok(!found, `the ${what} is in the log`);
    }
    const lower = everything.toLowerCase();
    assert.ok(!lower.includes(EMAIL.toLowerCase()), 'the email address is in the log');
    assert.ok(!lower.includes(encodeURIComponent(EMAIL).toLowerCase()));
    assert.ok(!everything.includes(MOBILE), 'the phone number is in the log');
    assert.ok(!containsCode(everything, MOBILE.slice(1)), 'the phone number is in the log');
    assert.ok(!everything.includes('099777123'), 'the phone number is in the log');
    assert.ok(!everything.includes(CLIENT), 'the full client address is in the log');
  });
});
