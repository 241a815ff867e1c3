// The recovery and registration steps, shared by the pages and the API.

import { applyPasswordChange } from '../../account/set-password.ts';
import { recordAudit } from '../../audit/record.ts';
import { addMinutes } from '../../auth/clock.ts';
import { knownDeviceFor, readDeviceToken } from '../../auth/devices.ts';
import { normalizeDocument, withoutLeadingZeros } from '../../auth/documents.ts';
import {
  codeHash,
  consumeSecret,
  peekSecret,
  retireSecrets,
  type SecretPurpose,
  storeSecret,
  tryCode,
} from '../../auth/one-time-secrets.ts';
import { generateNumericCode, generateToken, hashToken, keyedHash } from '../../auth/secrets.ts';
import { addressKey, hitLimit, peekLimit, releaseLimit } from '../../auth/throttle.ts';
import {
  countMemberMessages,
  countSmsTo,
  enqueueMessage,
  lockDestination,
} from '../../courier/outbox.ts';
import { passwordRequestEmail } from '../../courier/templates/password-request.ts';
import { smsCodeMessage } from '../../courier/templates/sms-code.ts';
import type { Database, Member } from '../../db/schema.ts';
import { findMemberByIdentifier } from '../../members/find.ts';
import { errors, text } from '../../messages/es.ts';
import { serviceBusyError } from '../background.ts';
import { checkCaptcha } from '../captcha-check.ts';
import type { FlowDeps, RequestContext } from '../context.ts';
import { invalidFields, throttledError } from '../errors.ts';
import { recoveryErrors } from './errors.ts';
import {
  type DeliveryChannel,
  EMAIL_LINK_MINUTES,
  type RecoveryFlow,
  SET_PASSWORD_TOKEN_MINUTES,
  SMS_BUDGET_KEY,
  SMS_BUDGET_WINDOW_MS,
  SMS_CODE_MAX_TRIES,
  SMS_CODE_MINUTES,
} from './state.ts';

export const CHANGE_PASSWORD_PATH = '/cambiar-contrasena';

/** The messages a member asks for: what the per-member limit counts (not the change notices). */
const REQUEST_TEMPLATES = ['password-request', 'sms-code'] as const;

export interface PasswordRequestInput {
  document: string | undefined;
  channel: string | undefined;
  captcha: string | undefined;
  flow: RecoveryFlow;
}

/** Step 1: send a link or a code. Answers the same whatever the document is. */
export async function requestPasswordChange(
  deps: FlowDeps,
  input: PasswordRequestInput,
  context: RequestContext,
): Promise<{ channel: DeliveryChannel; identifier: string }> {
  const fields: Record<string, string> = {};
  const identifier = readIdentifier(input.document, fields);
  const channel: DeliveryChannel | null =
    input.channel === 'email' || input.channel === 'sms' ? input.channel : null;
  if (!channel) fields.channel = errors.CHANNEL_REQUIRED;
  if (Object.keys(fields).length > 0 || !channel) throw invalidFields(fields);

  // Refusals that spend nothing come first: a full queue, a spent budget.
  if (!deps.background.hasRoom()) throw serviceBusyError();
  const budgetLeft = await requestsBudget(peekLimit, deps, context);
  if (!budgetLeft.allowed)
    await refuseRequests(deps, identifier, context, budgetLeft.retryAfterSeconds);

  // Only a request with a solved CAPTCHA spends the budget the address's
  // members share; junk spends its own (captcha-check.ts).
  await checkCaptcha(deps, input.captcha, context, documentHashOf(deps, identifier));
  const perAddress = await requestsBudget(hitLimit, deps, context);
  if (!perAddress.allowed)
    await refuseRequests(deps, identifier, context, perAddress.retryAfterSeconds);

  // Everything that depends on who the document belongs to runs after the
  // answer, for every document alike: the answer's time tells nothing.
  const request = { identifier, channel, flow: input.flow };
  deps.background.run('password-request', () => fulfilPasswordRequest(deps, request, context));
  return { channel, identifier };
}

