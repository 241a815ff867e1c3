// The SMS that proves a new mobile: sent TO THE NEW number. GSM-7 only,
// under 160 characters, the code its only 6-digit run (as sms-code.ts).
import { mail } from '../../messages/es.ts';
import type { SmsContent } from '../message.ts';

export function contactCodeMessage(input: { code: string; minutes: number }): SmsContent {
  return { body: mail.smsContactCode(input.code, input.minutes) };
}
