// The SMS that proves a new mobile: sent TO THE NEW number. GSM-7 only,
// under 160 characters, the code its only 6-digit run (as sms-code.ts); it
// names the provider by the brand's SMS name (no accents).
import { mail } from '../../messages/es.ts';
import type { Brand } from '../../site/brand.ts';
import type { SmsContent } from '../message.ts';

export function contactCodeMessage(input: {
  brand: Brand;
  code: string;
  minutes: number;
}): SmsContent {
  return { body: mail.smsContactCode(input.brand, input.code, input.minutes) };
}
