import { errors } from '../../messages/es.ts';
import { FlowError } from '../errors.ts';

export const recoveryErrors = {
  invalidFields: (fields: Record<string, string>) =>
    new FlowError('VALIDATION_FAILED', 400, fields),
  captchaMissing: () =>
    new FlowError('CAPTCHA_REQUIRED', 400, { captcha: errors.CAPTCHA_REQUIRED }),
  captchaFailed: () => new FlowError('CAPTCHA_FAILED', 400, { captcha: errors.CAPTCHA_FAILED }),
  codeInvalid: () => new FlowError('CODE_INVALID', 400, { code: errors.CODE_INVALID }),
  tokenInvalid: () => new FlowError('TOKEN_INVALID', 400),
  passwordRejected: (fields: Record<string, string>) =>
    new FlowError('PASSWORD_REJECTED', 400, fields),
} as const;
