// The member home's steps ("Mi cuenta"), shared by the pages and the API:
// change the password, list and close sessions, read the recent activity,
// and change the email or mobile once the new one is proven. Each step acts
// for the member of the session the route loaded (`auth`), never for an id
// taken from the request.
import { setTimeout as pause } from 'node:timers/promises';
import { applyPasswordChange } from '../../account/set-password.ts';
import { type AuditActor, type AuditEvent, recordAudit } from '../../audit/record.ts';
import { addMinutes } from '../../auth/clock.ts';
import {
  codeHash,
  consumeSecret,
  peekSecret,
  retireSecrets,
  storeSecret,
  tryCode,
} from '../../auth/one-time-secrets.ts';
import {
  generateNumericCode,
  generateToken,
  hashToken,
  keyedHash,
  openText,
  sealText,
} from '../../auth/secrets.ts';
import {
  createSession,
  deleteOtherSessions,
  deleteSessionById,
  listSessions,
} from '../../auth/sessions.ts';
import { claimLoginAttempt, type LockoutPolicy, settleLoginAttempt } from '../../auth/throttle.ts';
import {
  countMemberMessages,
  countSmsTo,
  enqueueMessage,
  lockDestination,
} from '../../courier/outbox.ts';
import { contactChangedEmail, contactChangedSms } from '../../courier/templates/contact-changed.ts';
import { contactCodeMessage } from '../../courier/templates/contact-code.ts';
import { contactLinkEmail } from '../../courier/templates/contact-link.ts';
import type { Database, Member, OneTimeSecret, Session } from '../../db/schema.ts';
import { checkEmail, checkMobile } from '../../members/validate-row.ts';
import { account, errors } from '../../messages/es.ts';
import type { FlowDeps, RequestContext } from '../context.ts';
import { FlowError, invalidFields, throttledError } from '../errors.ts';
import { lockoutPolicyFor, SLOT_POLL_MS, SLOT_POLLS } from '../login/state.ts';
import { withinSmsBudget } from '../recovery/service.ts';
import {
  describeUserAgent,
  describeWhere,
  displayTime,
  maskedAddress,
  maskedEmail,
  maskedMobile,
} from './describe.ts';
import { settingsErrors } from './errors.ts';
import {
  ACTIVITY_LIMIT,
  CONFIRM_CONTACT_PATH,
  CONTACT_CODE_HASH_PURPOSE,
  CONTACT_CODE_MAX_TRIES,
  CONTACT_CODE_MINUTES,
  CONTACT_LINK_MINUTES,
  CONTACT_SEAL,
  CONTACT_TEMPLATES,
  type ContactKind,
  MAX_CONTACT_LENGTH,
  MAX_PASSWORD_LENGTH,
  REQUESTED_TEMPLATES,
} from './state.ts';

/** The logged-in member and the session the request came with, as the route's guard loaded them. */
export interface MemberAuth {
  member: Member;
  session: Session;
}

// ─── Change password ────────────────────────────────────────────────────────

export interface ChangePasswordInput {
  currentPassword: string | undefined;
  password: string | undefined;
  passwordConfirmation: string | undefined;
}

/** The session that replaces the one the change was made from (a new id, same deadline). */
export interface RenewedSession {
  token: string;
  expiresAt: Date;
  kind: 'web' | 'api';
}

/**
 * Changes the password of a logged-in member who knows the current one.
 * Every other session ends and this one gets a new id (the cookie or the
 * app's token must be replaced by the answer's); the notice email goes out.
 */
