// Login: one service function used by the HTML form and the JSON API alike.
import { recordAudit } from '../../audit/record.ts';
import { normalizeDocument, withoutCheckDigit } from '../../auth/documents.ts';
import { keyedHash } from '../../auth/secrets.ts';
import { createSession, deleteSession } from '../../auth/sessions.ts';
import {
  accountWait,
  addressKey,
  claimLoginAttempt,
  clearLoginFailures,
  DEFAULT_LOCKOUT,
  hitLimit,
  peekLimit,
  releaseLimit,
} from '../../auth/throttle.ts';
import { errors } from '../../messages/es.ts';
import { type FlowDeps, type MemberView, type RequestContext, viewMember } from '../context.ts';
import { throttledError } from '../errors.ts';
import { loginErrors } from './errors.ts';
import { GLOBAL_FAILURES_KEY, MAX_DOCUMENT_LENGTH, MAX_PASSWORD_LENGTH } from './state.ts';

export interface LoginInput {
  document: string | undefined;
  password: string | undefined;
  captcha: string | undefined;
}

export interface LoginResult {
  token: string;
  expiresAt: Date;
  member: MemberView;
}

export async function logIn(
  deps: FlowDeps,
  input: LoginInput,
  context: RequestContext,
): Promise<LoginResult> {
  const { document, password } = readCredentials(input);
  const documentHash = keyedHash(deps.secret, 'document', document);
  await refuseWhileThrottled(deps, documentHash, context);

  const verdict = await deps.captcha.verify({ response: input.captcha, ip: context.ip });
  if (verdict !== 'ok') {
    // A failed CAPTCHA is a failed login for the address's budget.
    await hitLimit(
      deps.db,
      deps.clock,
      addressCounter(context),
      deps.limits.loginFailuresPerAddress,
    );
    await countGlobalFailure(deps);
    await recordAudit(deps.db, deps.clock, {
      type: 'captcha_failed',
      outcome: 'refused',
      documentHash,
      ...auditContext(context),
    });
    throw verdict === 'missing' ? loginErrors.captchaMissing() : loginErrors.captchaFailed();
  }

  // Counted as a failure before the password is checked; a success gives it back.
  const attempt = await claimAttempt(deps, documentHash, context);

  const member = await deps.db
    .selectFrom('members')
    .selectAll()
    .where('document', '=', document)
    .executeTakeFirst();

  const usable = member && member.status === 'active' && member.password_hash ? member : undefined;
  const matches = usable?.password_hash
    ? await deps.hasher.verify(usable.password_hash, password)
    : await deps.hasher.verifyNothing(password);

  if (!usable || !matches) {
    await countGlobalFailure(deps);
    await recordAudit(deps.db, deps.clock, {
      type: 'login',
      outcome: 'failed',
      memberId: member?.id ?? null,
      documentHash,
      detail: { reason: !member ? 'unknown' : !usable ? 'unusable' : 'password' },
      ...auditContext(context),
    });
    const base = member ? null : withoutCheckDigit(document);
    throw base ? loginErrors.checkDigit(base) : loginErrors.invalidCredentials();
  }

  await clearLoginFailures(deps.db, documentHash);
  await releaseLimit(deps.db, attempt.addressKey, attempt.windowStart);
  if (deps.hasher.needsRehash(usable.password_hash as string)) {
    await deps.db
      .updateTable('members')
      .set({ password_hash: await deps.hasher.hash(password), updated_at: deps.clock.now() })
      .where('id', '=', usable.id)
      .execute();
    await recordAudit(deps.db, deps.clock, {
      type: 'password_rehashed',
      outcome: 'ok',
      memberId: usable.id,
      ...auditContext(context),
    });
  }

  const { token, session } = await createSession(
    deps.db,
    deps.clock,
    deps.sessionPolicy,
    usable.id,
    {
      kind: context.channel,
      ip: context.ip,
      userAgent: context.userAgent,
    },
  );
  await recordAudit(deps.db, deps.clock, {
    type: 'login',
    outcome: 'ok',
    memberId: usable.id,
    ...auditContext(context),
  });
  return { token, expiresAt: session.expires_at, member: viewMember(usable) };
}

/**
 * Refuses, before any password work, a login for an account in its wait or
 * from an address over its failure budget. Counted per normalised document
 * whether or not a member has it, so a wait never tells. A first look that
 * counts nothing (a refusal spends no CAPTCHA); claimAttempt decides.
 */
async function refuseWhileThrottled(
  deps: FlowDeps,
  documentHash: string,
  context: RequestContext,
): Promise<void> {
  const address = await peekLimit(
    deps.db,
    deps.clock,
    addressCounter(context),
    deps.limits.loginFailuresPerAddress,
  );
  const accountSeconds = await accountWait(deps.db, deps.clock, documentHash);
  const seconds = Math.max(accountSeconds, address.allowed ? 0 : address.retryAfterSeconds);
  if (seconds === 0) return;
  await refuse(deps, documentHash, context, accountSeconds > 0 ? 'account' : 'address', seconds);
}

/**
 * Counts this try against the client address and the account before the
 * password is checked, each in one atomic statement, so that parallel tries
 * (on any instance) get no more checks than the limits allow. A try is a
 * failure until it succeeds: logIn gives the address's count back and clears
 * the account's on success.
 */
async function claimAttempt(
  deps: FlowDeps,
  documentHash: string,
  context: RequestContext,
): Promise<{ addressKey: string; windowStart: Date }> {
  const key = addressCounter(context);
  const address = await hitLimit(deps.db, deps.clock, key, deps.limits.loginFailuresPerAddress);
  if (!address.allowed) {
    await releaseLimit(deps.db, key, address.windowStart);
    await refuse(deps, documentHash, context, 'address', address.retryAfterSeconds);
  }
  const account = await claimLoginAttempt(deps.db, deps.clock, documentHash, {
    ...DEFAULT_LOCKOUT,
    freeFailures: deps.limits.loginFreeFailures,
    firstWaitMs: deps.limits.loginWaitFirstMs,
    maxWaitMs: deps.limits.loginWaitMaxMs,
  });
  if (!account.allowed) {
    await releaseLimit(deps.db, key, address.windowStart);
    await refuse(deps, documentHash, context, 'account', account.retryAfterSeconds);
  }
  return { addressKey: key, windowStart: address.windowStart };
}

async function refuse(
  deps: FlowDeps,
  documentHash: string,
  context: RequestContext,
  limit: 'account' | 'address',
  seconds: number,
): Promise<never> {
  await recordAudit(deps.db, deps.clock, {
    type: 'throttled',
    outcome: 'refused',
    documentHash,
    detail: { limit, retryAfter: seconds },
    ...auditContext(context),
  });
  throw throttledError('LOGIN_THROTTLED', seconds);
}

/**
 * Counts a failure on every instance together; the one that goes past
 * LOGIN_FAILURES_GLOBAL raises the alert (once a window). Nobody is refused
 * for it: the CAPTCHA gets harder instead (the challenge route).
 */
async function countGlobalFailure(deps: FlowDeps): Promise<void> {
  const rule = deps.limits.loginFailuresGlobal;
  const verdict = await hitLimit(deps.db, deps.clock, GLOBAL_FAILURES_KEY, rule);
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
    else document = normalized.replace(/^0+(?=\d)/, '');
  }
  if (password === '') fields.password = errors.PASSWORD_REQUIRED;
  else if (password.length > MAX_PASSWORD_LENGTH) fields.password = errors.INVALID_CREDENTIALS;
  if (Object.keys(fields).length > 0) throw loginErrors.invalidFields(fields);
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
