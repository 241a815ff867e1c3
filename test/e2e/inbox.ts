// What the mail catcher (test/support/mail-catcher.ts) received, read by the
// test workers over its HTTP side: the member's mailbox and mobile phone.
import { expect } from '@playwright/test';
import type { CaughtEmail, CaughtMessage, CaughtSms } from '../support/mail-catcher.ts';

export const MAIL_CATCHER_SMTP_PORT = 3925;
export const MAIL_CATCHER_HTTP_PORT = 3926;
const CATCHER_URL = `http://127.0.0.1:${MAIL_CATCHER_HTTP_PORT}`;

/** Everything sent to one email address or mobile number, oldest first. */
export async function messagesTo(to: string): Promise<CaughtMessage[]> {
  const response = await fetch(`${CATCHER_URL}/messages?${new URLSearchParams({ to })}`);
  if (!response.ok) throw new Error(`mail catcher answered ${response.status}`);
  return (await response.json()) as CaughtMessage[];
}

/**
 * One destination (an email address or a mobile number). `open()` notes what
 * is there already; `nextEmail` / `nextSms` wait for a newer message, each
 * message returned once.
 */
export class Inbox {
  /** Messages that were there when opened. */
  #before = 0;
  /** Positions of the messages already returned. */
  readonly #taken = new Set<number>();

  private constructor(readonly to: string) {}

  static async open(to: string): Promise<Inbox> {
    const inbox = new Inbox(to);
    inbox.#before = (await messagesTo(to)).length;
    return inbox;
  }

  nextEmail(subject: string): Promise<CaughtEmail> {
    return this.#next(
      (m): m is CaughtEmail => m.kind === 'email' && m.subject === subject,
      `an email «${subject}» to ${this.to}`,
    );
  }

  nextSms(): Promise<CaughtSms> {
    return this.#next((m): m is CaughtSms => m.kind === 'sms', `an SMS to ${this.to}`);
  }

  async #next<T extends CaughtMessage>(
    wanted: (message: CaughtMessage) => message is T,
    description: string,
  ): Promise<T> {
    let found: { message: T; index: number } | undefined;
    await expect
      .poll(
        async () => {
          const all = await messagesTo(this.to);
          const index = all.findIndex(
            (m, i) => i >= this.#before && !this.#taken.has(i) && wanted(m),
          );
          found = index >= 0 ? { message: all[index] as T, index } : undefined;
          return found !== undefined;
        },
        { message: `waiting for ${description}`, timeout: 20_000 },
      )
      .toBe(true);
    if (!found) throw new Error(`no ${description}`);
    this.#taken.add(found.index);
    return found.message;
  }
}

/** The link in an email's plain-text part (the only web address there). */
export function linkIn(email: CaughtEmail): string {
  const links = email.text.match(/https?:\/\/\S+/g) ?? [];
  if (links.length !== 1) throw new Error(`expected one link in: ${email.text}`);
  return links[0] as string;
}