export async function changePassword(
  deps: FlowDeps,
  auth: MemberAuth,
  input: ChangePasswordInput,
  context: RequestContext,
): Promise<RenewedSession> {
  const { member, session } = auth;
  const currentPassword = input.currentPassword ?? '';
  const password = input.password ?? '';
  const problems = deps.passwordPolicy.check({
    password,
    confirmation: input.passwordConfirmation ?? '',
    context: [member.document, member.member_number],
  });
  const missing: Record<string, string> =
    currentPassword === '' ? { currentPassword: errors.CURRENT_PASSWORD_REQUIRED } : {};
  // Nothing typed as the new password is a form left empty, not a password the rules refuse.
  if (password === '') throw invalidFields({ ...missing, ...problems });
  if (Object.keys(problems).length > 0)
    throw settingsErrors.passwordRejected({ ...missing, ...problems });
  if (missing.currentPassword) throw invalidFields(missing);

  await checkCurrentPassword(deps, member, currentPassword, context, {
    type: 'password_set',
    detail: { via: 'settings' },
  });

  const passwordHash = await deps.hasher.hash(password);
  const now = deps.clock.now();
  const renewed = await deps.db.transaction().execute(async (trx) => {
    await applyPasswordChange(trx, deps, {
      member,
      passwordHash,
      now,
      via: 'settings',
      keepSessionIdHash: session.id_hash,
    });
    return renewSession(trx, deps, session);
  });

  await recordAudit(deps.db, deps.clock, {
    type: 'password_set',
    outcome: 'ok',
    detail: { via: 'settings' },
    ...memberEvent(member.id, context),
  });
  deps.courier.wake();
  return renewed;
}

/**
 * Gives the session a new id: ends it and opens one of the same kind, from
 * the same place, that ends no later than it would have. If the session
 * ended meanwhile (closed from another device), nothing is changed at all.
 */
async function renewSession(
  trx: Database,
  deps: FlowDeps,
  session: Session,
): Promise<RenewedSession> {
  const ended = await trx
    .deleteFrom('sessions')
    .where('id_hash', '=', session.id_hash)
    .executeTakeFirst();
  if (Number(ended.numDeletedRows) === 0) throw new FlowError('UNAUTHENTICATED');
  const created = await createSession(trx, deps.clock, deps.sessionPolicy, session.member_id, {
    kind: session.kind,
    ip: session.ip,
    userAgent: session.user_agent,
  });
  let expiresAt = created.session.expires_at;
  if (session.expires_at < expiresAt) {
    expiresAt = session.expires_at;
    const idle = created.session.idle_expires_at;
    await trx
      .updateTable('sessions')
      .set({ expires_at: expiresAt, idle_expires_at: new Date(Math.min(+idle, +expiresAt)) })
      .where('id_hash', '=', created.session.id_hash)
      .execute();
  }
  return { token: created.token, expiresAt, kind: session.kind };
}

/**
 * The account's login wait, as login applies it (login/service.ts,
 * lockoutPolicy for a try from elsewhere): a wrong current password here is
 * a failed login there, on the same key.
 */
function accountLockoutPolicy(deps: FlowDeps): LockoutPolicy {
  return lockoutPolicyFor(deps.limits, 'account');
}

/** What a refused current password is audited as: the step it guarded. */
export interface GuardedStep {
  type: 'password_set' | 'contact_changed' | 'passkey_added';
  detail: Record<string, string>;
}

/**
 * Checks the member's current password as a login would: a slot on the
 * account's key (the keyed hash of the document) before the check, the
 * outcome after; refused with LOGIN_THROTTLED while the account waits. A
 * wrong one is a field error and a failure toward the wait.
 */
export async function checkCurrentPassword(
  deps: FlowDeps,
  member: Member,
  candidate: string,
  context: RequestContext,
  step: GuardedStep,
): Promise<void> {
  const refuseWrong = async () => {
    await recordAudit(deps.db, deps.clock, {
      type: step.type,
      outcome: 'failed',
      detail: { ...step.detail, reason: 'current_password' },
      ...memberEvent(member.id, context),
    });
    throw settingsErrors.currentPasswordWrong();
  };
  // Longer than any password the policy allows: wrong without hashing it.
  if (candidate.length > MAX_PASSWORD_LENGTH) await refuseWrong();

  const key = keyedHash(deps.secret, 'document', member.document);
  const policy = accountLockoutPolicy(deps);
  await claimPasswordCheck(deps, member, key, policy, context);
  let matches = false;
  try {
    matches = member.password_hash
      ? await deps.hasher.verify(member.password_hash, candidate)
      : await deps.hasher.verifyNothing(candidate);
  } finally {
    await settleLoginAttempt(deps.db, deps.clock, key, matches ? 'ok' : 'failed', policy);
  }
  if (!matches) await refuseWrong();
}