/**
 * Step 1, after the answer: finds the member, applies the per-member and
 * per-number limits and the SMS budget, and queues the link or the code;
 * or, for an unknown document (or a refusal), sends nothing. Audited either way.
 */
async function fulfilPasswordRequest(
  deps: FlowDeps,
  request: { identifier: string; channel: DeliveryChannel; flow: RecoveryFlow },
  context: RequestContext,
): Promise<void> {
  const { identifier, channel, flow } = request;
  const now = deps.clock.now();
  const outcome = await deps.db.transaction().execute(async (trx) => {
    const member = await findMemberByIdentifier(trx, identifier, { lock: true });
    // A device that logged in as this member before has budgets of its own,
    // and its links and codes outlive requests from elsewhere (ADR 016).
    const knownDevice = knownDeviceFor(deps.secret, context.deviceToken, member?.id, now) !== null;
    const refusal = await whyNotSend(trx, deps, member, channel, now, knownDevice);
    if (refusal || !member)
      return { member, refusal: refusal ?? 'unknown', queued: false, knownDevice };

    await retireSecrets(trx, member.id, now, {
      purposes: RECOVERY_PURPOSES,
      fromElsewhereOnly: !knownDevice,
    });
    if (channel === 'email') {
      const token = generateToken();
      const secretId = await storeSecret(trx, {
        memberId: member.id,
        kind: 'email_link',
        purpose: flow,
        secretHash: hashToken(token),
        now,
        minutes: EMAIL_LINK_MINUTES,
        knownDevice,
      });
      const link = `${deps.publicUrl}${CHANGE_PASSWORD_PATH}?token=${token}`;
      await enqueueMessage(
        trx,
        deps.clock,
        deps.secret,
        {
          channel: 'email',
          to: member.email as string,
          template: 'password-request',
          content: passwordRequestEmail({ link, minutes: EMAIL_LINK_MINUTES }),
        },
        member.id,
        { secretId, knownDevice },
      );
    } else {
      const code = generateNumericCode(6);
      const secretId = await storeSecret(trx, {
        memberId: member.id,
        kind: 'sms_code',
        purpose: flow,
        secretHash: smsCodeHash(deps, member.id, code),
        now,
        minutes: SMS_CODE_MINUTES,
        knownDevice,
      });
      await enqueueMessage(
        trx,
        deps.clock,
        deps.secret,
        {
          channel: 'sms',
          to: member.mobile as string,
          template: 'sms-code',
          content: smsCodeMessage({ code, minutes: SMS_CODE_MINUTES }),
        },
        member.id,
        { secretId, knownDevice },
      );
    }
    return { member, refusal: null, queued: true, knownDevice };
  });

  await recordAudit(deps.db, deps.clock, {
    type: channel === 'email' ? 'link_sent' : 'code_sent',
    outcome: outcome.queued ? 'ok' : 'ignored',
    memberId: outcome.member?.id ?? null,
    documentHash: documentHashOf(deps, identifier),
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    detail: {
      flow,
      via: channel,
      ...(outcome.refusal ? { reason: outcome.refusal } : {}),
      ...(outcome.knownDevice ? { device: 'known' } : {}),
    },
  });
  if (outcome.queued) deps.courier.wake();
}

