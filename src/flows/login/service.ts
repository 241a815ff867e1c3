// Login: one service function used by the HTML form and the JSON API alike.
import { setTimeout as pause } from 'node:timers/promises';
import type { Compilable } from 'kysely';
import { type AuditEvent, auditInsert, recordAudit } from '../../audit/record.ts';
import { issueDeviceToken, type KnownDevice, readDeviceToken } from '../../auth/devices.ts';
import { normalizeDocument, withoutCheckDigit, withoutLeadingZeros } from '../../auth/documents.ts';
import { keyedHash } from '../../auth/secrets.ts';
import { deleteSession, newSession } from '../../auth/sessions.ts';
import {
  addressKey,
  type Companion,
  claimLoginAttempt,
  claimLoginAttemptFrom,
  hitLimitQuery,
  type LockoutPolicy,
  peekLoginWaits,
  releaseLimitQuery,
  settleLoginAttemptQuery,
} from '../../auth/throttle.ts';
import type { Member, Session } from '../../db/schema.ts';
import { together } from '../../db/together.ts';
import {
  findMemberByDocument,
  memberByDocumentColumn,
  memberFromJson,
} from '../../members/find.ts';
import { errors } from '../../messages/es.ts';
import { countCaptchaThrottle, type ThrottleKind } from '../../ops/metrics.ts';
import { checkCaptcha } from '../captcha-check.ts';
import { type FlowDeps, type MemberView, type RequestContext, viewMember } from '../context.ts';
import { invalidFields, throttledError } from '../errors.ts';
import { loginErrors } from './errors.ts';
import {
  GLOBAL_FAILURES_KEY,
  lockoutPolicyFor,
  MAX_DOCUMENT_LENGTH,
  MAX_PASSWORD_LENGTH,
  SLOT_POLL_MS,
  SLOT_POLLS,
} from './state.ts';

export interface LoginInput {
  document: string | undefined;
  password: string | undefined;
  captcha: string | undefined;
}

export interface LoginResult {
  token: string;
  expiresAt: Date;
  member: MemberView;
  /** A new device token: this browser or app is known to the member from now on (ADR 016). */
  deviceToken: string;
}

/**
 * Whose budget a try spends. A try from a device that logged in as this
 * member before spends the device's own; any other spends the account's
 * and the client address's, which tries from elsewhere share.
 */
type Budget =
  | { kind: 'device'; key: string; device: KnownDevice }
  | { kind: 'account'; key: string; addressKey: string };

export async function logIn(
  deps: FlowDeps,
  input: LoginInput,
  context: RequestContext,
): Promise<LoginResult> {
  const { document, password } = readCredentials(input);
  const documentHash = keyedHash(deps.secret, 'document', document);
  // A device token names its member: whether it is this document's is
  // known once the member is read. Without one, the member is read in the
  // same statement as the first throttle look (one round trip fewer).
  const candidate = readDeviceToken(deps.secret, context.deviceToken, deps.clock.now());
  let member = candidate ? await findMemberByDocument(deps.db, document) : undefined;
  const device = candidate?.memberId === member?.id ? candidate : null;
  const budget: Budget = device
    ? { kind: 'device', key: device.budgetKey, device }
    : { kind: 'account', key: documentHash, addressKey: addressCounter(context) };
  const memberColumn = candidate ? undefined : memberByDocumentColumn(document);
  // A first look spares a CAPTCHA to a try the limits would refuse anyway;
  // with no CAPTCHA to check, the claim below refuses such a try alone.
  const lookFirst = deps.captcha.provider !== 'none';
  if (lookFirst) {
    const read = await refuseWhileThrottled(deps, budget, documentHash, context, memberColumn);
    if (memberColumn) member = memberFromJson(read);
  }

  // A failed CAPTCHA spends only its own budget (captcha-check.ts).
  await checkCaptcha(deps, input.captcha, context, documentHash).catch((error: unknown) => {
    if (countCaptchaThrottle(deps.metrics, error)) deps.metrics?.countLogin('throttled');
    throw error;
  });

  // A slot before the password is checked; the outcome is recorded after.
  const claimed = await claimAttempt(
    deps,
    budget,
    documentHash,
    context,
    lookFirst ? undefined : memberColumn,
  );
  const attempt = claimed.attempt;
  if (memberColumn && !lookFirst) member = memberFromJson(claimed.companion);

  const usable = member && member.status === 'active' && member.password_hash ? member : undefined;
  let matches = false;
  try {
    matches = usable?.password_hash
      ? await deps.hasher.verify(usable.password_hash, password)
      : await deps.hasher.verifyNothing(password);
  } catch (error) {
    await settleLoginAttemptQuery(
      deps.db,
      deps.clock,
      budget.key,
      'failed',
      lockoutPolicy(deps, budget),
    ).execute();
    throw error;
  }

  if (!usable || !matches) {
    await recordFailure(deps, budget, {
      type: 'login',
      outcome: 'failed',
      memberId: member?.id ?? null,
      documentHash,
      detail: {
        reason: !member ? 'unknown' : !usable ? 'unusable' : 'password',
        ...(device ? { device: 'known' } : {}),
      },
      ...auditContext(context),
    });
    // One outcome for an unknown document and a wrong password (ADR 015).
    deps.metrics?.countLogin('failed');
    const base = member ? null : withoutCheckDigit(document);
    throw base ? loginErrors.checkDigit(base) : loginErrors.invalidCredentials();
  }

  await rehashIfNeeded(deps, usable, password, context);
  const { token, session } = await openSession(deps, budget, attempt, usable, device, context);
  deps.metrics?.countLogin('ok');
  return {
    token,
    expiresAt: session.expires_at,
    member: viewMember(usable),
    deviceToken: issueDeviceToken(deps.secret, usable.id, deps.clock.now()),
  };
}

