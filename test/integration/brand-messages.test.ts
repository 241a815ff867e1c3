// Another provider's brand (BRAND_* settings) in the messages members really
// receive: the app is built with the brand, the outbox dispatcher delivers
// over SMTP to an in-process server (with the sender config.ts makes when
// MAIL_FROM is unset, as server.ts wires it) and to an SMS gateway stub, and
// the test reads what arrived. The brand's words also join the password
// policy's service words.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPasswordPolicy } from '../../src/auth/password-policy.ts';
import { createSession } from '../../src/auth/sessions.ts';
import { SmsWebhookChannel } from '../../src/courier/channels/sms-webhook.ts';
import { SmtpChannel } from '../../src/courier/channels/smtp.ts';
import { Dispatcher } from '../../src/courier/dispatcher.ts';
import type { Member } from '../../src/db/schema.ts';
import type { RequestContext } from '../../src/flows/context.ts';
import {
  confirmContactByCode,
  confirmContactByLink,
  type MemberAuth,
  requestContactChange,
} from '../../src/flows/settings/service.ts';
import { errors } from '../../src/messages/es.ts';
import {
  buildTestApp,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  TEST_SECRET,
  type TestDatabase,
  testConfig,
} from '../helper.ts';
import { CapturedLog, type DeliveryRig } from '../support/delivery.ts';
import { emailedLink, setPassword, textedCode, tokenIn } from '../support/recovery.ts';
import { codeIn, SmsGatewayStub } from '../support/sms-gateway.ts';
import { type ReceivedMail, SmtpStub } from '../support/smtp.ts';

/** Another provider; MAIL_FROM and PASSWORD_SERVICE_WORDS left unset. */
const BRAND_ENV = {
  BRAND_NAME: 'Mutualista del Ejemplo',
  BRAND_PRIMARY_COLOR: '#0b5394',
  BRAND_CALL_CENTER: '0800 1234',
  PUBLIC_URL: 'https://portal.example.org',
};

/** What must not reach a member once another brand is configured. */
const DEFAULT_TRACES = ['Autogestión', 'Autogestion', '#a0102e', '#7a0c23', ' 144', 'tel:144'];

const WEB: RequestContext = {
  channel: 'web',
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0',
  deviceToken: null,
};

/** Both parts of a received email name the brand and its call centre, and nothing of the default. */
function assertBranded(mail: ReceivedMail): void {
  const text = mail.parsed.text ?? '';
  const htmlPart = typeof mail.parsed.html === 'string' ? mail.parsed.html : '';
  assert.ok(text.length > 0 && htmlPart.length > 0, 'a text part and an HTML part');
  for (const [name, part] of [
    ['text', text],
    ['html', htmlPart],
  ] as const) {
    assert.ok(part.includes('Atentamente, Mutualista del Ejemplo'), `${name} part: signature`);
    assert.ok(part.includes('CALL CENTER 0800 1234'), `${name} part: call centre`);
    for (const trace of DEFAULT_TRACES)
      assert.ok(!part.includes(trace), `${name} part still carries «${trace}»`);
  }
  assert.ok(
    htmlPart.includes('background:#0b5394;color:#ffffff;'),
    "the header band in the brand's colour",
  );
  assert.ok(htmlPart.includes('Mutualista del Ejemplo · Portal del Socio'), 'the header names it');
  assert.ok(htmlPart.includes('href="tel:08001234"'), "the brand's tel: link");
  assert.deepEqual(
    mail.parsed.from?.value,
    [{ address: 'no-reply@localhost', name: 'Mutualista del Ejemplo' }],
    "the sender's display name is the brand's",
  );
}

