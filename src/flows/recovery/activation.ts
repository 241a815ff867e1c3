// The activation code a branch prints for a member (issue 13, SPEC §2.7):
// 10 characters from an unambiguous alphabet, single use, valid 24 hours,
// stored only as a keyed hash bound to its member. The member types it with
// their document on "Tengo un código de activación"; a right code becomes a
// set-password token of purpose `activation`, and "Cambiar contraseña"
// follows as for the other flows.
//
//   desk prints ──► live (24 h, 5 tries) ──right code──► set-password token ──► password set
//         │             │──another code printed, password set──► retired
//         │             └──wrong code ×5──► spent
//         └─ wrong codes also spend the address's budget of wrong SMS codes
import { recordAudit } from '../../audit/record.ts';
import { codeHash, retireSecrets, storeSecret, tryCode } from '../../auth/one-time-secrets.ts';
import { generateToken, hashToken } from '../../auth/secrets.ts';
import { releaseLimit } from '../../auth/throttle.ts';
import type { Database } from '../../db/schema.ts';
import { findMemberByIdentifier } from '../../members/find.ts';
import { errors } from '../../messages/es.ts';
import { countCaptchaThrottle } from '../../ops/metrics.ts';
import { normalizeRecoveryCode, randomCode } from '../../staff/second-factor.ts';
import { checkCaptcha } from '../captcha-check.ts';
import type { FlowDeps, RequestContext } from '../context.ts';
import { invalidFields } from '../errors.ts';
import { recoveryErrors } from './errors.ts';
import { documentHashOf, readIdentifier, spendCodeTry } from './service.ts';
import { SET_PASSWORD_TOKEN_MINUTES } from './state.ts';

/** How long a printed code lasts: the member's day to get home and type it. */
export const ACTIVATION_CODE_HOURS = 24;
/** Tries per printed code, as for an SMS code. */
export const ACTIVATION_CODE_MAX_TRIES = 5;
export const ACTIVATION_CODE_LENGTH = 10;
/** The public page that takes a printed code. */
export const ACTIVATION_CODE_PATH = '/codigo-de-activacion';
/** Kept apart from every other code's hash: an activation code proves nothing else. */
const HASH_PURPOSE = 'activation-code';

/** "ABCDE-FGHJK": the code as printed, in two groups easy to read aloud. */
export function formatActivationCode(code: string): string {
  return `${code.slice(0, 5)}-${code.slice(5)}`;
}

/**
 * A new printed code for a member, in the caller's transaction (the desk
 * records its visit in it): the member's older printed codes are retired.
 * Answers the code (shown once, on the printable page) and its expiry.
 */
export async function issueActivationCode(
  trx: Database,
  deps: Pick<FlowDeps, 'secret' | 'clock'>,
  memberId: number,
): Promise<{ code: string; expiresAt: Date }> {
  const now = deps.clock.now();
  await retireSecrets(trx, memberId, now, { purposes: ['activation'] });
  const code = randomCode(ACTIVATION_CODE_LENGTH);
  await storeSecret(trx, {
    memberId,
    kind: 'printed_code',
    purpose: 'activation',
    secretHash: codeHash(deps.secret, HASH_PURPOSE, memberId, code),
    now,
    minutes: ACTIVATION_CODE_HOURS * 60,
  });
  return { code, expiresAt: new Date(now.getTime() + ACTIVATION_CODE_HOURS * 3_600_000) };
}

export interface ActivationCodeInput {
  document: string | undefined;
  code: string | undefined;
  captcha: string | undefined;
}

/**
 * The member's step: document, printed code and CAPTCHA. A right code
 * becomes a set-password token; a wrong one is ACTIVATION_CODE_INVALID,
 * the same for an unknown document, a used, expired or spent code.
 */
export async function redeemActivationCode(
  deps: FlowDeps,
  input: ActivationCodeInput,
  context: RequestContext,
): Promise<{ token: string }> {
  const fields: Record<string, string> = {};
  const identifier = readIdentifier(input.document, fields);
  const typed = (input.code ?? '').trim();
  const code = typed === '' ? null : normalizeRecoveryCode(typed);
  if (typed === '') fields.code = errors.ACTIVATION_CODE_REQUIRED;
  else if (!code) fields.code = errors.ACTIVATION_CODE_FORMAT;
  if (Object.keys(fields).length > 0 || !code) throw invalidFields(fields);

  const documentHash = documentHashOf(deps, identifier);
  await checkCaptcha(deps, input.captcha, context, documentHash).catch((error: unknown) => {
    countCaptchaThrottle(deps.metrics, error);
    throw error;
  });
  // Wrong printed codes spend the budget wrong SMS codes spend, counted before
  // the check and given back when the code was right (verifySmsCode).
  const counted = await spendCodeTry(deps, identifier, context);

  const now = deps.clock.now();
  const member = await findMemberByIdentifier(deps.db, identifier);
  // Unknown documents run the same statements (member id 0 has no codes).
  const memberId = member?.id ?? 0;
  const result = await deps.db.transaction().execute(async (trx) => {
    const { matched, attempts } = await tryCode(trx, {
      memberId,
      kind: 'printed_code',
      purposes: ['activation'],
      candidateHash: codeHash(deps.secret, HASH_PURPOSE, memberId, code),
      now,
      maxTries: ACTIVATION_CODE_MAX_TRIES,
    });
    if (!matched || !member || member.status !== 'active') return { ok: false as const, attempts };
    const token = generateToken();
    await storeSecret(trx, {
      memberId: member.id,
      kind: 'set_password',
      purpose: 'activation',
      secretHash: hashToken(token),
      now,
      minutes: SET_PASSWORD_TOKEN_MINUTES,
    });
    return { ok: true as const, token };
  });

  await recordAudit(deps.db, deps.clock, {
    type: 'code_verified',
    outcome: result.ok ? 'ok' : 'failed',
    memberId: member?.id ?? null,
    documentHash,
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    detail: {
      flow: 'activation',
      via: 'printed_code',
      ...(result.ok
        ? {}
        : { attempts: result.attempts.length > 0 ? Math.max(...result.attempts) : null }),
    },
  });
  if (!result.ok) throw recoveryErrors.activationCodeInvalid();
  await releaseLimit(deps.db, counted.key, counted.windowStart);
  return { token: result.token };
}