/**
 * The success, in one statement: the slot given back and the failures
 * forgotten, the address's count given back, the audit event, the session.
 */
async function openSession(
  deps: FlowDeps,
  budget: Budget,
  attempt: Attempt,
  member: Member,
  device: KnownDevice | null,
  context: RequestContext,
): Promise<{ token: string; session: Session }> {
  const { token, row } = newSession(deps.clock, deps.sessionPolicy, member.id, {
    kind: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
  });
  const alongside: Compilable[] = [
    settleLoginAttemptQuery(deps.db, deps.clock, budget.key, 'ok', lockoutPolicy(deps, budget)),
    auditInsert(deps.db, deps.clock, {
      type: 'login',
      outcome: 'ok',
      memberId: member.id,
      ...(device ? { detail: { device: 'known' } } : {}),
      ...auditContext(context),
    }),
  ];
  if (attempt.address)
    alongside.push(releaseLimitQuery(deps.db, attempt.address.key, attempt.address.windowStart));
  await together(deps.db, alongside).insertInto('sessions').values(row).execute();
  return { token, session: row };
}

/**
 * A failure, in one statement: counted on its budget (the one past the free
 * failures starts the wait), audited, and counted on every instance
 * together; the one that goes past LOGIN_FAILURES_GLOBAL raises the alert
 * (once a window). Nobody is refused for the global count: the CAPTCHA gets
 * harder instead (the challenge route).
 */
async function recordFailure(deps: FlowDeps, budget: Budget, event: AuditEvent): Promise<void> {
  const rule = deps.limits.loginFailuresGlobal;
  const global = together(deps.db, [
    settleLoginAttemptQuery(deps.db, deps.clock, budget.key, 'failed', lockoutPolicy(deps, budget)),
    auditInsert(deps.db, deps.clock, event),
  ]);
  const hit = hitLimitQuery(global, deps.clock, GLOBAL_FAILURES_KEY, rule);
  const verdict = hit.verdict((await hit.query.executeTakeFirstOrThrow()).count);
  if (!verdict.allowed) deps.metrics?.countThrottleHit('login_failures_global');
  if (verdict.count !== rule.limit + 1) return;
  deps.log.error(
    { alert: 'login_failures_surge', limit: rule.limit, windowSeconds: rule.windowMs / 1000 },
    'ALERT: failed logins on all instances passed LOGIN_FAILURES_GLOBAL; CAPTCHA challenges are harder until the window ends',
  );
  await recordAudit(deps.db, deps.clock, {
    type: 'login_failures_surge',
    outcome: 'refused',
    detail: { limit: rule.limit, resumesInSeconds: verdict.retryAfterSeconds },
  });
}

async function rehashIfNeeded(
  deps: FlowDeps,
  member: Member,
  password: string,
  context: RequestContext,
): Promise<void> {
  if (!deps.hasher.needsRehash(member.password_hash as string)) return;
  await deps.db
    .updateTable('members')
    .set({ password_hash: await deps.hasher.hash(password), updated_at: deps.clock.now() })
    .where('id', '=', member.id)
    .execute();
  await recordAudit(deps.db, deps.clock, {
    type: 'password_rehashed',
    outcome: 'ok',
    memberId: member.id,
    ...auditContext(context),
  });
}

/**
 * Refuses, before any password work, a login whose budget waits: for a try
 * from elsewhere, the account's wait or the address's failure budget
 * (counted per normalised document whether or not a member has it, so a
 * wait never tells); for a known device, its own wait only. A first look
 * that counts nothing (a refusal spends no CAPTCHA); claimAttempt decides.
 */
async function refuseWhileThrottled(
  deps: FlowDeps,
  budget: Budget,
  documentHash: string,
  context: RequestContext,
  companion: Companion | undefined,
): Promise<unknown> {
  const waits = await peekLoginWaits(
    deps.db,
    deps.clock,
    budget.key,
    budget.kind === 'account'
      ? { key: budget.addressKey, rule: deps.limits.loginFailuresPerAddress }
      : null,
    companion,
  );
  const { ownSeconds, addressSeconds } = waits;
  const seconds = Math.max(ownSeconds, addressSeconds);
  if (seconds > 0)
    await refuse(deps, documentHash, context, ownSeconds > 0 ? budget.kind : 'address', seconds);
  return waits.companion;
}

