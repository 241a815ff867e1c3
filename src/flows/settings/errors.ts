// The member home's own errors. Codes only: the edge decides their statuses
// (src/plugins/error-statuses.ts). Shared ones (invalidFields, throttledError)
// live in ../errors.ts.
import { errors } from '../../messages/es.ts';
import { type FieldErrors, FlowError } from '../errors.ts';

/** A wait of an hour at most: the per-member and per-number limits count by the hour. */
const MESSAGES_RETRY_SECONDS = 3600;

export const settingsErrors = {
  currentPasswordWrong: () =>
    new FlowError('CURRENT_PASSWORD_WRONG', { currentPassword: errors.CURRENT_PASSWORD_WRONG }),
  passwordRejected: (fields: FieldErrors) => new FlowError('PASSWORD_REJECTED', fields),
  sessionNotFound: () => new FlowError('SESSION_NOT_FOUND'),
  codeInvalid: () => new FlowError('CODE_INVALID', { code: errors.CODE_INVALID }),
  linkInvalid: () => new FlowError('CONTACT_LINK_INVALID'),
  messagesLimit: () => new FlowError('MESSAGES_LIMIT', {}, undefined, MESSAGES_RETRY_SECONDS),
  smsUnavailable: () => new FlowError('SMS_UNAVAILABLE', {}, undefined, MESSAGES_RETRY_SECONDS),
} as const;
