// The SMS with the code. GSM-7 only (no "ó": it would force UCS-2 and a
// 70-character limit), under 160 characters, the code its only 6-digit run.
// It names the provider by the brand's SMS name, the name without accents.
import { mail } from '../../messages/es.ts';
import type { Brand } from '../../site/brand.ts';
import type { SmsContent } from '../message.ts';

export function smsCodeMessage(input: { brand: Brand; code: string; minutes: number }): SmsContent {
  return { body: mail.smsCode(input.brand, input.code, input.minutes) };
}