/** Takes a slot on the account (waits briefly when checks in flight hold them all, as login). */
async function claimPasswordCheck(
  deps: FlowDeps,
  member: Member,
  key: string,
  policy: LockoutPolicy,
  context: RequestContext,
): Promise<void> {
  for (let poll = 0; ; poll += 1) {
    const claim = await claimLoginAttempt(deps.db, deps.clock, key, policy);
    if (claim.allowed) return;
    if (!claim.busy || poll >= SLOT_POLLS) {
      const seconds = claim.busy ? 1 : claim.retryAfterSeconds;
      await recordAudit(deps.db, deps.clock, {
        type: 'throttled',
        outcome: 'refused',
        documentHash: key,
        detail: { limit: 'account', retryAfter: seconds, via: 'settings' },
        ...memberEvent(member.id, context),
      });
      deps.metrics?.countThrottleHit('login_account_wait');
      throw throttledError('LOGIN_THROTTLED', seconds);
    }
    await pause(SLOT_POLL_MS + Math.floor(Math.random() * SLOT_POLL_MS));
  }
}

// ─── Sessions ───────────────────────────────────────────────────────────────

/** One of the member's sessions as the home and the API show it. */
export interface SessionView {
  /** The session's public id: what closeSession takes. */
  id: string;
  /** The session this request came with ("esta sesión"). */
  current: boolean;
  device: string;
  browser: string;
  /** ISO 8601. */
  lastUsedAt: string;
  /** The same, for display: "25 nov. 2026, 9:00 a. m." (America/Montevideo). */
  lastUsed: string;
  /** "203.0.*.*", "2001:db8:…", or null. */
  address: string | null;
}

/** The member's live sessions, most recently used first, the current one marked. */
export async function memberSessions(
  deps: FlowDeps,
  memberId: number,
  currentPublicId: string,
): Promise<SessionView[]> {
  const sessions = await listSessions(deps.db, deps.clock, memberId);
  return sessions.map((session) => {
    const { device, browser } = describeUserAgent(session.userAgent, session.kind);
    return {
      id: session.id,
      current: session.id === currentPublicId,
      device,
      browser,
      lastUsedAt: session.lastUsedAt.toISOString(),
      lastUsed: displayTime(session.lastUsedAt),
      address: maskedAddress(session.ip),
    };
  });
}

/** Ends one of the member's own sessions by its public id; SESSION_NOT_FOUND otherwise. */
export async function closeSession(
  deps: FlowDeps,
  memberId: number,
  publicId: string,
  context: RequestContext,
): Promise<void> {
  if (!(await deleteSessionById(deps.db, memberId, publicId)))
    throw settingsErrors.sessionNotFound();
  await recordAudit(deps.db, deps.clock, {
    type: 'session_closed',
    outcome: 'ok',
    detail: { scope: 'one' },
    ...memberEvent(memberId, context),
  });
}

/** Ends every session of the member but the current one (its id_hash); answers how many. */
export async function closeOtherSessions(
  deps: FlowDeps,
  memberId: number,
  currentIdHash: string,
  context: RequestContext,
): Promise<number> {
  const count = await deleteOtherSessions(deps.db, memberId, currentIdHash);
  await recordAudit(deps.db, deps.clock, {
    type: 'session_closed',
    outcome: 'ok',
    detail: { scope: 'others', count },
    ...memberEvent(memberId, context),
  });
  return count;
}

// ─── Recent activity ────────────────────────────────────────────────────────

/** One event of the recent activity: no address, hash or detail ever leaves. */
export interface ActivityItem {
  /** ISO 8601. */
  at: string;
  /** The same, for display (America/Montevideo, es-UY). */
  when: string;
  type: string;
  /** web, api, desk, email, sms; null when not known. */
  channel: string | null;
  /** "Chrome en Android", "App del Portal en Android"; null when not known. */
  device: string | null;
  outcome: string;
  /** The event in plain Spanish: "Ingreso correcto desde Chrome en Android". */
  text: string;
}

/** Events kept for operators that say nothing to a member. */
const HIDDEN_EVENTS = ['password_rehashed'];

/** The member's own last ACTIVITY_LIMIT events, newest first. */
export async function recentActivity(deps: FlowDeps, memberId: number): Promise<ActivityItem[]> {
  const rows = await deps.db
    .selectFrom('audit_events')
    .select(['at', 'type', 'outcome', 'channel', 'user_agent', 'detail'])
    .where('member_id', '=', memberId)
    .where('type', 'not in', HIDDEN_EVENTS)
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(ACTIVITY_LIMIT)
    .execute();
  return rows.map((row) => {
    const device = describeWhere(row.user_agent, row.channel);
    return {
      at: row.at.toISOString(),
      when: displayTime(row.at),
      type: row.type,
      channel: row.channel,
      device,
      outcome: row.outcome,
      text: activityText(row.type, row.outcome, readDetail(row.detail), device),
    };
  });
}

