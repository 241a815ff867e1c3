// Passkeys (WebAuthn, issue 14), shared by the pages and the API: a member
// in their session creates one (the current password again when the login
// is older than REAUTH_MINUTES), lists, renames and removes them; anyone
// logs in with one, no document, password or CAPTCHA: the authenticator
// proves possession and user verification (fingerprint, face, screen lock).
//
//   options ──► challenge stored (hash; single use, CHALLENGE_MINUTES, every instance)
//      │
//      ▼ the browser or the platform signs it
//   verify ──► challenge deleted (used) ──► signature, origin, RP id, UV, counter
//      │
//      ├─ register: the credential stored (unique id), the notice emailed, audited
//      └─ login: counter moved on atomically, a session like a password login's
//
// The library (@simplewebauthn/server) checks the signature, the origin, the
// relying party id, user presence and verification, and that the counter
// moved on; this module owns the challenges, the credentials and the rules.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import type { Selectable } from 'kysely';
import { type AuditEvent, recordAudit } from '../../audit/record.ts';
import { addMinutes } from '../../auth/clock.ts';
import { issueDeviceToken } from '../../auth/devices.ts';
import { createSession } from '../../auth/sessions.ts';
import { addressKey, hitLimit, peekLimit, type WindowLimit } from '../../auth/throttle.ts';
import { enqueueMessage } from '../../courier/outbox.ts';
import { passkeyAddedEmail } from '../../courier/templates/passkey-added.ts';
import type { Database, PasskeysTable } from '../../db/schema.ts';
import { account, errors } from '../../messages/es.ts';
import { type FlowDeps, type RequestContext, viewMember } from '../context.ts';
import { FlowError, invalidFields, throttledError } from '../errors.ts';
import type { LoginResult } from '../login/service.ts';
import { describeWhere } from '../settings/describe.ts';
import { checkCurrentPassword, type MemberAuth } from '../settings/service.ts';
import { authenticatorName } from './authenticators.ts';

/** How long a challenge may be answered: the browser's prompt, and a little more. */
export const CHALLENGE_MINUTES = 5;
/** A login older than this asks for the current password before a new passkey. */
export const REAUTH_MINUTES = 5;
/** Passkeys per member: more than anyone has devices, few enough to list on a phone. */
export const MAX_PASSKEYS = 10;
export const PASSKEY_NAME_MAX = 60;
/**
 * Login challenges per client address: one per login page a browser opens
 * with passkey autofill, so generous (members share carrier addresses), and
 * a bound on the rows anyone can make the database keep.
 */
export const LOGIN_CHALLENGES_PER_ADDRESS: WindowLimit = { limit: 600, windowMs: 15 * 60_000 };

const passkeyErrors = {
  unavailable: () => new FlowError('PASSKEYS_UNAVAILABLE'),
  failed: () => new FlowError('PASSKEY_FAILED'),
  expired: () => new FlowError('PASSKEY_EXPIRED'),
  unknown: () => new FlowError('PASSKEY_UNKNOWN'),
  alreadyRegistered: () => new FlowError('PASSKEY_ALREADY_REGISTERED'),
  limit: () => new FlowError('PASSKEY_LIMIT'),
  notFound: () => new FlowError('PASSKEY_NOT_FOUND'),
};

/** A passkey as the member sees it: never its key. */
export interface PasskeyView {
  id: string;
  name: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** Synced between the member's devices (a password manager) or bound to one device. */
  synced: boolean;
}

type PasskeyRow = Selectable<PasskeysTable>;

function viewOf(
  row: Pick<PasskeyRow, 'id' | 'name' | 'created_at' | 'last_used_at' | 'device_type'>,
): PasskeyView {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    synced: row.device_type === 'multiDevice',
  };
}

function rpIdOf(deps: FlowDeps): string {
  const rpId = deps.passkeys.rpId;
  if (!rpId) throw passkeyErrors.unavailable();
  return rpId;
}

/**
 * The member's WebAuthn user handle: stable (so an authenticator keeps one
 * passkey per member and site, replacing rather than piling up) and
 * opaque (a keyed hash of the member's id: no document or name in it).
 */
export function userHandleOf(secret: string, memberId: number): Uint8Array<ArrayBuffer> {
  const digest = createHmac('sha256', secret).update(`webauthn-user:${memberId}`).digest();
  return new Uint8Array(digest.buffer.slice(digest.byteOffset, digest.byteOffset + 32));
}

