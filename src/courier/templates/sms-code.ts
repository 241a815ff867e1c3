// The SMS with the code. GSM-7 only (no "ó": it would force UCS-2 and a
// 70-character limit), under 160 characters, the code its only 6-digit run.
import { mail } from '../../messages/es.ts';
import type { SmsContent } from '../message.ts';

export function smsCodeMessage(input: { code: string; minutes: number }): SmsContent {
  return { body: mail.smsCode(input.code, input.minutes) };
}