/** An audit event's detail as an object (jsonb comes parsed from pg and PGlite; text is parsed). */
export function readDetail(detail: unknown): Record<string, unknown> {
  if (typeof detail === 'string') {
    try {
      return readDetail(JSON.parse(detail));
    } catch {
      return {};
    }
  }
  return detail && typeof detail === 'object' ? (detail as Record<string, unknown>) : {};
}

/** An event in plain words (messages/es.ts, account.activity). */
function activityText(
  type: string,
  outcome: string,
  detail: Record<string, unknown>,
  device: string | null,
): string {
  const texts = account.activity;
  const ok = outcome === 'ok';
  const contact = detail.flow === 'contact';
  switch (type) {
    case 'login':
      if (!ok) return texts.loginFailed;
      return device ? texts.loginOkFrom(device) : texts.loginOk;
    case 'logout':
      return texts.logout;
    case 'session_expired':
      return texts.sessionExpired;
    case 'throttled':
      return texts.throttled;
    case 'link_sent':
      if (!ok) return texts.linkNotSent;
      return contact ? texts.contactLinkSent : texts.linkSent;
    case 'code_sent':
      if (!ok) return texts.codeNotSent;
      return contact ? texts.contactCodeSent : texts.codeSent;
    case 'code_verified':
      return ok ? texts.codeOk : texts.codeWrong;
    case 'password_set':
      return ok ? texts.passwordChanged : texts.currentPasswordWrong;
    case 'contact_changed':
      return ok ? texts.contactChanged : texts.currentPasswordWrong;
    case 'session_closed':
      return detail.scope === 'others' ? texts.otherSessionsClosed : texts.sessionClosed;
    case 'staff_action':
      return (
        (typeof detail.action === 'string' ? texts.staffActions[detail.action] : undefined) ??
        texts.staffAction
      );
    default:
      return texts.other;
  }
}

// ─── Contact data ───────────────────────────────────────────────────────────

export interface MaskedContacts {
  /** "a***@example.org", or null when the member has none. */
  email: string | null;
  /** "09*****222", or null when the member has none. */
  mobile: string | null;
}

/** The member's contacts as the home shows them. */
export function maskedContacts(member: Pick<Member, 'email' | 'mobile'>): MaskedContacts {
  return { email: maskedEmail(member.email), mobile: maskedMobile(member.mobile) };
}

export interface ContactChangeInput {
  kind: string | undefined;
  value: string | undefined;
  currentPassword: string | undefined;
}

/** Where the proof went: the new contact, masked ("Le enviamos un código a 09*****333"). */
export interface ContactChangeRequested {
  kind: ContactKind;
  sentTo: string;
}

/** What a pending contact secret carries, sealed. */
interface PendingContact {
  kind: ContactKind;
  value: string;
}

/**
 * Step 1 of a contact change: with the current password, sends a link (new
 * email) or a code (new mobile) TO THE NEW contact. Nothing changes on the
 * member until it is proven; an older pending change is retired.
 */
export async function requestContactChange(
  deps: FlowDeps,
  auth: MemberAuth,
  input: ContactChangeInput,
  context: RequestContext,
): Promise<ContactChangeRequested> {
  const { member } = auth;
  const pending = readContact(input, member);
  await checkCurrentPassword(deps, member, input.currentPassword ?? '', context, {
    type: 'contact_changed',
    detail: { kind: pending.kind },
  });

  const now = deps.clock.now();
  const outcome = await deps.db.transaction().execute(async (trx) => {
    // The member's row locked: one member's requests are counted one at a time.
    await trx.selectFrom('members').select('id').where('id', '=', member.id).forUpdate().execute();
    const refusal = await whyNotSend(trx, deps, member.id, pending, now);
    if (refusal) return { refusal };
    await retireSecrets(trx, member.id, now, { purposes: ['contact'] });
    await sendProof(trx, deps, member.id, pending, now);
    return { refusal: null };
  });

  const via = pending.kind === 'email' ? 'email' : 'sms';
  await recordAudit(deps.db, deps.clock, {
    type: via === 'email' ? 'link_sent' : 'code_sent',
    outcome: outcome.refusal ? 'ignored' : 'ok',
    detail: { flow: 'contact', via, ...(outcome.refusal ? { reason: outcome.refusal } : {}) },
    ...memberEvent(member.id, context),
  });
  if (outcome.refusal === 'sms_budget') throw settingsErrors.smsUnavailable();
  if (outcome.refusal) throw settingsErrors.messagesLimit();
  deps.courier.wake();
  const sentTo =
    pending.kind === 'email' ? maskedEmail(pending.value) : maskedMobile(pending.value);
  return { kind: pending.kind, sentTo: sentTo ?? '' };
}

