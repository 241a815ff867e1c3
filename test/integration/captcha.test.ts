// The CAPTCHA ("No soy un robot") on login: the self-hosted ALTCHA proof of
// work, and the hosted reCAPTCHA, hCaptcha and Turnstile against a local
// stand-in for their verify endpoints: a hosted answer counts only when it
// was solved on our hostname, recently and (Turnstile) on one of our forms.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Clock } from '../../src/auth/clock.ts';
import { createCaptcha } from '../../src/captcha/create.ts';
import { CAPTCHA_ACTIONS } from '../../src/captcha/hosted.ts';
import { changePasswordPage } from '../../src/views/pages/change-password.ts';
import { RECOVERY_PATHS } from '../../src/views/pages/recovery.ts';
import {
  buildTestApp,
  cookieFrom,
  createMember,
  createTestDatabase,
  databaseLabel,
  FakeClock,
  solveAltcha,
  TEST_SECRET,
  type TestApp,
  type TestDatabase,
  testConfig,
} from '../helper.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

function logIn(app: FastifyInstance, document: string, captcha?: string) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/login',
    payload: { document, password: 'clave2026', ...(captcha === undefined ? {} : { captcha }) },
  });
}

/** Decodes an ALTCHA payload, lets `change` alter it, and encodes it again. */
function tamper(payload: string, change: (decoded: AltchaPayload) => void): string {
  const decoded = JSON.parse(Buffer.from(payload, 'base64').toString('utf8')) as AltchaPayload;
  change(decoded);
  return Buffer.from(JSON.stringify(decoded)).toString('base64');
}

interface AltchaPayload {
  challenge: { parameters: { data: { exp: number }; cost: number }; signature: string };
  solution: { counter: number; derivedKey: string };
}

// One database for the whole file (opening one costs seconds); every app
// below is built on it, as instances of one deployment would be.
let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.close());