const challengeHash = (challenge: string) => createHash('sha256').update(challenge).digest('hex');

async function storeChallenge(
  deps: FlowDeps,
  purpose: 'register' | 'login',
  memberId: number | null,
): Promise<Uint8Array<ArrayBuffer>> {
  // Given to the library as bytes: it would encode a string's UTF-8 again.
  // The browser answers with them in base64url, which is what is hashed.
  const bytes = new Uint8Array(randomBytes(32));
  const challenge = Buffer.from(bytes).toString('base64url');
  const now = deps.clock.now();
  await deps.db
    .insertInto('webauthn_challenges')
    .values({
      challenge_hash: challengeHash(challenge),
      purpose,
      member_id: memberId,
      created_at: now,
      expires_at: addMinutes(now, CHALLENGE_MINUTES),
    })
    .execute();
  return bytes;
}

/**
 * Uses up a challenge: deleted whatever it answers (single use), and good
 * only when live, of this purpose and, for a registration, this member's.
 * Remembers why it was refused for the caller's error.
 */
function challengeConsumer(
  deps: FlowDeps,
  purpose: 'register' | 'login',
  memberId: number | null,
  seen: { reason: 'challenge' | 'expired' | null },
) {
  return async (challenge: string): Promise<boolean> => {
    const row = await deps.db
      .deleteFrom('webauthn_challenges')
      .where('challenge_hash', '=', challengeHash(challenge))
      .returning(['purpose', 'member_id', 'expires_at'])
      .executeTakeFirst();
    const ok =
      row !== undefined &&
      row.purpose === purpose &&
      row.member_id === memberId &&
      row.expires_at > deps.clock.now();
    if (!ok) seen.reason = row && row.expires_at <= deps.clock.now() ? 'expired' : 'challenge';
    return ok;
  };
}

/** Why the library refused an answer, in a word for the audit (never its text). */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  if (/challenge/i.test(message)) return 'challenge';
  if (/origin/i.test(message)) return 'origin';
  if (/RP ID|rpID|rpIdHash/i.test(message)) return 'rp_id';
  if (/counter/i.test(message)) return 'counter';
  if (/user verification|could not be verified/i.test(message)) return 'user_verification';
  if (/user presen/i.test(message)) return 'user_presence';
  if (/signature/i.test(message)) return 'signature';
  return 'malformed';
}

// ─── Creating a passkey (a member in their session) ─────────────────────────

/**
 * The options for navigator.credentials.create. A login older than
 * REAUTH_MINUTES must give the current password first (checked as a login
 * would: throttled per account).
 */