interface Attempt {
  /** The address count this try added (given back on success), for tries from elsewhere. */
  address: { key: string; windowStart: Date } | null;
}

function lockoutPolicy(deps: FlowDeps, budget: Budget): LockoutPolicy {
  return lockoutPolicyFor(deps.limits, budget.kind);
}

/**
 * Counts this try against the client address (tries from elsewhere only)
 * and takes a slot on the account or the device, in one round trip
 * (claimLoginAttemptFrom), so that parallel tries on any instance get no
 * more password checks than the limits allow. When every slot is taken by
 * checks in flight (a family logging in on several phones at once, an app
 * retrying), the try waits for one, briefly, instead of being refused.
 */
async function claimAttempt(
  deps: FlowDeps,
  budget: Budget,
  documentHash: string,
  context: RequestContext,
  companion: Companion | undefined,
): Promise<{ attempt: Attempt; companion: unknown }> {
  const policy = lockoutPolicy(deps, budget);
  let read: unknown;
  for (let poll = 0; ; poll += 1) {
    if (budget.kind === 'account') {
      const claim = await claimLoginAttemptFrom(
        deps.db,
        deps.clock,
        budget.key,
        policy,
        { key: budget.addressKey, rule: deps.limits.loginFailuresPerAddress },
        poll === 0 ? companion : undefined,
      );
      if (poll === 0) read = claim.companion;
      if (claim.allowed)
        return {
          attempt: { address: { key: budget.addressKey, windowStart: claim.address.windowStart } },
          companion: read,
        };
      if (claim.limit === 'address')
        await refuse(deps, documentHash, context, 'address', claim.retryAfterSeconds);
      else if (!claim.busy || poll >= SLOT_POLLS)
        await refuse(
          deps,
          documentHash,
          context,
          'account',
          claim.busy ? 1 : claim.retryAfterSeconds,
        );
    } else {
      const claim = await claimLoginAttempt(deps.db, deps.clock, budget.key, policy);
      if (claim.allowed) return { attempt: { address: null }, companion: undefined };
      if (!claim.busy || poll >= SLOT_POLLS)
        await refuse(
          deps,
          documentHash,
          context,
          'device',
          claim.busy ? 1 : claim.retryAfterSeconds,
        );
    }
    await pause(SLOT_POLL_MS + Math.floor(Math.random() * SLOT_POLL_MS));
  }
}

async function refuse(
  deps: FlowDeps,
  documentHash: string,
  context: RequestContext,
  limit: 'account' | 'address' | 'device',
  seconds: number,
): Promise<never> {
  await recordAudit(deps.db, deps.clock, {
    type: 'throttled',
    outcome: 'refused',
    documentHash,
    detail: { limit, retryAfter: seconds },
    ...auditContext(context),
  });
  deps.metrics?.countThrottleHit(THROTTLE_KIND[limit]);
  deps.metrics?.countLogin('throttled');
  throw throttledError('LOGIN_THROTTLED', seconds);
}

/** The metrics' name of each budget a login try can find spent. */
const THROTTLE_KIND = {
  account: 'login_account_wait',
  device: 'login_device_wait',
  address: 'login_failures_per_address',
} as const satisfies Record<string, ThrottleKind>;

function addressCounter(context: RequestContext): string {
  return `login-failures:${addressKey(context.ip)}`;
}

function readCredentials(input: LoginInput): { document: string; password: string } {
  const fields: Record<string, string> = {};
  const rawDocument = (input.document ?? '').trim();
  const password = input.password ?? '';
  let document = '';
  if (rawDocument === '') fields.document = errors.DOCUMENT_REQUIRED;
  else {
    const normalized =
      rawDocument.length <= MAX_DOCUMENT_LENGTH ? normalizeDocument(rawDocument) : null;
    if (normalized === null || normalized.length < 5 || normalized.length > 9)
      fields.document = errors.DOCUMENT_INVALID;
    else document = withoutLeadingZeros(normalized);
  }
  if (password === '') fields.password = errors.PASSWORD_REQUIRED;
  else if (password.length > MAX_PASSWORD_LENGTH) fields.password = errors.INVALID_CREDENTIALS;
  if (Object.keys(fields).length > 0) throw invalidFields(fields);
  return { document, password };
}

function auditContext(context: RequestContext) {
  return { channel: context.channel, ip: context.ip, userAgent: context.userAgent };
}

/** Ends the session behind a token. */
export async function logOut(
  deps: FlowDeps,
  token: string,
  memberId: number,
  context: RequestContext,
): Promise<void> {
  await deleteSession(deps.db, token);
  await recordAudit(deps.db, deps.clock, {
    type: 'logout',
    outcome: 'ok',
    memberId,
    ...auditContext(context),
  });
}