describe(`ALTCHA on login (${databaseLabel})`, () => {
  let t: TestApp;
  let document: string;

  before(async () => {
    t = await buildTestApp({ database, env: { CAPTCHA_PROVIDER: 'altcha', ALTCHA_COST: '10' } });
    document = (await createMember(t.db)).document;
  });
  after(() => t.close());

  it('hands out a signed challenge that expires in 10 minutes and is never cached', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/captcha' });
    assert.equal(response.statusCode, 200);
    assert.equal(response.headers['cache-control'], 'no-store');
    const challenge = response.json();
    assert.equal(challenge.parameters.algorithm, 'PBKDF2/SHA-256');
    assert.equal(challenge.parameters.cost, 10);
    assert.equal(challenge.parameters.data.exp, t.clock.now().getTime() / 1000 + 600);
    assert.match(challenge.signature, /^[0-9a-f]{64}$/);
    const second = (await t.app.inject({ method: 'GET', url: '/api/v1/captcha' })).json();
    assert.notEqual(second.parameters.nonce, challenge.parameters.nonce);
  });

  it('asks for the CAPTCHA when the login has none', async () => {
    for (const captcha of [undefined, '']) {
      const response = await logIn(t.app, document, captcha);
      assert.equal(response.statusCode, 400);
      const { error } = response.json();
      assert.equal(error.code, 'CAPTCHA_REQUIRED');
      assert.equal(error.fields.captcha, 'Marque la casilla «No soy un robot» para continuar.');
    }
  });

  it('accepts a solved challenge once and refuses it the second time', async () => {
    const payload = await solveAltcha(t.app);
    assert.equal((await logIn(t.app, document, payload)).statusCode, 200);
    const replay = await logIn(t.app, document, payload);
    assert.equal(replay.statusCode, 400);
    assert.equal(replay.json().error.code, 'CAPTCHA_FAILED');
  });

  it('refuses a replay on another instance sharing the database', async () => {
    const other = await buildTestApp({
      database,
      env: { CAPTCHA_PROVIDER: 'altcha', ALTCHA_COST: '10' },
    });
    try {
      // A challenge from one instance is good on the other (same secret)...
      const fromFirst = await solveAltcha(t.app);
      assert.equal((await logIn(other.app, document, fromFirst)).statusCode, 200);
      // ...once: neither instance takes it again.
      assert.equal((await logIn(t.app, document, fromFirst)).json().error?.code, 'CAPTCHA_FAILED');
      assert.equal((await logIn(other.app, document, fromFirst)).statusCode, 400);

      const payload = await solveAltcha(t.app);
      assert.equal((await logIn(t.app, document, payload)).statusCode, 200);
      const replay = await logIn(other.app, document, payload);
      assert.equal(replay.statusCode, 400);
      assert.equal(replay.json().error.code, 'CAPTCHA_FAILED');
    } finally {
      await other.close();
    }
  });

  it('refuses a payload whose expiry, counter, key or cost was changed', async () => {
    const payload = await solveAltcha(t.app);
    const tampered = [
      tamper(payload, (p) => {
        p.challenge.parameters.data.exp += 3600;
      }),
      tamper(payload, (p) => {
        p.solution.counter += 1;
      }),
      tamper(payload, (p) => {
        p.solution.derivedKey = `${p.solution.derivedKey.slice(0, -1)}${p.solution.derivedKey.endsWith('0') ? '1' : '0'}`;
      }),
      tamper(payload, (p) => {
        p.challenge.parameters.cost = 1;
      }),
      tamper(payload, (p) => {
        p.challenge.signature = p.challenge.signature.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
      }),
    ];
    for (const [index, changed] of tampered.entries()) {
      const response = await logIn(t.app, document, changed);
      assert.equal(response.statusCode, 400, `tampering #${index}`);
      assert.equal(response.json().error.code, 'CAPTCHA_FAILED', `tampering #${index}`);
    }
    // The untouched payload was not used up by those attempts.
    assert.equal((await logIn(t.app, document, payload)).statusCode, 200);
  });

  it('refuses a challenge solved more than 10 minutes ago', async () => {
    const payload = await solveAltcha(t.app);
    t.clock.advanceMinutes(11);
    const response = await logIn(t.app, document, payload);
    assert.equal(response.statusCode, 400);
    assert.equal(response.json().error.code, 'CAPTCHA_FAILED');
  });

  it('answers 400, never 500, to garbage', async () => {
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    const garbage = [
      'not base64 at all!!',
      base64('not json'),
      base64('null'),
      base64('42'),
      base64('[]'),
      base64('{}'),
      base64('{"challenge":null,"solution":null,"test":true}'),
      base64('{"challenge":{},"solution":{}}'),
      base64('{"challenge":{"parameters":{}},"solution":{"counter":1,"derivedKey":"00"}}'),
      base64(
        '{"challenge":{"parameters":{"data":{"exp":99999999999}},"signature":"00"},"solution":{"counter":-1,"derivedKey":"zz"}}',
      ),
      'A'.repeat(8000),
    ];
    for (const captcha of garbage) {
      const response = await logIn(t.app, document, captcha);
      assert.equal(response.statusCode, 400, `${captcha.slice(0, 40)}: ${response.body}`);
      assert.equal(response.json().error.code, 'CAPTCHA_FAILED');
    }
  });

  it('takes the solved challenge from the login form as the widget sends it', async () => {
    const payload = await solveAltcha(t.app);
    const response = await t.app.inject({
      method: 'POST',
      url: '/ingresar',
      headers: FORM,
      payload: new URLSearchParams({ document, password: 'clave2026', altcha: payload }).toString(),
    });
    assert.equal(response.statusCode, 303);
    assert.ok(cookieFrom(response));

    const missing = await t.app.inject({
      method: 'POST',
      url: '/ingresar',
      headers: FORM,
      payload: new URLSearchParams({ document, password: 'clave2026' }).toString(),
    });
    assert.equal(missing.statusCode, 400);
    assert.ok(missing.body.includes('Marque la casilla «No soy un robot» para continuar.'));
  });

  it('records a refused CAPTCHA in the audit trail', async () => {
    const before = t.clock.now();
    t.clock.advanceMinutes(1);
    await logIn(t.app, document, 'garbage');
    const rows = await t.db
      .selectFrom('audit_events')
      .select(['type', 'outcome'])
      .where('at', '>', before)
      .execute();
    assert.deepEqual(rows, [{ type: 'captcha_failed', outcome: 'refused' }]);
  });

  it('works at the production cost', async () => {
    const production = await buildTestApp({ database, env: { CAPTCHA_PROVIDER: 'altcha' } });
    try {
      const challenge = (
        await production.app.inject({ method: 'GET', url: '/api/v1/captcha' })
      ).json();
      assert.equal(challenge.parameters.cost, 5000);
      const started = performance.now();
      const payload = await solveAltcha(production.app);
      const seconds = (performance.now() - started) / 1000;
      const response = await logIn(production.app, document, payload);
      assert.equal(response.statusCode, 200, response.body);
      assert.ok(seconds < 30, `solving took ${seconds.toFixed(1)} s`);
    } finally {
      await production.close();
    }
  });

  it('offers no challenge when another provider is configured', async () => {
    const none = await buildTestApp({ database });
    try {
      const response = await none.app.inject({ method: 'GET', url: '/api/v1/captcha' });
      assert.equal(response.statusCode, 404);
      assert.equal(response.json().error.code, 'CAPTCHA_UNAVAILABLE');
    } finally {
      await none.close();
    }
  });
});

