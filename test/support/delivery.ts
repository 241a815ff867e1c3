// The app with its real courier: the outbox Dispatcher delivering over SMTP
// to an in-process SMTP server and over HTTP to an SMS gateway stub, on the
// app's FakeClock. Tests call deliver() (dispatcher.runOnce()) instead of
// waiting for the dispatcher's timer.
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { SmsWebhookChannel } from '../../src/courier/channels/sms-webhook.ts';
import { SmtpChannel } from '../../src/courier/channels/smtp.ts';
import { Dispatcher, type DispatcherLog } from '../../src/courier/dispatcher.ts';
import type { Database } from '../../src/db/schema.ts';
import {
  buildTestApp,
  createTestDatabase,
  FakeClock,
  TEST_SECRET,
  type TestApp,
  type TestAppOptions,
  type TestDatabase,
} from '../helper.ts';
import { send } from './recovery.ts';
import { SmsGatewayStub } from './sms-gateway.ts';
import { SmtpStub } from './smtp.ts';

export const MAIL_FROM = 'Autogestión <no-reply@example.org>';

/** A dispatcher log that keeps what it was told, for assertions. */
export class CapturedLog implements DispatcherLog {
  readonly entries: { level: string; obj: object; msg: string }[] = [];
  info(obj: object, msg: string): void {
    this.entries.push({ level: 'info', obj, msg });
  }
  warn(obj: object, msg: string): void {
    this.entries.push({ level: 'warn', obj, msg });
  }
  error(obj: object, msg: string): void {
    this.entries.push({ level: 'error', obj, msg });
  }
}

export function createDispatcher(options: {
  db: Database;
  clock: FakeClock;
  smtpUrl: string;
  smsUrl: string;
  log?: DispatcherLog;
}): Dispatcher {
  return new Dispatcher({
    db: options.db,
    clock: options.clock,
    secret: TEST_SECRET,
    channels: {
      email: new SmtpChannel(options.smtpUrl, MAIL_FROM),
      sms: new SmsWebhookChannel(options.smsUrl, 2000),
    },
    log: options.log ?? new CapturedLog(),
  });
}

export interface DeliveryRig extends TestApp {
  smtp: SmtpStub;
  sms: SmsGatewayStub;
  dispatcher: Dispatcher;
  log: CapturedLog;
  /** Delivers every message due now (one dispatcher run). */
  deliver(): Promise<number>;
  /** app.inject that fails the test on any 5xx. */
  send(options: InjectOptions): Promise<LightMyRequestResponse>;
}

export interface DeliveryRigOptions extends Omit<TestAppOptions, 'clock' | 'courier'> {
  /** A running (or stopped) SMTP stub to use; one is started (and later stopped) otherwise. */
  smtp?: SmtpStub;
  sms?: SmsGatewayStub;
  database?: TestDatabase;
}

export async function buildDeliveryRig(options: DeliveryRigOptions = {}): Promise<DeliveryRig> {
  const smtp = options.smtp ?? (await SmtpStub.start());
  const sms = options.sms ?? (await SmsGatewayStub.start());
  const database = options.database ?? (await createTestDatabase());
  const clock = new FakeClock();
  const log = new CapturedLog();
  const dispatcher = createDispatcher({
    db: database.db,
    clock,
    smtpUrl: smtp.url,
    smsUrl: sms.url,
    log,
  });
  // The dispatcher is the app's courier: flows wake it (it only runs once started).
  const t = await buildTestApp({ ...options, database, clock, courier: dispatcher });
  return {
    ...t,
    smtp,
    sms,
    dispatcher,
    log,
    deliver: () => dispatcher.runOnce(),
    send: (request) => send(t, request),
    close: async () => {
      await dispatcher.stop();
      await t.close();
      if (!options.database) await database.close();
      if (!options.smtp) await smtp.stop();
      if (!options.sms) await sms.close();
    },
  };
}
