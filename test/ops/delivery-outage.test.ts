// The mail server down long enough for several retries, then back; the SMS
// gateway answering 500, then 200: every accepted password request's
// message is delivered exactly once, by two instances behind nginx sharing
// one outbox. The retry waits are configured short (OUTBOX_RETRY_DELAYS),
// as an operator may: the test waits for tries to happen, not for time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORD_REQUEST_SUBJECT } from '../../src/courier/templates/password-request.ts';
import { Cluster, type OpsMember, serverCommand, skipReason, tally, waitFor } from './cluster.ts';

/** Nine tries over about 14 s: the outages below end well within them. */
const RETRY_DELAYS = '1s,1s,1s,2s,2s,2s,2s,2s';
const MIN_FAILED_TRIES = 3;

describe('SMTP down and the SMS gateway failing, then back, two instances behind nginx', {
  skip: skipReason(),
}, () => {
  let cluster: Cluster;
  const figures: string[] = [];

  before(async () => {
    cluster = await Cluster.start({ env: { OUTBOX_RETRY_DELAYS: RETRY_DELAYS } });
    figures.push(`server command: ${serverCommand().label}`);
  });

  after(async () => {
    for (const line of figures) console.log(`delivery outage: ${line}`);
    await cluster?.stop();
  });

  /** The outbox rows of `template` to these recipients. */
  async function rows(template: string, recipients: string[]) {
    const db = await cluster.db();
    return db
      .selectFrom('outbox')
      .select(['recipient', 'status', 'attempts', 'last_error'])
      .where('template', '=', template)
      .where('recipient', 'in', recipients)
      .execute();
  }

  /** Asks, through nginx, for a link or code for each member at once; all answer 202. */
  async function ask(members: OpsMember[], channel: 'email' | 'sms'): Promise<void> {
    const answers = await Promise.all(
      members.map((member) => cluster.http.passwordRequest(member, channel)),
    );
    assert.deepEqual(
      answers.map((a) => a.status),
      members.map(() => 202),
    );
  }

  it(`delivers every email exactly once after the mail server was down for ${MIN_FAILED_TRIES}+ tries`, async () => {
    const members = await cluster.createMembers(20);
    const recipients = members.map((m) => m.email as string);
    await cluster.smtp.stop();
    const downAt = performance.now();
    await ask(members, 'email');
    // Down until every message has failed several times.
    await waitFor(
      async () => {
        const now = await rows('password-request', recipients);
        return (
          now.length === recipients.length &&
          now.every((r) => r.status === 'queued' && r.attempts >= MIN_FAILED_TRIES)
        );
      },
      `every email to fail ${MIN_FAILED_TRIES} times`,
      30_000,
      100,
    );
    const failedTries = tally((await rows('password-request', recipients)).map((r) => r.attempts));
    assert.equal(cluster.smtp.messages.length, 0, 'nothing delivered while it was down');
    await cluster.smtp.listen();
    const backAt = performance.now();
    await cluster.outboxSettled(30_000);
    const deliveredAt = performance.now();

    const done = await rows('password-request', recipients);
    assert.ok(
      done.every((r) => r.status === 'sent'),
      JSON.stringify(done.filter((r) => r.status !== 'sent')),
    );
    for (const recipient of recipients) {
      const copies = cluster.smtp
        .to(recipient)
        .filter((m) => m.parsed.subject === PASSWORD_REQUEST_SUBJECT);
      assert.equal(copies.length, 1, `${recipient}: ${copies.length} copies`);
    }
    figures.push(
      `SMTP down ${Math.round(backAt - downAt)} ms: ${recipients.length} emails accepted, failed tries per message when it came back ${JSON.stringify(failedTries)}; all ${recipients.length} delivered once ${Math.round(deliveredAt - backAt)} ms after it was back; tries in all ${JSON.stringify(tally(done.map((r) => r.attempts)))}`,
    );
  });

  it(`delivers every SMS exactly once after the gateway answered 500 ${MIN_FAILED_TRIES}+ times`, async () => {
    const members = await cluster.createMembers(10);
    const numbers = members.map((m) => m.mobile as string);
    cluster.sms.fail(500);
    const failingFrom = performance.now();
    await ask(members, 'sms');
    await waitFor(
      async () => {
        const now = await rows('sms-code', numbers);
        return (
          now.length === numbers.length &&
          now.every((r) => r.status === 'queued' && r.attempts >= MIN_FAILED_TRIES)
        );
      },
      `every SMS to fail ${MIN_FAILED_TRIES} times`,
      30_000,
      100,
    );
    const refused = cluster.sms.requests.filter((r) => r.status === 500).length;
    assert.ok(refused >= numbers.length * MIN_FAILED_TRIES, `${refused} answered 500`);
    assert.equal(cluster.sms.delivered.length, 0);
    cluster.sms.recover();
    const backAt = performance.now();
    await cluster.outboxSettled(30_000);

    const done = await rows('sms-code', numbers);
    assert.ok(
      done.every((r) => r.status === 'sent'),
      JSON.stringify(done),
    );
    for (const number of numbers)
      assert.equal(cluster.sms.to(number).length, 1, `${number}: delivered once`);
    figures.push(
      `SMS gateway answering 500 for ${Math.round(backAt - failingFrom)} ms: ${refused} tries refused for ${numbers.length} SMS; then each delivered once (${cluster.sms.delivered.length} accepted by the gateway), ${Math.round(performance.now() - backAt)} ms after it answered 200 again`,
    );
  });
});
