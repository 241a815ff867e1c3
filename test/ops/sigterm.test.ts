// SIGTERM to one of two instances behind nginx, under a steady stream of
// logins, password requests and password changes, as a rolling restart or
// `systemctl stop` does: no request fails (those in flight are finished,
// new ones go to the other instance), the process exits 0 within
// SHUTDOWN_GRACE_SECONDS, and what it accepted is delivered, with nothing
// left claimed in the outbox.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PASSWORD_REQUEST_SUBJECT } from '../../src/courier/templates/password-request.ts';
import {
  Cluster,
  type Exit,
  type Instance,
  Load,
  type Outcome,
  serverCommand,
  skipReason,
  tally,
  waitFor,
} from './cluster.ts';

const GRACE_SECONDS = 10;
const SUCCESS: Record<string, number> = {
  login: 200,
  'request-email': 202,
  'request-sms': 202,
  'set-password': 200,
};

describe('SIGTERM to one instance under load, behind nginx', { skip: skipReason() }, () => {
  let cluster: Cluster;
  let stopped: Instance;
  let termAt = 0;
  let exit: Exit;
  let inFlightAtTerm: number[] = [];
  let settled: Record<string, number> = {};
  const figures: string[] = [];

  before(async () => {
    cluster = await Cluster.start({
      env: { SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS) },
    });
    stopped = cluster.instances[0] as Instance;
    const loginMembers = await cluster.createMembers(12);
    const emailMembers = await cluster.createMembers(120);
    const smsMembers = await cluster.createMembers(40);
    // A slow mail server: the instance has deliveries under way when told to stop.
    cluster.smtp.delayMs = 200;
    const load = new Load(cluster, { loginMembers, emailMembers, smsMembers, setPasswords: true });
    load.start();
    const http = cluster.http;
    await waitFor(
      () => http.outcomes.length >= 50 && http.pending().length >= 3,
      'the stream to run (50 answers, requests in flight)',
      30_000,
      5,
    );
    inFlightAtTerm = http.pending();
    termAt = performance.now();
    stopped.kill('SIGTERM');
    exit = await stopped.exited;
    const sentAtExit = load.sent;
    await waitFor(() => load.sent >= sentAtExit + 40, 'the stream to go on', 30_000);
    await load.stop();
    settled = await cluster.outboxSettled(30_000);
    figures.push(
      `server command: ${serverCommand().label}`,
      `requests: ${http.outcomes.length} (${Object.entries(tally(http.outcomes.map((o) => o.kind)))
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')})`,
    );
  });

  after(async () => {
    for (const line of figures) console.log(`SIGTERM: ${line}`);
    const problems = cluster?.problems() ?? [];
    if (problems.length > 0)
      console.log(
        `SIGTERM: warnings and errors logged: ${JSON.stringify(tally(problems.map((p) => `${p.instance} ${p.msg}`)))}`,
      );
    await cluster?.stop();
  });

  it(`exits 0 within SHUTDOWN_GRACE_SECONDS (${GRACE_SECONDS} s)`, () => {
    const seconds = (exit.at - termAt) / 1000;
    assert.deepEqual([exit.code, exit.signal], [0, null], stopped.output());
    assert.ok(seconds < GRACE_SECONDS, `exited after ${seconds.toFixed(1)} s`);
    figures.push(`exit code ${exit.code} ${seconds.toFixed(2)} s after SIGTERM`);
  });

  it('fails no request: those in flight are finished, new ones go to the other instance', () => {
    const access = new Map((cluster.nginx?.accessLog() ?? []).map((e) => [e.seq, e]));
    const outcomes = cluster.http.outcomes;
    const failed = outcomes.filter((o) => o.status !== SUCCESS[o.kind]);
    const explain = (o: Outcome) =>
      `${o.seq} ${o.kind} → ${o.status || o.error} (sent ${Math.round(o.started - termAt)} ms after SIGTERM; nginx ${JSON.stringify(access.get(o.seq))})`;
    assert.deepEqual(failed.map(explain), []);
    const inFlight = new Set(inFlightAtTerm);
    const onStopped = outcomes.filter(
      (o) => inFlight.has(o.seq) && access.get(o.seq)?.upstreams[0] === `127.0.0.1:${stopped.port}`,
    );
    const during = outcomes.filter((o) => o.started > termAt && o.started < exit.at);
    const retried = during.filter((o) => (access.get(o.seq)?.upstreams.length ?? 0) > 1);
    figures.push(
      `requests in flight at SIGTERM: ${inFlight.size}, on the stopping instance: ${onStopped.length} (${onStopped.map((o) => `${o.kind} → ${o.status}`).join(', ') || 'none'})`,
      `sent while it stopped: ${during.length}, ${retried.length} of them retried by nginx on the other instance; failed requests in all: ${failed.length}`,
    );
  });

  it('delivers what it accepted, once, and leaves no claim behind', async () => {
    assert.deepEqual(
      [settled.processing ?? 0, settled.queued ?? 0, settled.abandoned ?? 0],
      [0, 0, 0],
      JSON.stringify(settled),
    );
    const accepted = cluster.http.outcomes.filter(
      (o) => o.kind.startsWith('request-') && o.status === 202,
    );
    for (const o of accepted) {
      const recipient = o.tag.recipient as string;
      const copies =
        o.kind === 'request-email'
          ? cluster.smtp.to(recipient).filter((m) => m.parsed.subject === PASSWORD_REQUEST_SUBJECT)
              .length
          : cluster.sms.to(recipient).length;
      assert.equal(copies, 1, `${o.kind} ${o.seq} to ${recipient}: ${copies} copies`);
    }
    const changes = cluster.http.outcomes.filter((o) => o.kind === 'set-password');
    for (const change of changes) {
      const member = (await (
        await cluster.db()
      )
        .selectFrom('members')
        .select('email')
        .where('document', '=', change.tag.document as string)
        .executeTakeFirstOrThrow()) as { email: string };
      const notices = cluster.smtp
        .to(member.email)
        .filter((m) => m.parsed.subject === 'Su contraseña fue modificada');
      assert.equal(notices.length, 1, `password change ${change.seq}: ${notices.length} notices`);
    }
    figures.push(
      `outbox after the stop: ${JSON.stringify(settled)}; ${accepted.length} accepted password requests and ${changes.length} password changes, each message delivered once`,
    );
  });
});
