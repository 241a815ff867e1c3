// What the courier carries. A message is rendered when it is queued (in the
// flow's transaction) and sealed in the outbox row until it is delivered.

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export interface SmsContent {
  body: string;
}

export type OutgoingMessage =
  | { channel: 'email'; to: string; template: string; content: EmailContent }
  | { channel: 'sms'; to: string; template: string; content: SmsContent };

/** Delivers one message or throws; a thrown error means "try again later". */
export interface Channel {
  readonly name: string;
  deliver(message: OutgoingMessage): Promise<void>;
  close?(): Promise<void>;
}

/** A failure that retrying cannot fix (e.g. a recipient the server refuses). */
export class PermanentDeliveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentDeliveryError';
  }
}