/** The kind and the new value, normalised (email lower case, mobile +5989XXXXXXX), or field errors. */
function readContact(input: ContactChangeInput, member: Member): PendingContact {
  const fields: Record<string, string> = {};
  const kind = input.kind === 'email' || input.kind === 'mobile' ? input.kind : null;
  const raw = (input.value ?? '').trim();
  let value = '';
  if (!kind) fields.kind = errors.CONTACT_KIND_REQUIRED;
  else if (raw === '')
    fields.value = kind === 'email' ? errors.EMAIL_REQUIRED : errors.MOBILE_REQUIRED;
  else {
    const checked =
      raw.length > MAX_CONTACT_LENGTH
        ? null
        : kind === 'email'
          ? checkEmail(raw)
          : checkMobile(raw);
    if (checked?.ok && checked.value) value = checked.value;
    else fields.value = kind === 'email' ? errors.EMAIL_INVALID : errors.MOBILE_INVALID;
    if (value && value === (kind === 'email' ? member.email : member.mobile))
      fields.value = errors.CONTACT_UNCHANGED;
  }
  if ((input.currentPassword ?? '') === '')
    fields.currentPassword = errors.CURRENT_PASSWORD_REQUIRED;
  if (Object.keys(fields).length > 0 || !kind) throw invalidFields(fields);
  return { kind, value };
}

/**
 * Why no proof may be sent, or null: the member's hourly limit on messages
 * they ask for (both flows together), and for a new mobile its per-number
 * limits and the hourly SMS budget. A member in their own session counts as
 * a known device (ADR 016): requests from elsewhere cannot spend this budget.
 */
async function whyNotSend(
  trx: Database,
  deps: FlowDeps,
  memberId: number,
  pending: PendingContact,
  now: Date,
): Promise<string | null> {
  const limits = deps.messageLimits;
  const hourAgo = addMinutes(now, -60);
  const asked = await countMemberMessages(trx, memberId, hourAgo, REQUESTED_TEMPLATES, true);
  if (asked >= limits.perMemberPerHour) return 'member_limit';
  if (pending.kind === 'mobile') {
    await lockDestination(trx, 'sms', pending.value);
    // A number someone types is anyone's: every SMS to it counts, from anywhere.
    const sentTo = async (since: Date) =>
      (await countSmsTo(trx, pending.value, since, true)) +
      (await countSmsTo(trx, pending.value, since, false));
    if ((await sentTo(hourAgo)) >= limits.smsPerNumberPerHour) return 'number_hour_limit';
    if ((await sentTo(addMinutes(now, -24 * 60))) >= limits.smsPerNumberPerDay)
      return 'number_day_limit';
    if (!(await withinSmsBudget(trx, deps))) return 'sms_budget';
  }
  return null;
}

