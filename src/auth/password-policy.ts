// The password policy. `manual` is the provider's printed rule (6–10
// characters, letters and/or digits, at least one digit); `asvs` follows
// OWASP ASVS 5.0 / NIST 800-63B (8–64 printable characters, no composition
// rules). Both refuse common passwords, words of the provider and the
// service (PASSWORD_SERVICE_WORDS), and the member's own document or member
// number. See docs/decisions/007-password-policy.md.
import { createRequire } from 'node:module';
import { DEFAULT_PASSWORD_SERVICE_WORDS } from '../config.ts';
import { errors, manual as manualTexts, text } from '../messages/es.ts';

export type PolicyName = 'manual' | 'asvs';

export interface PasswordPolicy {
  readonly name: PolicyName;
  readonly minLength: number;
  readonly maxLength: number;
  /** The rule as the change-password page states it. */
  readonly ruleText: string;
  /** Messages per field ("password", "passwordConfirmation"); empty when acceptable. */
  check(input: PasswordInput): Record<string, string>;
}

export interface PasswordInput {
  password: string;
  confirmation: string;
  /** Words the password must not be: the member's document and member number. */
  context: string[];
}

const MANUAL_RULE = manualTexts.passwordRule;
const ASVS_RULE = text.passwordRuleAsvs;

/** Control characters (C0, DEL, C1) are the only ones the asvs policy refuses. */
const CONTROL = /\p{Cc}/u;

export function createPasswordPolicy(
  name: PolicyName,
  serviceWords: readonly string[] = DEFAULT_PASSWORD_SERVICE_WORDS,
): PasswordPolicy {
  const service = serviceWords.map(fold);
  const manual = name === 'manual';
  const minLength = manual ? 6 : 8;
  const maxLength = manual ? 10 : 64;
  const composition = (password: string): string | null => {
    if (manual) {
      if (!/^[A-Za-z0-9]+$/.test(password)) return errors.PASSWORD_CHARACTERS;
      if (!/\d/.test(password)) return errors.PASSWORD_NEEDS_DIGIT;
      return null;
    }
    return CONTROL.test(password) ? errors.PASSWORD_PRINTABLE : null;
  };
  // Built at the first check: logins never need it (docs/decisions/020-server-memory.md).
  let blocklist: Set<string> | undefined;
  const isCommon = (lowered: string) => {
    blocklist ??= loadBlocklist((candidate) => {
      const length = [...candidate].length;
      return length >= minLength && length <= maxLength && composition(candidate) === null;
    });
    return blocklist.has(lowered);
  };

  return {
    name,
    minLength,
    maxLength,
    ruleText: manual ? MANUAL_RULE : ASVS_RULE,
    check({ password, confirmation, context }) {
      const fields: Record<string, string> = {};
      const length = [...password].length;
      if (password === '') fields.password = errors.NEW_PASSWORD_REQUIRED;
      else if (length < minLength || length > maxLength)
        fields.password = manual ? errors.PASSWORD_LENGTH_MANUAL : errors.PASSWORD_LENGTH_ASVS;
      else {
        const problem = composition(password);
        const lowered = password.toLowerCase();
        const folded = fold(password);
        if (problem) fields.password = problem;
        else if (context.some((word) => isPersonal(lowered, word.toLowerCase())))
          fields.password = errors.PASSWORD_IS_PERSONAL;
        else if (isCommon(lowered)) fields.password = errors.PASSWORD_COMMON;
        else if (service.some((word) => folded.includes(word)))
          fields.password = errors.PASSWORD_IS_SERVICE_WORD;
      }
      if (confirmation === '') fields.passwordConfirmation = errors.PASSWORD_CONFIRMATION_REQUIRED;
      else if (password !== '' && confirmation !== password)
        fields.passwordConfirmation = errors.PASSWORD_MISMATCH;
      return fields;
    },
  };
}

/** Lower case without accents: "Autogestión" and "AUTOGESTION" are one word. */
function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** The password is, or (for words of 4+ characters) contains, a personal word. */
function isPersonal(password: string, word: string): boolean {
  if (word === '') return false;
  return word.length >= 4 ? password.includes(word) : password === word;
}

const requireCommonJs = createRequire(import.meta.url);

/**
 * zxcvbn-ts's list of ~49,000 common passwords (a maintained package), kept
 * to the ones the policy would otherwise accept, lowercased. The package is
 * loaded here, at the first password check (≈ 20–40 ms, once), not with the
 * server: its lists cost ~6 MB that a server only logging members in never
 * uses. `require` keeps check() synchronous.
 */
function loadBlocklist(acceptable: (candidate: string) => boolean): Set<string> {
  const { dictionary } = requireCommonJs(
    '@zxcvbn-ts/language-common',
  ) as typeof import('@zxcvbn-ts/language-common');
  const set = new Set<string>();
  for (const word of dictionary['passwords-common']) {
    if (acceptable(word)) set.add(word.toLowerCase());
  }
  return set;
}