export async function registrationOptions(
  deps: FlowDeps,
  auth: MemberAuth,
  input: { currentPassword?: string | undefined },
  context: RequestContext,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const rpID = rpIdOf(deps);
  const { member } = auth;
  if (needsPassword(deps, auth)) {
    const candidate = input.currentPassword ?? '';
    if (candidate === '')
      throw invalidFields({ currentPassword: errors.CURRENT_PASSWORD_REQUIRED });
    await checkCurrentPassword(deps, member, candidate, context, {
      type: 'passkey_added',
      detail: { step: 'options' },
    });
  }
  const existing = await deps.db
    .selectFrom('passkeys')
    .select(['id', 'transports'])
    .where('member_id', '=', member.id)
    .execute();
  if (existing.length >= MAX_PASSKEYS) throw passkeyErrors.limit();
  const challenge = await storeChallenge(deps, 'register', member.id);
  return generateRegistrationOptions({
    rpName: deps.brand.name,
    rpID,
    userID: userHandleOf(deps.secret, member.id),
    // What the device's passkey list shows: the document (the portal's user
    // name) and the member's name.
    userName: member.document,
    userDisplayName: `${member.first_name} ${member.last_name}`.trim(),
    challenge,
    timeout: CHALLENGE_MINUTES * 60_000,
    attestationType: 'none',
    excludeCredentials: existing.map((p) => ({
      id: p.id,
      transports: parseTransports(p.transports),
    })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
}

/** Whether creating a passkey now needs the current password (login older than REAUTH_MINUTES). */
export function needsPassword(deps: FlowDeps, auth: MemberAuth): boolean {
  return deps.clock.now().getTime() - auth.session.created_at.getTime() > REAUTH_MINUTES * 60_000;
}

function parseTransports(raw: string): string[] {
  try {
    const parsed = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((t) => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

/** The browser's answer to registrationOptions: verified, stored, told to the member, audited. */
export async function registerPasskey(
  deps: FlowDeps,
  auth: MemberAuth,
  response: RegistrationResponseJSON,
  context: RequestContext,
): Promise<PasskeyView> {
  const rpID = rpIdOf(deps);
  const { member } = auth;
  const seen: { reason: 'challenge' | 'expired' | null } = { reason: null };
  let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>['registrationInfo'];
  try {
    const verified = await verifyRegistrationResponse({
      response,
      expectedChallenge: challengeConsumer(deps, 'register', member.id, seen),
      expectedOrigin: [...deps.passkeys.origins],
      expectedRPID: rpID,
      requireUserVerification: true,
    });
    info = verified.verified ? verified.registrationInfo : undefined;
  } catch (error) {
    await auditPasskey(deps, member.id, context, 'passkey_added', 'failed', {
      reason: seen.reason ?? reasonOf(error),
    });
    throw seen.reason === 'expired' ? passkeyErrors.expired() : passkeyErrors.failed();
  }
  if (!info) {
    await auditPasskey(deps, member.id, context, 'passkey_added', 'failed', {
      reason: 'unverified',
    });
    throw passkeyErrors.failed();
  }
  const now = deps.clock.now();
  const { credential } = info;
  const name =
    authenticatorName(info.aaguid) ??
    describeWhere(context.userAgent, context.channel) ??
    account.unknownDevice;
  const stored = await deps.db.transaction().execute(async (trx) => {
    const count = await trx
      .selectFrom('members')
      .select('id')
      .where('id', '=', member.id)
      .forUpdate()
      .executeTakeFirst();
    if (!count) return 'gone' as const;
    const existing = await trx
      .selectFrom('passkeys')
      .select('member_id')
      .where('member_id', '=', member.id)
      .execute();
    if (existing.length >= MAX_PASSKEYS) return 'limit' as const;
    const row = await trx
      .insertInto('passkeys')
      .values({
        id: credential.id,
        member_id: member.id,
        public_key: Buffer.from(credential.publicKey).toString('base64url'),
        counter: credential.counter,
        transports: JSON.stringify(credential.transports ?? []),
        device_type: info.credentialDeviceType,
        backed_up: info.credentialBackedUp,
        aaguid: info.aaguid,
        name,
        created_at: now,
        last_used_at: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) return 'taken' as const;
    if (member.email)
      await enqueueMessage(
        trx,
        deps.clock,
        deps.secret,
        {
          channel: 'email',
          to: member.email,
          template: 'passkey-added',
          content: passkeyAddedEmail({ brand: deps.brand, at: now, name }),
        },
        member.id,
      );
    return row;
  });
  if (stored === 'limit') {
    await auditPasskey(deps, member.id, context, 'passkey_added', 'failed', { reason: 'limit' });
    throw passkeyErrors.limit();
  }
  if (stored === 'taken' || stored === 'gone') {
    await auditPasskey(deps, member.id, context, 'passkey_added', 'failed', { reason: 'taken' });
    throw passkeyErrors.alreadyRegistered();
  }
  await auditPasskey(deps, member.id, context, 'passkey_added', 'ok', {
    passkey: shortId(stored.id),
    synced: stored.device_type === 'multiDevice',
  });
  deps.courier.wake();
  return viewOf(stored);
}

/** The first characters of a credential id: enough to tell passkeys apart in the audit. */
const shortId = (id: string) => id.slice(0, 12);

// ─── Logging in with a passkey ──────────────────────────────────────────────

/**
 * The options for navigator.credentials.get: no credential list (the
 * authenticator offers the member's own: discoverable credentials), user
 * verification required.
 */
export async function loginOptions(
  deps: FlowDeps,
  context: RequestContext,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const rpID = rpIdOf(deps);
  const key = `passkey-challenges:${addressKey(context.ip)}`;
  const verdict = await hitLimit(deps.db, deps.clock, key, LOGIN_CHALLENGES_PER_ADDRESS);
  if (!verdict.allowed) {
    deps.metrics?.countThrottleHit('passkey_challenges_per_address');
    throw throttledError('LOGIN_THROTTLED', verdict.retryAfterSeconds);
  }
  const challenge = await storeChallenge(deps, 'login', null);
  return generateAuthenticationOptions({
    rpID,
    challenge,
    timeout: CHALLENGE_MINUTES * 60_000,
    userVerification: 'required',
  });
}

/**
 * The authenticator's answer: the passkey found, its signature, origin,
 * relying party, user verification and counter checked, the counter moved
 * on in the same statement that checks it (a replayed answer cannot log in
 * twice), and a session opened as a password login opens one. Failures
 * spend the address's budget of failed logins and are audited.
 */
export async function logInWithPasskey(
  deps: FlowDeps,
  response: AuthenticationResponseJSON,
  context: RequestContext,
): Promise<LoginResult> {
  const rpID = rpIdOf(deps);
  const failuresKey = `passkey-failures:${addressKey(context.ip)}`;
  const rule = deps.limits.loginFailuresPerAddress;
  const budget = await peekLimit(deps.db, deps.clock, failuresKey, rule);
  if (!budget.allowed) {
    await recordAudit(deps.db, deps.clock, {
      type: 'throttled',
      outcome: 'refused',
      channel: context.channel,
      ip: context.ip,
      userAgent: context.userAgent,
      detail: { limit: 'passkey_failures_per_address', retryAfter: budget.retryAfterSeconds },
    });
    deps.metrics?.countThrottleHit('passkey_failures_per_address');
    deps.metrics?.countLogin('throttled');
    throw throttledError('LOGIN_THROTTLED', budget.retryAfterSeconds);
  }

  const fail = async (
    reason: string,
    error: FlowError,
    memberId: number | null = null,
  ): Promise<never> => {
    await hitLimit(deps.db, deps.clock, failuresKey, rule);
    await recordAudit(deps.db, deps.clock, {
      type: 'login',
      outcome: 'failed',
      memberId,
      channel: context.channel,
      ip: context.ip,
      userAgent: context.userAgent,
      detail: { method: 'passkey', reason },
    });
    deps.metrics?.countLogin('failed');
    throw error;
  };

  const id = typeof response?.id === 'string' ? response.id.slice(0, 1400) : '';
  const row = id
    ? await deps.db
        .selectFrom('passkeys')
        .innerJoin('members', 'members.id', 'passkeys.member_id')
        .selectAll('passkeys')
        .select(['members.status'])
        .where('passkeys.id', '=', id)
        .executeTakeFirst()
    : undefined;
  if (!row) {
    // The challenge is used up all the same: an answer is good once.
    const seen: { reason: 'challenge' | 'expired' | null } = { reason: null };
    await consumeFromResponse(deps, response, seen);
    return fail('unknown_credential', passkeyErrors.unknown());
  }
  // The member must be active, and the credential theirs: the authenticator
  // names its user (the handle is not signed, so this is a consistency check,
  // not a proof). Refused here, before the signature is looked at, the
  // answer's challenge is used up all the same: posted again later (the
  // member reactivated, the handle left out), it must not log in.
  const handle = Buffer.from(userHandleOf(deps.secret, row.member_id)).toString('base64url');
  const refusal =
    row.status !== 'active'
      ? 'inactive'
      : response.response?.userHandle !== undefined && response.response.userHandle !== handle
        ? 'user_handle'
        : null;
  if (refusal) {
    await consumeFromResponse(deps, response, { reason: null });
    return fail(refusal, passkeyErrors.failed(), row.member_id);
  }

  const seen: { reason: 'challenge' | 'expired' | null } = { reason: null };
  const oldCounter = Number(row.counter);
  let verified: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    verified = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challengeConsumer(deps, 'login', null, seen),
      expectedOrigin: [...deps.passkeys.origins],
      expectedRPID: rpID,
      credential: {
        id: row.id,
        publicKey: new Uint8Array(Buffer.from(row.public_key, 'base64url')),
        counter: oldCounter,
        transports: parseTransports(row.transports) as never,
      },
      requireUserVerification: true,
    });
  } catch (error) {
    return fail(
      seen.reason ?? reasonOf(error),
      seen.reason === 'expired' ? passkeyErrors.expired() : passkeyErrors.failed(),
      row.member_id,
    );
  }
  if (!verified.verified) return fail('unverified', passkeyErrors.failed(), row.member_id);

  const now = deps.clock.now();
  const { newCounter, credentialBackedUp } = verified.authenticationInfo;
  // Moved on only from the counter that was checked: of two uses of one
  // answer racing, one logs in.
  const moved = await deps.db
    .updateTable('passkeys')
    .set({ counter: newCounter, last_used_at: now, backed_up: credentialBackedUp })
    .where('id', '=', row.id)
    .where('counter', '=', oldCounter)
    .returning('id')
    .executeTakeFirst();
  if (!moved) return fail('counter', passkeyErrors.failed(), row.member_id);

  const member = await deps.db
    .selectFrom('members')
    .selectAll()
    .where('id', '=', row.member_id)
    .executeTakeFirstOrThrow();
  const { token, session } = await createSession(
    deps.db,
    deps.clock,
    deps.sessionPolicy,
    member.id,
    { kind: context.channel, ip: context.ip, userAgent: context.userAgent },
  );
  await recordAudit(deps.db, deps.clock, {
    type: 'login',
    outcome: 'ok',
    memberId: member.id,
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    detail: { method: 'passkey', passkey: shortId(row.id) },
  });
  deps.metrics?.countLogin('ok');
  return {
    token,
    expiresAt: session.expires_at,
    member: viewMember(member),
    deviceToken: issueDeviceToken(deps.secret, member.id, now),
  };
}

/** Uses up the challenge an answer names, when it can be read (an unknown passkey's answer). */
async function consumeFromResponse(
  deps: FlowDeps,
  response: AuthenticationResponseJSON,
  seen: { reason: 'challenge' | 'expired' | null },
): Promise<void> {
  try {
    const json = Buffer.from(
      String(response?.response?.clientDataJSON ?? ''),
      'base64url',
    ).toString('utf8');
    const challenge = JSON.parse(json)?.challenge;
    if (typeof challenge === 'string' && challenge.length <= 200)
      await challengeConsumer(deps, 'login', null, seen)(challenge);
  } catch {
    // Not a readable answer: nothing to use up.
  }
}

// ─── The member's list ──────────────────────────────────────────────────────

export async function listPasskeys(
  deps: Pick<FlowDeps, 'db'>,
  memberId: number,
): Promise<PasskeyView[]> {
  const rows = await deps.db
    .selectFrom('passkeys')
    .select(['id', 'name', 'created_at', 'last_used_at', 'device_type'])
    .where('member_id', '=', memberId)
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map(viewOf);
}

export async function renamePasskey(
  deps: FlowDeps,
  auth: MemberAuth,
  id: string | undefined,
  name: string | undefined,
  context: RequestContext,
): Promise<PasskeyView> {
  const trimmed = (name ?? '').trim().replace(/\s+/g, ' ');
  if (trimmed === '') throw invalidFields({ name: errors.PASSKEY_NAME_REQUIRED });
  if (trimmed.length > PASSKEY_NAME_MAX || /\p{Cc}/u.test(trimmed))
    throw invalidFields({ name: errors.PASSKEY_NAME_INVALID });
  const row = await deps.db
    .updateTable('passkeys')
    .set({ name: trimmed })
    .where('id', '=', id ?? '')
    .where('member_id', '=', auth.member.id)
    .returning(['id', 'name', 'created_at', 'last_used_at', 'device_type'])
    .executeTakeFirst();
  if (!row) throw passkeyErrors.notFound();
  await auditPasskey(deps, auth.member.id, context, 'passkey_renamed', 'ok', {
    passkey: shortId(row.id),
  });
  return viewOf(row);
}

export async function removePasskey(
  deps: FlowDeps,
  auth: MemberAuth,
  id: string | undefined,
  context: RequestContext,
): Promise<void> {
  const row = await deps.db
    .deleteFrom('passkeys')
    .where('id', '=', id ?? '')
    .where('member_id', '=', auth.member.id)
    .returning('id')
    .executeTakeFirst();
  if (!row) throw passkeyErrors.notFound();
  await auditPasskey(deps, auth.member.id, context, 'passkey_removed', 'ok', {
    passkey: shortId(row.id),
  });
}

/** Every passkey of a member (a lost phone, at the branch desk); how many there were. */
export async function removeAllPasskeys(db: Database, memberId: number): Promise<number> {
  const result = await db
    .deleteFrom('passkeys')
    .where('member_id', '=', memberId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function countPasskeys(db: Database, memberId: number): Promise<number> {
  const row = await db
    .selectFrom('passkeys')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('member_id', '=', memberId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function auditPasskey(
  deps: FlowDeps,
  memberId: number,
  context: RequestContext,
  type: 'passkey_added' | 'passkey_renamed' | 'passkey_removed',
  outcome: AuditEvent['outcome'],
  detail: Record<string, string | number | boolean | null>,
): Promise<void> {
  await recordAudit(deps.db, deps.clock, {
    type,
    outcome,
    memberId,
    actor: { kind: 'member', id: String(memberId) },
    channel: context.channel,
    ip: context.ip,
    userAgent: context.userAgent,
    detail,
  });
}
