// SMS through the gateway's webhook: POST {"to", "body"} as JSON; any 2xx
// is delivered, anything else is retried by the dispatcher.
import type { Channel, OutgoingMessage } from '../message.ts';
import { PermanentDeliveryError } from '../message.ts';

export class SmsWebhookChannel implements Channel {
  readonly name = 'sms-webhook';

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async deliver(message: OutgoingMessage): Promise<void> {
    if (message.channel !== 'sms') throw new PermanentDeliveryError('not an SMS');
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: message.to, body: message.content.body }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`SMS gateway answered ${response.status}`);
  }
}