/** Whether a CSP source such as https://example.org or https://*.example.org allows `url`. */
function allowsScript(source: string, url: string): boolean {
  const { protocol, host } = new URL(url);
  const match = /^(https?:)\/\/(\*\.)?([^/]+)$/.exec(source);
  if (!match || match[1] !== protocol) return false;
  return match[2] ? host.endsWith(`.${match[3]}`) : host === match[3];
}

/**
 * A stand-in for the providers' siteverify endpoints. 'good-token' passes as
 * the real providers answer: solved on the portal's hostname a few seconds
 * ago by the test's clock (and, for Turnstile, on the login form). A test
 * registers any other answer under a token of its own in `answers`.
 */
interface VerifyStub {
  /** The verify URL for one provider: the stub answers as that provider does. */
  urlFor(provider: string): string;
  received: URLSearchParams[];
  /** The provider's clock: the app's fake clock, so both agree on "now". */
  clock: Clock;
  answers: Map<string, Record<string, unknown>>;
  close(): Promise<void>;
}

/** The hostname of the test configuration's PUBLIC_URL (http://localhost:3000). */
const PORTAL_HOSTNAME = new URL(testConfig().publicUrl).hostname;

async function startVerifyStub(): Promise<VerifyStub> {
  const received: URLSearchParams[] = [];
  const answers = new Map<string, Record<string, unknown>>();
  const stub = { clock: new FakeClock() as Clock };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      received.push(form);
      const token = form.get('response');
      if (token === 'broken-token') {
        response.writeHead(200, { 'content-type': 'text/html' }).end('<h1>oops</h1>');
        return;
      }
      if (token === 'server-error-token') {
        response.writeHead(500, { 'content-type': 'application/json' }).end('{"success":true}');
        return;
      }
      const registered = token === null ? undefined : answers.get(token);
      let answer: Record<string, unknown> = {
        success: false,
        'error-codes': ['invalid-input-response'],
      };
      if (request.method === 'POST' && token === 'good-token') {
        answer = {
          success: true,
          challenge_ts: new Date(stub.clock.now().getTime() - 10_000).toISOString(),
          hostname: PORTAL_HOSTNAME,
          // Only Turnstile names the widget's action; reCAPTCHA v2 and hCaptcha do not.
          ...(request.url?.startsWith('/turnstile/') ? { action: 'login' } : {}),
        };
      } else if (request.method === 'POST' && registered) {
        answer = registered;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(stub, {
    urlFor: (provider: string) => `http://127.0.0.1:${port}/${provider}/siteverify`,
    received,
    answers,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** An address where nothing listens. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/siteverify`;
}

const HOSTED = [
  {
    provider: 'recaptcha',
    className: 'g-recaptcha',
    field: 'g-recaptcha-response',
    script: 'https://www.google.com/recaptcha/api.js',
  },
  {
    provider: 'hcaptcha',
    className: 'h-captcha',
    field: 'h-captcha-response',
    script: 'https://js.hcaptcha.com/1/api.js',
  },
  {
    provider: 'turnstile',
    className: 'cf-turnstile',
    field: 'cf-turnstile-response',
    script: 'https://challenges.cloudflare.com/turnstile/v0/api.js',
  },
] as const;

const hostedEnv = (provider: string, verifyUrl: string) => ({
  CAPTCHA_PROVIDER: provider,
  CAPTCHA_SITE_KEY: `site-key-${provider}`,
  CAPTCHA_SECRET: `secret-${provider}`,
  CAPTCHA_VERIFY_URL: verifyUrl,
  // Every refused answer below comes from 127.0.0.1: the junk budget of the
  // address is not what these tests are about.
  CAPTCHA_FAILURES_PER_ADDRESS: '100000/15m',
});

/** An app with a hosted provider, wired as server.ts wires it: with PUBLIC_URL and the clock. */
function buildHostedApp(provider: string, verifyUrl: string): Promise<TestApp> {
  const env = hostedEnv(provider, verifyUrl);
  const config = testConfig(env);
  const clock = new FakeClock();
  const captcha = createCaptcha(config.captcha, {
    db: database.db,
    clock,
    secret: TEST_SECRET,
    publicUrl: config.publicUrl,
  });
  return buildTestApp({ database, env, clock, captcha });
}

/** The 'good-token' answer with `changes` (undefined removes a field). */
function goodAnswerWith(
  stub: VerifyStub,
  provider: string,
  changes: Record<string, unknown>,
): Record<string, unknown> {
  const answer: Record<string, unknown> = {
    success: true,
    challenge_ts: stub.clock.now().toISOString(),
    hostname: PORTAL_HOSTNAME,
    ...(provider === 'turnstile' ? { action: 'login' } : {}),
  };
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) delete answer[field];
    else answer[field] = value;
  }
  return answer;
}

/** The login was refused for its CAPTCHA: 400 CAPTCHA_FAILED. */
function assertCaptchaRefused(response: Awaited<ReturnType<typeof logIn>>, why: string): void {
  assert.equal(response.statusCode, 400, `${why}: ${response.body}`);
  assert.equal(response.json().error.code, 'CAPTCHA_FAILED', why);
}

describe(`hosted CAPTCHAs on login (${databaseLabel})`, () => {
  let stub: VerifyStub;

  before(async () => {
    stub = await startVerifyStub();
  });
  after(() => stub.close());

  for (const { provider, className, field, script } of HOSTED) {
    describe(provider, () => {
      let t: TestApp;
      let document: string;

      before(async () => {
        t = await buildHostedApp(provider, stub.urlFor(provider));
        stub.clock = t.clock;
        document = (await createMember(t.db)).document;
      });
      after(() => t.close());

      /** Registers the good answer with `changes` under a new token and returns the token. */
      let tokens = 0;
      function tokenAnswering(changes: Record<string, unknown>): string {
        tokens += 1;
        const token = `${provider}-token-${tokens}`;
        stub.answers.set(token, goodAnswerWith(stub, provider, changes));
        return token;
      }

      it("shows the provider's widget with the site key, loads its script and allows it in the CSP", async () => {
        const response = await t.app.inject({ method: 'GET', url: '/' });
        assert.equal(response.statusCode, 200);
        const action = provider === 'turnstile' ? ' data-action="login"' : '';
        assert.match(
          response.body,
          new RegExp(
            `<div class="${className}" data-sitekey="site-key-${provider}"${action}></div>`,
          ),
        );
        assert.ok(
          response.body.includes(`<script src="${script}`),
          `script ${script} missing from the page`,
        );
        assert.match(
          response.body,
          /id="captcha"[\s\S]*data-sitekey[\s\S]*«No soy un robot» necesita JavaScript/,
        );
        const csp = String(response.headers['content-security-policy']);
        const scriptSources = /(?:^|;)script-src ([^;]*)/.exec(csp)?.[1]?.split(' ') ?? [];
        assert.ok(
          scriptSources.some((source) => allowsScript(source, script)),
          `script-src ${scriptSources.join(' ')} does not allow ${script}`,
        );
      });

      it('logs in with a good token and tells the provider the secret, the token and the address', async () => {
        const before = stub.received.length;
        const response = await logIn(t.app, document, 'good-token');
        assert.equal(response.statusCode, 200, response.body);
        assert.equal(stub.received.length, before + 1);
        const form = stub.received.at(-1) as URLSearchParams;
        assert.equal(form.get('secret'), `secret-${provider}`);
        assert.equal(form.get('response'), 'good-token');
        assert.equal(form.get('remoteip'), '127.0.0.1');
      });

      it('refuses a bad token with 400 CAPTCHA_FAILED', async () => {
        const response = await logIn(t.app, document, 'bad-token');
        assert.equal(response.statusCode, 400);
        assert.equal(response.json().error.code, 'CAPTCHA_FAILED');
        assert.equal(stub.received.at(-1)?.get('response'), 'bad-token');
      });

      it('refuses a token the provider says was solved on another site', async () => {
        for (const hostname of ['evil.example', `${PORTAL_HOSTNAME}.evil.example`, '']) {
          const response = await logIn(t.app, document, tokenAnswering({ hostname }));
          assertCaptchaRefused(response, `hostname ${JSON.stringify(hostname)}`);
        }
        // Hostnames have no case.
        const upper = tokenAnswering({ hostname: PORTAL_HOSTNAME.toUpperCase() });
        assert.equal((await logIn(t.app, document, upper)).statusCode, 200);
      });

      it('refuses an answer that names no hostname or no readable challenge time', async () => {
        const incomplete = {
          'no hostname': { hostname: undefined },
          'no challenge_ts': { challenge_ts: undefined },
          'a number for challenge_ts': { challenge_ts: stub.clock.now().getTime() },
          'a time without a zone': { challenge_ts: '2026-11-25T12:00:00' },
          'not a time': { challenge_ts: 'yesterday' },
        };
        for (const [why, changes] of Object.entries(incomplete)) {
          assertCaptchaRefused(await logIn(t.app, document, tokenAnswering(changes)), why);
        }
      });

      it('refuses a challenge solved more than 5 minutes ago, by the clock', async () => {
        const solvedNow = tokenAnswering({});
        const alsoSolvedNow = tokenAnswering({});
        t.clock.advanceMinutes(5);
        assert.equal((await logIn(t.app, document, solvedNow)).statusCode, 200, '5 minutes old');
        t.clock.advance(1000);
        assertCaptchaRefused(await logIn(t.app, document, alsoSolvedNow), '5 min 1 s old');
      });

      it("refuses a challenge time far ahead of the portal's clock", async () => {
        const inOneMinute = new Date(t.clock.now().getTime() + 60_000).toISOString();
        const inTwoMinutes = new Date(t.clock.now().getTime() + 120_000).toISOString();
        const skewed = await logIn(t.app, document, tokenAnswering({ challenge_ts: inOneMinute }));
        assert.equal(skewed.statusCode, 200, 'a minute of clock skew is tolerated');
        assertCaptchaRefused(
          await logIn(t.app, document, tokenAnswering({ challenge_ts: inTwoMinutes })),
          'two minutes ahead',
        );
      });

      it('asks for the CAPTCHA without asking the provider when there is no token', async () => {
        const before = stub.received.length;
        const response = await logIn(t.app, document);
        assert.equal(response.statusCode, 400);
        assert.equal(response.json().error.code, 'CAPTCHA_REQUIRED');
        assert.equal(stub.received.length, before);
      });

      it(`reads the token from the form field ${field}`, async () => {
        const response = await t.app.inject({
          method: 'POST',
          url: '/ingresar',
          headers: FORM,
          payload: new URLSearchParams({
            document,
            password: 'clave2026',
            [field]: 'good-token',
          }).toString(),
        });
        assert.equal(response.statusCode, 303);
        assert.equal(response.headers.location, '/inicio');

        const otherName = await t.app.inject({
          method: 'POST',
          url: '/ingresar',
          headers: FORM,
          payload: new URLSearchParams({
            document,
            password: 'clave2026',
            captcha: 'good-token',
          }).toString(),
        });
        assert.equal(otherName.statusCode, 400, 'the token is read from the provider field only');
      });
    });
  }

  describe('turnstile actions', () => {
    let t: TestApp;
    let document: string;

    before(async () => {
      t = await buildHostedApp('turnstile', stub.urlFor('turnstile'));
      stub.clock = t.clock;
      document = (await createMember(t.db)).document;
    });
    after(() => t.close());

    it('names its form on every widget: login, password request and set password', async () => {
      const widget = (action: string) =>
        `<div class="cf-turnstile" data-sitekey="site-key-turnstile" data-action="${action}"></div>`;
      const login = await t.app.inject({ method: 'GET', url: '/' });
      assert.ok(login.body.includes(widget('login')));
      for (const url of Object.values(RECOVERY_PATHS)) {
        const request = await t.app.inject({ method: 'GET', url });
        assert.equal(request.statusCode, 200, url);
        assert.ok(request.body.includes(widget('password-request')), url);
      }
      const setPassword = changePasswordPage(t.deps.site, {
        captcha: t.deps.captcha,
        ruleText: '',
        state: 'form',
      });
      assert.ok(setPassword.includes(widget('set-password')));
    });

    it('refuses a Turnstile answer for an action that is none of our forms', async () => {
      for (const action of ['signup', 'LOGIN', '', undefined, 42]) {
        stub.answers.set('action-token', goodAnswerWith(stub, 'turnstile', { action }));
        assertCaptchaRefused(
          await logIn(t.app, document, 'action-token'),
          `action ${JSON.stringify(action)}`,
        );
      }
    });

    it('accepts an answer for any of our forms', async () => {
      for (const action of CAPTCHA_ACTIONS) {
        stub.answers.set('action-token', goodAnswerWith(stub, 'turnstile', { action }));
        const response = await logIn(t.app, document, 'action-token');
        assert.equal(response.statusCode, 200, `${action}: ${response.body}`);
      }
    });
  });

  it('refuses, with 400 and not 500, when the verify endpoint is down or answers nonsense', async () => {
    const down = await buildHostedApp('recaptcha', await closedPortUrl());
    const odd = await buildHostedApp('turnstile', stub.urlFor('turnstile'));
    try {
      const document = (await createMember(down.db)).document;
      const unreachable = await logIn(down.app, document, 'good-token');
      assert.equal(unreachable.statusCode, 400);
      assert.equal(unreachable.json().error.code, 'CAPTCHA_FAILED');

      for (const token of ['broken-token', 'server-error-token']) {
        const response = await logIn(odd.app, document, token);
        assert.equal(response.statusCode, 400, token);
        assert.equal(response.json().error.code, 'CAPTCHA_FAILED', token);
      }
    } finally {
      await down.close();
      await odd.close();
    }
  });
});