/** Step 2 (SMS): a right code becomes a set-password token. */
export async function verifySmsCode(
  deps: FlowDeps,
  input: { document: string | undefined; code: string | undefined },
  context: RequestContext,
): Promise<{ token: string; flow: RecoveryFlow }> {
  const fields: Record<string, string> = {};
  const identifier = readIdentifier(input.document, fields);
  const code = (input.code ?? '').replace(/\s/g, '');
  if (code === '') fields.code = errors.CODE_REQUIRED;
  else if (!/^\d{6}$/.test(code)) fields.code = errors.CODE_FORMAT;
  if (Object.keys(fields).length > 0) throw invalidFields(fields);

  const now = deps.clock.now();
  const member = await findMemberByIdentifier(deps.db, identifier);
  // A try is counted against the address's budget of wrong codes before the
  // code is checked, in one statement, and given back when it was right: so
  // parallel wrong codes cannot all pass a check made before any was counted.
  // The budget is its own (junk codes need no CAPTCHA: they must not spend
  // the password requests of the address's members), and a device that
  // logged in as this member before does not spend it (ADR 016); each code
  // has its own SMS_CODE_MAX_TRIES either way.
  const knownDevice = knownDeviceFor(deps.secret, context.deviceToken, member?.id, now);
  const counted = knownDevice ? null : await spendCodeTry(deps, identifier, context);

  // Unknown documents run the same statements (on member id 0, which no
  // member has): the answer's time does not tell them apart.
  const memberId = member?.id ?? 0;
  const candidate = smsCodeHash(deps, memberId, code);
  const result = await deps.db.transaction().execute(async (trx) => {
    const { matched, attempts } = await tryCode(trx, {
      memberId,
      kind: 'sms_code',
      purposes: RECOVERY_PURPOSES,
      candidateHash: candidate,
      now,
      maxTries: SMS_CODE_MAX_TRIES,
    });
    if (!matched || !member || !isRecoveryPurpose(matched.purpose))
      return { ok: false as const, attempts };
    const token = generateToken();
    await storeSecret(trx, {
      memberId: member.id,
      kind: 'set_password',
      purpose: matched.purpose,
      secretHash: hashToken(token),
      now,
      minutes: SET_PASSWORD_TOKEN_MINUTES,
      knownDevice: matched.known_device,
    });
    return { ok: true as const, token, flow: matched.purpose };
  });

  await recordAudit(deps.db, deps.clock, {
    type: 'code_verified',
    outcome: result.ok ? 'ok' : 'failed',
    memberId: member?.id ?? null,
    documentHash: documentHashOf(deps, identifier),
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    ...(result.ok
      ? knownDevice
        ? { detail: { device: 'known' } }
        : {}
      : {
          detail: {
            attempts: result.attempts.length > 0 ? Math.max(...result.attempts) : null,
            ...(knownDevice ? { device: 'known' } : {}),
          },
        }),
  });
  if (!result.ok) throw recoveryErrors.codeInvalid();
  if (counted) await releaseLimit(deps.db, counted.key, counted.windowStart);
  return { token: result.token, flow: result.flow };
}

/** Counts one code try against the address's budget of wrong codes; refuses past it. */
async function spendCodeTry(
  deps: FlowDeps,
  identifier: string,
  context: RequestContext,
): Promise<{ key: string; windowStart: Date }> {
  const key = `sms-code-failures:${addressKey(context.ip)}`;
  const verdict = await hitLimit(deps.db, deps.clock, key, deps.limits.smsCodeFailuresPerAddress);
  if (!verdict.allowed) {
    await releaseLimit(deps.db, key, verdict.windowStart);
    await refuseRequests(
      deps,
      identifier,
      context,
      verdict.retryAfterSeconds,
      'sms_code_failures_per_address',
    );
  }
  return { key, windowStart: verdict.windowStart };
}

/** The per-address budget of password requests: spent (hitLimit) or looked at (peekLimit). */
function requestsBudget(
  look: typeof hitLimit | typeof peekLimit,
  deps: FlowDeps,
  context: RequestContext,
) {
  // A device that logged in as a member has the budget of that member's
  // devices instead of its address's: requests from its NAT neighbours
  // cannot starve it (ADR 016). One budget per member, however many tokens
  // the member's logins minted, so a token buys its holder no more than that.
  const device = readDeviceToken(deps.secret, context.deviceToken, deps.clock.now());
  const key = device
    ? `password-requests:member:${device.memberId}`
    : `password-requests:${addressKey(context.ip)}`;
  return look(deps.db, deps.clock, key, deps.limits.passwordRequestsPerAddress);
}

