// Email over SMTP with nodemailer's pooled transport.
import nodemailer, { type Transporter } from 'nodemailer';
import { type Channel, type OutgoingMessage, PermanentDeliveryError } from '../message.ts';

/** The pool's size and how many messages a connection carries before it is renewed. */
export const POOL_DEFAULTS = { maxConnections: '10', maxMessages: '1000' } as const;

/**
 * SMTP_URL as the transport takes it: pooled, with timeouts, and with
 * enough connections for the dispatcher's batches (nodemailer's default is
 * 5), each kept for many messages (its default reconnects every 100). What
 * SMTP_URL says of the pool itself wins.
 */
export function pooledSmtpUrl(smtpUrl: string): string {
  const url = new URL(smtpUrl);
  url.searchParams.set('pool', 'true');
  for (const [name, value] of Object.entries(POOL_DEFAULTS))
    if (!url.searchParams.has(name)) url.searchParams.set(name, value);
  url.searchParams.set('connectionTimeout', '10000');
  url.searchParams.set('greetingTimeout', '10000');
  url.searchParams.set('socketTimeout', '20000');
  return url.toString();
}

export class SmtpChannel implements Channel {
  readonly name = 'smtp';
  readonly #transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    this.#transport = nodemailer.createTransport(pooledSmtpUrl(smtpUrl));
  }

  async deliver(message: OutgoingMessage): Promise<void> {
    if (message.channel !== 'email') throw new PermanentDeliveryError('not an email');
    try {
      await this.#transport.sendMail({
        from: this.from,
        to: message.to,
        subject: message.content.subject,
        text: message.content.text,
        html: message.content.html,
      });
    } catch (error) {
      // 5xx replies about the recipient will not get better by retrying.
      const code = (error as { responseCode?: number }).responseCode;
      if (code !== undefined && code >= 550 && code <= 553) {
        throw new PermanentDeliveryError(`SMTP refused the recipient (${code})`);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    this.#transport.close();
  }
}
