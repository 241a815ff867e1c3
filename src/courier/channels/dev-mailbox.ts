// Outside production, without SMTP_URL / SMS_WEBHOOK_URL, messages are
// "delivered" into the dev_mailbox table and shown at /dev/mailbox.
import type { Clock } from '../../auth/clock.ts';
import type { Database } from '../../db/schema.ts';
import type { Channel, OutgoingMessage } from '../message.ts';

export class DevMailboxChannel implements Channel {
  readonly name = 'dev-mailbox';

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async deliver(message: OutgoingMessage): Promise<void> {
    await this.db
      .insertInto('dev_mailbox')
      .values({
        channel: message.channel,
        recipient: message.to,
        subject: message.channel === 'email' ? message.content.subject : null,
        text_body: message.channel === 'email' ? message.content.text : message.content.body,
        html_body: message.channel === 'email' ? message.content.html : null,
        created_at: this.clock.now(),
      })
      .execute();
  }
}

/**
 * Deletes every message the dev mailbox kept (SMS codes and links in plain
 * text). A production start calls it: a data folder first run in development
 * must not carry them into a deployment. Answers how many were deleted.
 */
export async function forgetDevMailbox(db: Database): Promise<number> {
  const result = await db.deleteFrom('dev_mailbox').executeTakeFirst();
  return Number(result.numDeletedRows);
}