function documentHashOf(deps: FlowDeps, identifier: string): string {
  return keyedHash(deps.secret, 'document', identifier);
}

async function refuseRequests(
  deps: FlowDeps,
  identifier: string,
  context: RequestContext,
  seconds: number,
  limit = 'password_requests_per_address',
): Promise<never> {
  await recordAudit(deps.db, deps.clock, {
    type: 'throttled',
    outcome: 'refused',
    documentHash: documentHashOf(deps, identifier),
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    detail: { limit, retryAfter: seconds },
  });
  throw throttledError('REQUESTS_THROTTLED', seconds);
}

/**
 * Whether a link or set-password token can still be used (opening the page
 * never uses it), and whose password it sets, masked ("Ana P., documento
 * ***456"): a member who opened a link someone else sent notices it is not
 * their account.
 */
export async function peekPasswordToken(
  deps: FlowDeps,
  token: string | undefined,
): Promise<{ flow: RecoveryFlow; holder: string } | null> {
  const found = await liveToken(deps, token, deps.clock.now());
  if (!found) return null;
  const { secret, member } = found;
  return {
    flow: secret.purpose,
    holder: maskedHolder(member.first_name, member.last_name, member.document),
  };
}

/**
 * The live link or set-password token of recovery or registration behind a
 * raw token, with its active member; null otherwise.
 */
async function liveToken(deps: FlowDeps, token: string | undefined, now: Date) {
  if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const secret = await peekSecret(deps.db, hashToken(token), ['email_link', 'set_password'], now);
  if (!secret || !isRecoveryPurpose(secret.purpose)) return null;
  const member = await deps.db
    .selectFrom('members')
    .selectAll()
    .where('id', '=', secret.member_id)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return member ? { secret: { ...secret, purpose: secret.purpose }, member } : null;
}

/** "Ana P., documento ***456": enough for the holder to recognise, little for anyone else. */
export function maskedHolder(firstName: string, lastName: string, document: string): string {
  const first = firstName.normalize('NFC').trim().split(/\s+/)[0] ?? '';
  const initial = lastName.normalize('NFC').trim().charAt(0).toLocaleUpperCase('es-UY');
  const name = initial ? `${first} ${initial}.` : first;
  return text.maskedHolder(name, document.slice(-3));
}

export interface SetPasswordInput {
  token: string | undefined;
  password: string | undefined;
  passwordConfirmation: string | undefined;
  captcha: string | undefined;
}

/** Step 3: the new password. The token is used up only when everything else is right. */
export async function setPasswordWithToken(
  deps: FlowDeps,
  input: SetPasswordInput,
  context: RequestContext,
): Promise<{ flow: RecoveryFlow }> {
  const now = deps.clock.now();
  const found = await liveToken(deps, input.token, now);
  if (!found) throw recoveryErrors.tokenInvalid();
  const { secret, member } = found;

  const password = input.password ?? '';
  const problems = deps.passwordPolicy.check({
    password,
    confirmation: input.passwordConfirmation ?? '',
    context: [member.document, member.member_number],
  });
  if (Object.keys(problems).length > 0) throw recoveryErrors.passwordRejected(problems);

  await checkCaptcha(deps, input.captcha, context, documentHashOf(deps, member.document));
  const passwordHash = await deps.hasher.hash(password);
  const via = secret.kind === 'email_link' ? 'email' : 'sms';

  // The token is used up in the same transaction as the change: of concurrent
  // uses, one sets the password.
  const changed = await deps.db.transaction().execute(async (trx) => {
    if (!(await consumeSecret(trx, secret.id, now))) return false;
    await applyPasswordChange(trx, deps, { member, passwordHash, now, via });
    return true;
  });
  if (!changed) throw recoveryErrors.tokenInvalid();

  await recordAudit(deps.db, deps.clock, {
    type: 'password_set',
    outcome: 'ok',
    memberId: member.id,
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    detail: { flow: secret.purpose, via },
  });
  deps.courier.wake();
  return { flow: secret.purpose };
}