/** Stores the pending change (its new value sealed) and queues its link or code to the new contact. */
async function sendProof(
  trx: Database,
  deps: FlowDeps,
  memberId: number,
  pending: PendingContact,
  now: Date,
): Promise<void> {
  const payload = sealText(deps.secret, CONTACT_SEAL, JSON.stringify(pending));
  if (pending.kind === 'email') {
    const token = generateToken();
    const secretId = await storeSecret(trx, {
      memberId,
      kind: 'email_link',
      purpose: 'contact',
      secretHash: hashToken(token),
      now,
      minutes: CONTACT_LINK_MINUTES,
      knownDevice: true,
      payload,
    });
    const link = `${deps.publicUrl}${CONFIRM_CONTACT_PATH}?token=${token}`;
    await enqueueMessage(
      trx,
      deps.clock,
      deps.secret,
      {
        channel: 'email',
        to: pending.value,
        template: CONTACT_TEMPLATES.link,
        content: contactLinkEmail({ brand: deps.brand, link, minutes: CONTACT_LINK_MINUTES }),
      },
      memberId,
      { secretId, knownDevice: true },
    );
    return;
  }
  const code = generateNumericCode(6);
  const secretId = await storeSecret(trx, {
    memberId,
    kind: 'sms_code',
    purpose: 'contact',
    secretHash: contactCodeHash(deps, memberId, code),
    now,
    minutes: CONTACT_CODE_MINUTES,
    knownDevice: true,
    payload,
  });
  await enqueueMessage(
    trx,
    deps.clock,
    deps.secret,
    {
      channel: 'sms',
      to: pending.value,
      template: CONTACT_TEMPLATES.code,
      content: contactCodeMessage({ brand: deps.brand, code, minutes: CONTACT_CODE_MINUTES }),
    },
    memberId,
    { secretId, knownDevice: true },
  );
}

/**
 * Step 2 for a new mobile: the code the member received there, typed in
 * their session. A right one changes the mobile and tells the old one;
 * a wrong one is CODE_INVALID (each code has CONTACT_CODE_MAX_TRIES).
 */
export async function confirmContactByCode(
  deps: FlowDeps,
  auth: MemberAuth,
  input: { kind: string | undefined; code: string | undefined },
  context: RequestContext,
): Promise<MaskedContacts> {
  const { member } = auth;
  const fields: Record<string, string> = {};
  const code = (input.code ?? '').replace(/\s/g, '');
  if (input.kind !== 'mobile') fields.kind = errors.CONTACT_KIND_REQUIRED;
  if (code === '') fields.code = errors.CODE_REQUIRED;
  else if (!/^\d{6}$/.test(code)) fields.code = errors.CODE_FORMAT;
  if (Object.keys(fields).length > 0) throw invalidFields(fields);

  const now = deps.clock.now();
  const result = await deps.db.transaction().execute(async (trx) => {
    const { matched, attempts } = await tryCode(trx, {
      memberId: member.id,
      kind: 'sms_code',
      purposes: ['contact'],
      candidateHash: contactCodeHash(deps, member.id, code),
      now,
      maxTries: CONTACT_CODE_MAX_TRIES,
    });
    const pending = matched ? openPending(deps, matched) : null;
    if (pending?.kind !== 'mobile') return { changed: null, attempts };
    return { changed: await applyContactChange(trx, deps, member.id, pending, now), attempts };
  });

  if (!result.changed) {
    await recordAudit(deps.db, deps.clock, {
      type: 'code_verified',
      outcome: 'failed',
      detail: {
        flow: 'contact',
        attempts: result.attempts.length > 0 ? Math.max(...result.attempts) : null,
      },
      ...memberEvent(member.id, context),
    });
    throw settingsErrors.codeInvalid();
  }
  await auditContactChanged(deps, member.id, 'mobile', context);
  return maskedContacts(result.changed);
}

/**
 * Whether an emailed contact link can still be used, and the new email it
 * proves, masked: for the page that opens it (opening never uses it up, so
 * a mail scanner that follows links changes nothing).
 */
export async function peekContactLink(
  deps: FlowDeps,
  token: string | undefined,
): Promise<{ email: string } | null> {
  const found = await liveContactLink(deps, token, deps.clock.now());
  return found ? { email: maskedEmail(found.pending.value) ?? '' } : null;
}

/**
 * Step 2 for a new email: the emailed link, confirmed. No session needed:
 * whoever opens the link at the new address proves it. Uses the link up,
 * changes the email and tells the old one; CONTACT_LINK_INVALID otherwise.
 */
export async function confirmContactByLink(
  deps: FlowDeps,
  token: string | undefined,
  context: RequestContext,
): Promise<MaskedContacts> {
  const now = deps.clock.now();
  const found = await liveContactLink(deps, token, now);
  if (!found) throw settingsErrors.linkInvalid();
  const { secret, pending } = found;
  const changed = await deps.db.transaction().execute(async (trx) => {
    if (!(await consumeSecret(trx, secret.id, now))) return null;
    return applyContactChange(trx, deps, secret.member_id, pending, now);
  });
  if (!changed) throw settingsErrors.linkInvalid();
  await auditContactChanged(deps, secret.member_id, 'email', context);
  return maskedContacts(changed);
}

