// Email over SMTP with nodemailer's pooled transport.
import nodemailer, { type Transporter } from 'nodemailer';
import { type Channel, type OutgoingMessage, PermanentDeliveryError } from '../message.ts';

export class SmtpChannel implements Channel {
  readonly name = 'smtp';
  readonly #transport: Transporter;

  constructor(
    smtpUrl: string,
    private readonly from: string,
  ) {
    const url = new URL(smtpUrl);
    url.searchParams.set('pool', 'true');
    url.searchParams.set('connectionTimeout', '10000');
    url.searchParams.set('greetingTimeout', '10000');
    url.searchParams.set('socketTimeout', '20000');
    this.#transport = nodemailer.createTransport(url.toString());
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
