// The whole life of a one-time secret, for every purpose: an emailed link, a
// code sent by SMS, a set-password token (recovery and registration), and
// next the proof of a new contact and a branch's activation code. Only the
// secret's hash is stored (SHA-256 for 256-bit tokens, an HMAC for short
// codes, see secrets.ts); each step checks where the secret stands (used,
// expired, tries) in the same statement that changes it (ADR 008).
//
//   store ──► live ──consume / right code──► used
//               │──newer secret, password set (retire)──► used
//               │──wrong code ×N──► spent (tries exhausted)
//               └──expires_at passes──► expired
import type { Database, OneTimeSecret } from '../db/schema.ts';
import { addMinutes } from './clock.ts';
import { keyedHash } from './secrets.ts';

export type SecretKind = OneTimeSecret['kind'];
export type SecretPurpose = OneTimeSecret['purpose'];

export interface NewSecret {
  memberId: number;
  kind: SecretKind;
  purpose: SecretPurpose;
  /** hashToken(token) for links and tokens, a keyed hash for codes. */
  secretHash: string;
  now: Date;
  minutes: number;
  /** Asked for from a device that logged in as the member before (ADR 016). */
  knownDevice?: boolean;
  /** What the secret carries, already sealed (e.g. the contact being proven). */
  payload?: string | null;
}

/** Stores a secret's hash; answers its id (the outbox message that carries it names it). */
export async function storeSecret(db: Database, secret: NewSecret): Promise<string> {
  const row = await db
    .insertInto('one_time_secrets')
    .values(secretRow(secret))
    .returning('id')
    .executeTakeFirstOrThrow();
  return String(row.id);
}

/** The row stored for a secret (its hash only), alone or in a batch. */
function secretRow(secret: NewSecret) {
  return {
    member_id: secret.memberId,
    kind: secret.kind,
    purpose: secret.purpose,
    secret_hash: secret.secretHash,
    created_at: secret.now,
    expires_at: addMinutes(secret.now, secret.minutes),
    known_device: secret.knownDevice ?? false,
    payload: secret.payload ?? null,
  };
}

export interface RetireScope {
  /** Only secrets for these purposes (all purposes by default). */
  purposes?: readonly SecretPurpose[];
  /** Only those asked for from elsewhere, sparing a known device's (ADR 016). */
  fromElsewhereOnly?: boolean;
}

/** Kills a member's unused secrets (a newer one was issued, the password changed). */
export async function retireSecrets(
  db: Database,
  memberId: number,
  now: Date,
  scope: RetireScope = {},
): Promise<void> {
  let query = db
    .updateTable('one_time_secrets')
    .set({ used_at: now })
    .where('member_id', '=', memberId)
    .where('used_at', 'is', null);
  if (scope.purposes) query = query.where('purpose', 'in', [...scope.purposes]);
  if (scope.fromElsewhereOnly) query = query.where('known_device', '=', false);
  await query.execute();
}

/** Whose secrets retireSecretsOfMembers kills: a member, and whether a known device's too. */
export interface RetireOf {
  memberId: number;
  /** Also those asked for from a known device (false: from elsewhere only, ADR 016). */
  knownDevicesToo: boolean;
}

/**
 * retireSecrets for many members in one statement, unexecuted (a batch of
 * requests runs it with its other writes): each member's unused secrets of
 * `purposes`, within that member's scope. Each member at most once.
 */
export function retireSecretsOfMembersQuery(
  db: Database,
  now: Date,
  members: readonly RetireOf[],
  purposes: readonly SecretPurpose[],
) {
  const all = members.filter((m) => m.knownDevicesToo).map((m) => m.memberId);
  const elsewhere = members.filter((m) => !m.knownDevicesToo).map((m) => m.memberId);
  return db
    .updateTable('one_time_secrets')
    .set({ used_at: now })
    .where('used_at', 'is', null)
    .where('purpose', 'in', [...purposes])
    .where((eb) =>
      eb.or([
        eb('member_id', '=', eb.fn.any(eb.val(all))),
        eb.and([
          eb('member_id', '=', eb.fn.any(eb.val(elsewhere))),
          eb('known_device', '=', false),
        ]),
      ]),
    );
}

/** A secret storeSecretsQuery stores: NewSecret, perhaps already retired (`usedAt`). */
export interface NewSecretOfBatch extends NewSecret {
  /** Retired from the start: a later request of the same batch retires it (ADR 021). */
  usedAt?: Date | null;
}

/**
 * storeSecret for many secrets in one statement, unexecuted; returns each
 * stored secret's id and hash (the outbox rows that carry them join on it).
 */
export function storeSecretsQuery(db: Database, secrets: readonly NewSecretOfBatch[]) {
  return db
    .insertInto('one_time_secrets')
    .values(secrets.map((secret) => ({ ...secretRow(secret), used_at: secret.usedAt ?? null })))
    .returning(['id', 'secret_hash']);
}

/** A live secret by its hash, among the given kinds; null when used, expired or unknown. */
export async function peekSecret(
  db: Database,
  secretHash: string,
  kinds: readonly SecretKind[],
  now: Date,
): Promise<OneTimeSecret | null> {
  const row = await db
    .selectFrom('one_time_secrets')
    .selectAll()
    .where('secret_hash', '=', secretHash)
    .where('kind', 'in', [...kinds])
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return row ?? null;
}

/**
 * Uses up one live secret; false when it was used, retired or expired in the
 * meantime (of concurrent consumers, exactly one gets true).
 */
export async function consumeSecret(db: Database, id: string, now: Date): Promise<boolean> {
  const used = await db
    .updateTable('one_time_secrets')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .returning('id')
    .executeTakeFirst();
  return used !== undefined;
}

export interface CodeTry {
  memberId: number;
  kind: SecretKind;
  /** The purposes this code may be for (a recovery code never proves a contact). */
  purposes: readonly SecretPurpose[];
  /** The keyed hash of the code as typed. */
  candidateHash: string;
  now: Date;
  maxTries: number;
}

/**
 * Counts one try of a code on the member's live codes of `kind` (the newest
 * asked for from a known device, and the newest from elsewhere) and uses up
 * the one that matches, in one statement: concurrent tries give at most one
 * success. Answers the matched secret, if any, and the tries counted so far.
 */
export async function tryCode(
  db: Database,
  code: CodeTry,
): Promise<{ matched: OneTimeSecret | null; attempts: number[] }> {
  const rows = await db
    .updateTable('one_time_secrets')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      used_at: eb
        .case()
        .when('secret_hash', '=', code.candidateHash)
        .then(code.now)
        .else(eb.ref('used_at'))
        .end(),
    }))
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('one_time_secrets')
        .select((s) => s.fn.max('id').as('id'))
        .where('member_id', '=', code.memberId)
        .where('kind', '=', code.kind)
        .where('purpose', 'in', [...code.purposes])
        .groupBy('known_device'),
    )
    .where('used_at', 'is', null)
    .where('expires_at', '>', code.now)
    .where('attempts', '<', code.maxTries)
    .returningAll()
    .execute();
  return {
    matched: rows.find((row) => row.used_at !== null) ?? null,
    attempts: rows.map((row) => row.attempts),
  };
}

/**
 * A short code's keyed hash, bound to its member and to what it is for (the
 * `hashPurpose` keeps a recovery code from ever matching a contact code).
 */
export function codeHash(
  secret: string,
  hashPurpose: string,
  memberId: number,
  code: string,
): string {
  return keyedHash(secret, hashPurpose, `${memberId}:${code}`);
}
