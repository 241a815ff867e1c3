// The recovery and registration steps, shared by the pages and the API.
import { recordAudit } from '../../audit/record.ts';
import { addMinutes } from '../../auth/clock.ts';
import { knownDeviceFor, readDeviceToken } from '../../auth/devices.ts';
import { normalizeDocument, withoutCheckDigit } from '../../auth/documents.ts';
import { generateNumericCode, generateToken, hashToken, keyedHash } from '../../auth/secrets.ts';
import {
  addressKey,
  clearLoginFailures,
  hitLimit,
  peekLimit,
  releaseLimit,
} from '../../auth/throttle.ts';
import {
  countMemberMessages,
  countSmsTo,
  enqueueMessage,
  lockDestination,
} from '../../courier/outbox.ts';
import { passwordChangedEmail } from '../../courier/templates/password-changed.ts';
import { passwordRequestEmail } from '../../courier/templates/password-request.ts';
import { smsCodeMessage } from '../../courier/templates/sms-code.ts';
import type { Database, Member } from '../../db/schema.ts';
import { errors } from '../../messages/es.ts';
import { serviceBusyError } from '../background.ts';
import { checkCaptcha } from '../captcha-check.ts';
import type { FlowDeps, RequestContext } from '../context.ts';
import { throttledError } from '../errors.ts';
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
  if (Object.keys(fields).length > 0 || !channel) throw recoveryErrors.invalidFields(fields);

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
    const member = await findMember(trx, identifier, true);
    // A device that logged in as this member before has budgets of its own,
    // and its links and codes outlive requests from elsewhere (ADR 016).
    const knownDevice = knownDeviceFor(deps.secret, context.deviceToken, member?.id, now) !== null;
    const refusal = await whyNotSend(trx, deps, member, channel, now, knownDevice);
    if (refusal || !member)
      return { member, refusal: refusal ?? 'unknown', queued: false, knownDevice };

    await retireSecrets(trx, member.id, now, knownDevice ? 'all' : 'from-elsewhere');
    if (channel === 'email') {
      const token = generateToken();
      const secretId = await insertSecret(
        trx,
        member.id,
        'email_link',
        flow,
        hashToken(token),
        now,
        EMAIL_LINK_MINUTES,
        knownDevice,
      );
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
      const secretId = await insertSecret(
        trx,
        member.id,
        'sms_code',
        flow,
        codeHash(deps, member.id, code),
        now,
        SMS_CODE_MINUTES,
        knownDevice,
      );
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
  if (Object.keys(fields).length > 0) throw recoveryErrors.invalidFields(fields);

  const now = deps.clock.now();
  const member = await findMember(deps.db, identifier);
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
  const candidate = codeHash(deps, memberId, code);
  const result = await deps.db.transaction().execute(async (trx) => {
    // One statement counts the try on the member's live codes (the newest
    // asked for from a known device, and the newest from elsewhere) and uses
    // up the one that matches: concurrent tries give at most one success.
    const rows = await trx
      .updateTable('one_time_secrets')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        used_at: eb
          .case()
          .when('secret_hash', '=', candidate)
          .then(now)
          .else(eb.ref('used_at'))
          .end(),
      }))
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('one_time_secrets')
          .select((s) => s.fn.max('id').as('id'))
          .where('member_id', '=', memberId)
          .where('kind', '=', 'sms_code')
          .groupBy('known_device'),
      )
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .where('attempts', '<', SMS_CODE_MAX_TRIES)
      .returning(['flow', 'used_at', 'attempts', 'known_device'])
      .execute();
    const used = rows.find((row) => row.used_at !== null);
    if (!used || !member) return { ok: false as const, attempts: rows.map((row) => row.attempts) };
    const token = generateToken();
    await insertSecret(
      trx,
      member.id,
      'set_password',
      used.flow,
      hashToken(token),
      now,
      SET_PASSWORD_TOKEN_MINUTES,
      used.known_device,
    );
    return { ok: true as const, token, flow: used.flow };
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
  if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const row = await deps.db
    .selectFrom('one_time_secrets')
    .innerJoin('members', 'members.id', 'one_time_secrets.member_id')
    .select([
      'one_time_secrets.flow',
      'members.first_name',
      'members.last_name',
      'members.document',
    ])
    .where('one_time_secrets.secret_hash', '=', hashToken(token))
    .where('one_time_secrets.kind', 'in', ['email_link', 'set_password'])
    .where('one_time_secrets.used_at', 'is', null)
    .where('one_time_secrets.expires_at', '>', deps.clock.now())
    .where('members.status', '=', 'active')
    .executeTakeFirst();
  if (!row) return null;
  return {
    flow: row.flow,
    holder: maskedHolder(row.first_name, row.last_name, row.document),
  };
}