describe(`messages with another brand (${databaseLabel})`, () => {
  let rig: DeliveryRig;
  let database: TestDatabase;

  before(async () => {
    database = await createTestDatabase();
    const smtp = await SmtpStub.start();
    const sms = await SmsGatewayStub.start();
    const clock = new FakeClock();
    const config = testConfig(BRAND_ENV);
    const log = new CapturedLog();
    // As server.ts builds the courier: the sender is config.mailFrom.
    const dispatcher = new Dispatcher({
      db: database.db,
      clock,
      secret: TEST_SECRET,
      channels: {
        email: new SmtpChannel(smtp.url, config.mailFrom),
        sms: new SmsWebhookChannel(sms.url, 2000),
      },
      log,
    });
    const t = await buildTestApp({ env: BRAND_ENV, database, clock, courier: dispatcher });
    rig = {
      ...t,
      smtp,
      sms,
      dispatcher,
      log,
      deliver: () => dispatcher.runOnce(),
      send: (request) => t.app.inject(request),
      close: async () => {
        await dispatcher.stop();
        await t.close();
        await smtp.stop();
        await sms.close();
      },
    };
  });
  after(async () => {
    await rig.close();
    await database.close();
  });

  /** A session for the member, as a login would open it. */
  async function authOf(member: Member): Promise<MemberAuth> {
    const { session } = await createSession(
      rig.db,
      rig.clock,
      rig.deps.flow.sessionPolicy,
      member.id,
      { kind: 'web', ip: WEB.ip, userAgent: WEB.userAgent },
    );
    return { member, session };
  }

  it('delivers «Solicitud nueva contraseña» with the brand’s name, colour and call centre, from the brand’s name', async () => {
    const member = await createMember(rig.db, { email: 'lucia.fernandez@example.org' });
    const mail = await emailedLink(rig, member);
    assert.equal(mail.parsed.subject, 'Solicitud nueva contraseña');
    assert.equal(mail.envelope.from, 'no-reply@localhost');
    assertBranded(mail);
    const htmlPart = String(mail.parsed.html);
    assert.match(
      htmlPart,
      /<a href="https:\/\/portal\.example\.org\/[^"]+" style="display:inline-block;background:#0b5394;/,
    );
    assert.match(htmlPart, /no tome en cuenta este correo/);
  });

  it('refuses through the API a new password holding a word of the brand, then notifies the change under the brand', async () => {
    const member = await createMember(rig.db);
    const token = tokenIn(await emailedLink(rig, member));

    const refused = await setPassword(rig, token, 'Ejemplo9x7');
    assert.equal(refused.statusCode, 400, refused.body);
    const { error } = refused.json();
    assert.equal(error.code, 'PASSWORD_REJECTED');
    assert.deepEqual(error.fields, { password: errors.PASSWORD_IS_SERVICE_WORD });

    const accepted = await setPassword(rig, token, 'Lirio9x7qz');
    assert.equal(accepted.statusCode, 200, accepted.body);
    await rig.deliver();
    const notice = rig.smtp.to(member.email as string).at(-1);
    assert.ok(notice);
    assert.equal(notice.parsed.subject, 'Su contraseña fue modificada');
    assertBranded(notice);
  });

  it('adds the brand’s words to the default service words when PASSWORD_SERVICE_WORDS is unset', () => {
    const check = (env: Record<string, string>, password: string) => {
      const config = testConfig(env);
      const policy = createPasswordPolicy(config.passwordPolicy, config.passwordServiceWords);
      return policy.check({ password, confirmation: password, context: [] });
    };
    const asvs = { ...BRAND_ENV, PASSWORD_POLICY: 'asvs' };
    const cases: [Record<string, string>, string][] = [
      [BRAND_ENV, 'Ejemplo9x7'],
      [BRAND_ENV, 'ejemplo4U'],
      [asvs, 'Mi MUTUALISTA verde 27'],
      [asvs, 'mutualistadelejemplo!'],
    ];
    for (const [env, password] of cases)
      assert.deepEqual(
        check(env, password),
        { password: errors.PASSWORD_IS_SERVICE_WORD },
        password,
      );
    // The default words stay, and the same password is fine for the default brand.
    assert.deepEqual(check(BRAND_ENV, 'socio2027'), { password: errors.PASSWORD_IS_SERVICE_WORD });
    assert.deepEqual(check({}, 'Ejemplo9x7'), {});
    // A list that is set is taken as it is.
    assert.deepEqual(
      check({ ...BRAND_ENV, PASSWORD_SERVICE_WORDS: 'otra,palabra' }, 'Ejemplo9x7'),
      {},
    );
  });

  it('texts the recovery code under the brand’s SMS name', async () => {
    const member = await createMember(rig.db, { mobile: '+59899111333' });
    const code = await textedCode(rig, member);
    const sms = rig.sms.to('+59899111333').at(-1);
    assert.ok(sms);
    assert.equal(codeIn(sms), code);
    assert.ok(sms.body.startsWith('Mutualista del Ejemplo: su codigo es '), sms.body);
    for (const trace of DEFAULT_TRACES) assert.ok(!sms.body.includes(trace), sms.body);
  });

  it('sends the member home’s contact emails under the brand: the link to the new address and the notice to the old one', async () => {
    const member = await createMember(rig.db, { email: 'ana.vieja@example.org' });
    const auth = await authOf(member);
    await requestContactChange(
      rig.deps.flow,
      auth,
      { kind: 'email', value: 'ana.nueva@example.org', currentPassword: 'clave2026' },
      WEB,
    );
    await rig.deliver();
    const proof = rig.smtp.to('ana.nueva@example.org').at(-1);
    assert.ok(proof);
    assert.equal(proof.parsed.subject, 'Confirme su nuevo email');
    assertBranded(proof);

    await confirmContactByLink(rig.deps.flow, tokenIn(proof), WEB);
    await rig.deliver();
    const notice = rig.smtp.to('ana.vieja@example.org').at(-1);
    assert.ok(notice);
    assert.equal(notice.parsed.subject, 'Sus datos de contacto fueron modificados');
    assertBranded(notice);
  });

  it('texts the member home’s mobile proof and the old number’s notice under the brand, with its call centre', async () => {
    const member = await createMember(rig.db, { mobile: '+59899111444' });
    const auth = await authOf(member);
    await requestContactChange(
      rig.deps.flow,
      auth,
      { kind: 'mobile', value: '+59899111555', currentPassword: 'clave2026' },
      WEB,
    );
    await rig.deliver();
    const proof = rig.sms.to('+59899111555').at(-1);
    assert.ok(proof);
    assert.ok(
      proof.body.startsWith('Mutualista del Ejemplo: su codigo para confirmar'),
      proof.body,
    );

    await confirmContactByCode(rig.deps.flow, auth, { kind: 'mobile', code: codeIn(proof) }, WEB);
    await rig.deliver();
    const notice = rig.sms.to('+59899111444').at(-1);
    assert.ok(notice);
    assert.equal(
      notice.body,
      'Mutualista del Ejemplo: los datos de contacto de su cuenta fueron modificados. Si no fue usted, llame al 0800 1234.',
    );
  });
});
