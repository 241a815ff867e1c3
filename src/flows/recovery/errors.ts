// The recovery flow's own errors. Codes only: the edge decides their statuses
// (src/plugins/error-statuses.ts). Shared ones (invalidFields, captchaErrors,
// throttledError) live in ../errors.ts.
import { errors } from '../../messages/es.ts';
import { type FieldErrors, FlowError } from '../errors.ts';

export const recoveryErrors = {
  codeInvalid: () => new FlowError('CODE_INVALID', { code: errors.CODE_INVALID }),
  tokenInvalid: () => new FlowError('TOKEN_INVALID'),
  activationCodeInvalid: () =>
    new FlowError('ACTIVATION_CODE_INVALID', { code: errors.ACTIVATION_CODE_INVALID }),
  passwordRejected: (fields: FieldErrors) => new FlowError('PASSWORD_REJECTED', fields),
} as const;
