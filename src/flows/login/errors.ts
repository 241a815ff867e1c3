// The login flow's own errors. Codes only: the edge decides their statuses
// (src/plugins/error-statuses.ts). Shared ones (invalidFields, captchaErrors,
// throttledError) live in ../errors.ts.
import { errors } from '../../messages/es.ts';
import { FlowError } from '../errors.ts';

export const loginErrors = {
  invalidCredentials: () => new FlowError('INVALID_CREDENTIALS'),
  checkDigit: (base: string) => {
    const message = errors.DOCUMENT_HAS_CHECK_DIGIT(base);
    return new FlowError('DOCUMENT_HAS_CHECK_DIGIT', { document: message }, message);
  },
} as const;
