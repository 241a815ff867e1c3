import { errors } from '../../messages/es.ts';
import { FlowError } from '../errors.ts';

export const loginErrors = {
  invalidCredentials: () => new FlowError('INVALID_CREDENTIALS', 401),
  invalidFields: (fields: Record<string, string>) =>
    new FlowError('VALIDATION_FAILED', 400, fields),
  checkDigit: (base: string) => {
    const message = errors.DOCUMENT_HAS_CHECK_DIGIT(base);
    return new FlowError('DOCUMENT_HAS_CHECK_DIGIT', 400, { document: message }, message);
  },
  captchaMissing: () =>
    new FlowError('CAPTCHA_REQUIRED', 400, { captcha: errors.CAPTCHA_REQUIRED }),
  captchaFailed: () => new FlowError('CAPTCHA_FAILED', 400, { captcha: errors.CAPTCHA_FAILED }),
} as const;