/** The live contact link behind a raw token, of an active member, with the new email it carries. */
async function liveContactLink(deps: FlowDeps, token: string | undefined, now: Date) {
  if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const secret = await peekSecret(deps.db, hashToken(token), ['email_link'], now);
  if (secret?.purpose !== 'contact') return null;
  const pending = openPending(deps, secret);
  if (pending?.kind !== 'email') return null;
  const member = await deps.db
    .selectFrom('members')
    .select('id')
    .where('id', '=', secret.member_id)
    .where('status', '=', 'active')
    .executeTakeFirst();
  return member ? { secret, pending } : null;
}

/** The new contact a secret carries; null when it carries none (or not one of ours). */
function openPending(deps: FlowDeps, secret: OneTimeSecret): PendingContact | null {
  if (!secret.payload) return null;
  try {
    const parsed = JSON.parse(openText(deps.secret, CONTACT_SEAL, secret.payload));
    if ((parsed.kind === 'email' || parsed.kind === 'mobile') && typeof parsed.value === 'string')
      return { kind: parsed.kind, value: parsed.value };
  } catch {
    // Altered or sealed with another key: not a usable proof.
  }
  return null;
}

/**
 * Writes the proven contact on the member and queues the notice to the OLD
 * one of the same kind (when the member had none, to the other contact, so
 * someone who holds the account is still told). Answers the member's
 * contacts as they are now.
 */
async function applyContactChange(
  trx: Database,
  deps: FlowDeps,
  memberId: number,
  pending: PendingContact,
  now: Date,
): Promise<Pick<Member, 'email' | 'mobile'>> {
  const before = await trx
    .selectFrom('members')
    .select(['email', 'mobile'])
    .where('id', '=', memberId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const after = await trx
    .updateTable('members')
    .set(
      pending.kind === 'email'
        ? { email: pending.value, updated_at: now }
        : { mobile: pending.value, updated_at: now },
    )
    .where('id', '=', memberId)
    .returning(['email', 'mobile'])
    .executeTakeFirstOrThrow();

  const oldEmail = pending.kind === 'email' ? before.email : null;
  const oldMobile = pending.kind === 'mobile' ? before.mobile : null;
  const email = oldEmail ?? (oldMobile ? null : before.email);
  const mobile = oldMobile ?? (oldEmail ? null : before.mobile);
  if (email) {
    await enqueueMessage(
      trx,
      deps.clock,
      deps.secret,
      {
        channel: 'email',
        to: email,
        template: CONTACT_TEMPLATES.changed,
        content: contactChangedEmail({ brand: deps.brand, at: now, kind: pending.kind }),
      },
      memberId,
    );
  } else if (mobile) {
    await enqueueMessage(
      trx,
      deps.clock,
      deps.secret,
      {
        channel: 'sms',
        to: mobile,
        template: CONTACT_TEMPLATES.changed,
        content: contactChangedSms({ brand: deps.brand }),
      },
      memberId,
    );
  }
  return after;
}

async function auditContactChanged(
  deps: FlowDeps,
  memberId: number,
  kind: ContactKind,
  context: RequestContext,
): Promise<void> {
  await recordAudit(deps.db, deps.clock, {
    type: 'contact_changed',
    outcome: 'ok',
    detail: { kind },
    ...memberEvent(memberId, context),
  });
  deps.courier.wake();
}

/** A contact code's keyed hash, bound to its member; a purpose of its own (never a recovery code). */
function contactCodeHash(deps: FlowDeps, memberId: number, code: string): string {
  return codeHash(deps.secret, CONTACT_CODE_HASH_PURPOSE, memberId, code);
}

/**
 * The fields every event of this flow shares: the member it is about and
 * its actor (the member, in their own session or holding their link), and
 * where the request came from.
 */
function memberEvent(
  memberId: number,
  context: RequestContext,
): Pick<AuditEvent, 'memberId' | 'channel' | 'ip' | 'userAgent'> & { actor: AuditActor } {
  return {
    memberId,
    actor: { kind: 'member', id: String(memberId) },
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
  };
}