function readIdentifier(raw: string | undefined, fields: Record<string, string>): string {
  const trimmed = (raw ?? '').trim();
  if (trimmed === '') {
    fields.document = errors.DOCUMENT_OR_MEMBER_REQUIRED;
    return '';
  }
  const digits = trimmed.length <= 32 ? normalizeDocument(trimmed) : null;
  if (!digits || digits.length > 12) {
    fields.document = errors.DOCUMENT_OR_MEMBER_INVALID;
    return '';
  }
  return withoutLeadingZeros(digits);
}

/** Why nothing may be sent, or null when it may. */
async function whyNotSend(
  db: Database,
  deps: FlowDeps,
  member: Member | undefined,
  channel: DeliveryChannel,
  now: Date,
  knownDevice: boolean,
): Promise<string | null> {
  if (!member) return 'unknown';
  if (member.status !== 'active') return 'inactive';
  const destination = channel === 'email' ? member.email : member.mobile;
  if (!destination) return 'no_contact';
  const limits = deps.messageLimits;
  const hourAgo = addMinutes(now, -60);
  // The member's row is locked (findMemberByIdentifier with lock); the number may be shared.
  if (
    (await countMemberMessages(db, member.id, hourAgo, REQUEST_TEMPLATES, knownDevice)) >=
    limits.perMemberPerHour
  )
    return 'member_limit';
  if (channel === 'sms') {
    await lockDestination(db, 'sms', destination);
    if ((await countSmsTo(db, destination, hourAgo, knownDevice)) >= limits.smsPerNumberPerHour)
      return 'number_hour_limit';
    const dayAgo = addMinutes(now, -24 * 60);
    if ((await countSmsTo(db, destination, dayAgo, knownDevice)) >= limits.smsPerNumberPerDay)
      return 'number_day_limit';
    if (!(await withinSmsBudget(db, deps))) return 'sms_budget';
  }
  return null;
}

/**
 * The hourly SMS budget (SMS cost money; email does not stop). Counted in the
 * request's transaction; the request that spends the last SMS raises the
 * alert once, and later ones send nothing until the next hour.
 */
export async function withinSmsBudget(db: Database, deps: FlowDeps): Promise<boolean> {
  const budget = deps.limits.smsHourlyBudget;
  if (budget === 0) return false;
  const verdict = await hitLimit(db, deps.clock, SMS_BUDGET_KEY, {
    limit: budget,
    windowMs: SMS_BUDGET_WINDOW_MS,
  });
  if (verdict.count === budget) {
    deps.log.error(
      { alert: 'sms_budget_exhausted', budget, resumesInSeconds: verdict.retryAfterSeconds },
      'ALERT: the hourly SMS budget is spent; SMS stop until the next hour (email goes on)',
    );
    await recordAudit(db, deps.clock, {
      type: 'sms_budget_exhausted',
      outcome: 'refused',
      detail: { budget, resumesInSeconds: verdict.retryAfterSeconds },
    });
  }
  return verdict.allowed;
}

/** The purposes of this flow's secrets. */
const RECOVERY_PURPOSES: readonly RecoveryFlow[] = ['recovery', 'registration'];

function isRecoveryPurpose(purpose: SecretPurpose): purpose is RecoveryFlow {
  return (RECOVERY_PURPOSES as readonly string[]).includes(purpose);
}

function smsCodeHash(deps: FlowDeps, memberId: number, code: string): string {
  return codeHash(deps.secret, 'sms-code', memberId, code);
}