/** "Ana P., documento ***456": enough for the holder to recognise, little for anyone else. */
export function maskedHolder(firstName: string, lastName: string, document: string): string {
  const first = firstName.normalize('NFC').trim().split(/\s+/)[0] ?? '';
  const initial = lastName.normalize('NFC').trim().charAt(0).toLocaleUpperCase('es-UY');
  const name = initial ? `${first} ${initial}.` : first;
  return `${name}, documento ***${document.slice(-3)}`;
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
  const token = input.token ?? '';
  const tokenHash = /^[A-Za-z0-9_-]{43}$/.test(token) ? hashToken(token) : null;
  const now = deps.clock.now();
  const found = tokenHash
    ? await deps.db
        .selectFrom('one_time_secrets')
        .innerJoin('members', 'members.id', 'one_time_secrets.member_id')
        .select([
          'one_time_secrets.id as secretId',
          'one_time_secrets.kind',
          'one_time_secrets.flow',
          'members.id as memberId',
          'members.document',
          'members.member_number',
          'members.email',
          'members.status',
        ])
        .where('one_time_secrets.secret_hash', '=', tokenHash)
        .where('one_time_secrets.kind', 'in', ['email_link', 'set_password'])
        .where('one_time_secrets.used_at', 'is', null)
        .where('one_time_secrets.expires_at', '>', now)
        .executeTakeFirst()
    : undefined;
  if (found?.status !== 'active') throw recoveryErrors.tokenInvalid();

  const password = input.password ?? '';
  const problems = deps.passwordPolicy.check({
    password,
    confirmation: input.passwordConfirmation ?? '',
    context: [found.document, found.member_number],
  });
  if (Object.keys(problems).length > 0) throw recoveryErrors.passwordRejected(problems);

  await checkCaptcha(deps, input.captcha, context, documentHashOf(deps, found.document));
  const passwordHash = await deps.hasher.hash(password);
  const via = found.kind === 'email_link' ? 'email' : 'sms';

  const changed = await deps.db.transaction().execute(async (trx) => {
    const used = await trx
      .updateTable('one_time_secrets')
      .set({ used_at: now })
      .where('id', '=', found.secretId)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('id')
      .executeTakeFirst();
    if (!used) return false;
    await trx
      .updateTable('members')
      .set({ password_hash: passwordHash, password_changed_at: now, updated_at: now })
      .where('id', '=', found.memberId)
      .execute();
    await retireSecrets(trx, found.memberId, now);
    await trx.deleteFrom('sessions').where('member_id', '=', found.memberId).execute();
    // A member who just proved control of their email or phone need not wait
    // out a login pause their old password earned.
    await clearLoginFailures(trx, keyedHash(deps.secret, 'document', found.document));
    if (found.email) {
      await enqueueMessage(
        trx,
        deps.clock,
        deps.secret,
        {
          channel: 'email',
          to: found.email,
          template: 'password-changed',
          content: passwordChangedEmail({ at: now, via }),
        },
        found.memberId,
      );
    }
    return true;
  });
  if (!changed) throw recoveryErrors.tokenInvalid();

  await recordAudit(deps.db, deps.clock, {
    type: 'password_set',
    outcome: 'ok',
    memberId: found.memberId,
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    detail: { flow: found.flow, via },
  });
  deps.courier.wake();
  return { flow: found.flow };
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
  return digits.replace(/^0+(?=\d)/, '');
}

/**
 * The member by document, else by member number, else, for 8 digits ending in
 * their own check digit (SPEC §3: members often type it), by the document
 * without it. With `lock`, the row is locked so one member's requests are
 * counted one at a time.
 */
async function findMember(
  db: Database,
  identifier: string,
  lock = false,
): Promise<Member | undefined> {
  const base = withoutCheckDigit(identifier);
  const lookups: ['document' | 'member_number', string][] = [
    ['document', identifier],
    ['member_number', identifier],
    ...(base ? [['document', base] as ['document', string]] : []),
  ];
  for (const [column, value] of lookups) {
    const query = db.selectFrom('members').selectAll().where(column, '=', value);
    const member = await (lock ? query.forUpdate() : query).executeTakeFirst();
    if (member) return member;
  }
  return undefined;
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
  // The member's row is locked (findMember with lock); the number may be shared.
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
async function withinSmsBudget(db: Database, deps: FlowDeps): Promise<boolean> {
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

/**
 * Kills the member's unused links, codes and set-password tokens: all of
 * them, or (for a request from elsewhere) only those asked for from
 * elsewhere, so a stranger's request never cancels the member's own.
 */
async function retireSecrets(
  db: Database,
  memberId: number,
  now: Date,
  scope: 'all' | 'from-elsewhere' = 'all',
): Promise<void> {
  let query = db
    .updateTable('one_time_secrets')
    .set({ used_at: now })
    .where('member_id', '=', memberId)
    .where('used_at', 'is', null);
  if (scope === 'from-elsewhere') query = query.where('known_device', '=', false);
  await query.execute();
}

/** Stores a secret's hash; answers its id (the outbox message that carries it names it). */
async function insertSecret(
  db: Database,
  memberId: number,
  kind: 'email_link' | 'sms_code' | 'set_password',
  flow: RecoveryFlow,
  secretHash: string,
  now: Date,
  minutes: number,
  knownDevice: boolean,
): Promise<string> {
  const row = await db
    .insertInto('one_time_secrets')
    .values({
      member_id: memberId,
      kind,
      flow,
      secret_hash: secretHash,
      created_at: now,
      expires_at: addMinutes(now, minutes),
      known_device: knownDevice,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

function codeHash(deps: FlowDeps, memberId: number, code: string): string {
  return keyedHash(deps.secret, 'sms-code', `${memberId}:${code}`);
}
