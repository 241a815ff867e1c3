// What the branch desk does for a member (issue 13): find them, record how
// their identity was checked (a "visit"), and the actions that need that
// record: fix a contact, send a link or code, print an activation code,
// unlock the login, read the member's audit timeline. The routes
// (src/routes/web/desk-members.ts) audit each step as the employee's action.
//
// Staff never see, choose or set a member's password: every way back in
// here ends with the member choosing it on "Cambiar contraseña".

import type { Selectable } from 'kysely';
import { normalizeDocument, withoutLeadingZeros } from '../auth/documents.ts';
import { keyedHash } from '../auth/secrets.ts';
import { hitLimit, type WindowLimit } from '../auth/throttle.ts';
import { enqueueMessage } from '../courier/outbox.ts';
import { contactChangedEmail, contactChangedSms } from '../courier/templates/contact-changed.ts';
import type { Database, Member, StaffVisitsTable } from '../db/schema.ts';
import type { FlowDeps } from '../flows/context.ts';
import { countPasskeys } from '../flows/passkeys/service.ts';
import { type MaskedContacts, maskedContacts, readDetail } from '../flows/settings/service.ts';
import { CONTACT_TEMPLATES, MAX_CONTACT_LENGTH } from '../flows/settings/state.ts';
import { findMemberByIdentifier } from '../members/find.ts';
import { checkEmail, checkMobile } from '../members/validate-row.ts';
import { desk } from '../messages/es.ts';

/** How long an identity check covers the employee's actions for that member. */
export const VISIT_MINUTES = 30;
export const DOCUMENT_KINDS = ['cedula', 'pasaporte', 'otro'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];
/** The identity check's note and a contact change's reason: a short line, not a file. */
export const NOTE_MAX_LENGTH = 200;

/**
 * Per employee, per hour: member cards opened, and messages sent plus codes
 * printed. Far above a busy counter's day-long pace (a visit every few
 * minutes), far below what copying the registry or flooding members needs.
 */
export const DESK_LOOKUPS_PER_HOUR: WindowLimit = { limit: 120, windowMs: 3_600_000 };
export const DESK_SENDS_PER_HOUR: WindowLimit = { limit: 40, windowMs: 3_600_000 };

export type StaffVisit = Selectable<StaffVisitsTable>;

/** The member as the desk's card shows them: contacts masked, no password or hash. */
export interface MemberCard {
  id: number;
  firstName: string;
  lastName: string;
  document: string;
  memberNumber: string;
  status: Member['status'];
  hasPassword: boolean;
  passwordChangedAt: Date | null;
  contacts: MaskedContacts;
  hasEmail: boolean;
  hasMobile: boolean;
  /** Failed logins still remembered, and until when the login waits (null: it does not). */
  loginFailures: number;
  lockedUntil: Date | null;
  /** The member's passkeys (a lost phone: the desk can remove them all). */
  passkeys: number;
}

export class DeskError extends Error {
  constructor(
    readonly code:
      | 'QUERY_INVALID'
      | 'MEMBER_NOT_FOUND'
      | 'VISIT_REQUIRED'
      | 'MEMBER_INACTIVE'
      | 'DESK_LIMIT'
      | 'VALIDATION_FAILED',
    message: string,
    readonly fields: Record<string, string> = {},
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DeskError';
  }
}

/** The search box's text as digits (any format: dots, dashes, spaces), or a DeskError. */
export function readMemberQuery(raw: string | undefined): string {
  const trimmed = (raw ?? '').trim();
  if (trimmed === '') throw new DeskError('QUERY_INVALID', desk.searchRequired);
  const digits = trimmed.length <= 32 ? normalizeDocument(trimmed) : null;
  if (!digits || digits.length > 12) throw new DeskError('QUERY_INVALID', desk.searchInvalid);
  return withoutLeadingZeros(digits);
}

/** Spends one unit of an employee's hourly budget; DESK_LIMIT past it. */
export async function spendDeskBudget(
  deps: Pick<FlowDeps, 'db' | 'clock'>,
  staffId: number,
  what: 'lookups' | 'sends',
): Promise<void> {
  const rule = what === 'lookups' ? DESK_LOOKUPS_PER_HOUR : DESK_SENDS_PER_HOUR;
  const verdict = await hitLimit(deps.db, deps.clock, `desk-${what}:staff:${staffId}`, rule);
  if (!verdict.allowed)
    throw new DeskError(
      'DESK_LIMIT',
      what === 'lookups' ? desk.lookupsLimit : desk.sendsLimit,
      {},
      verdict.retryAfterSeconds,
    );
}

/** The member a search names (document, member number, document with its check digit). */
export async function findMemberForDesk(db: Database, identifier: string): Promise<Member> {
  const member = await findMemberByIdentifier(db, identifier);
  if (!member) throw new DeskError('MEMBER_NOT_FOUND', desk.memberNotFound);
  return member;
}

export async function memberById(db: Database, memberId: number): Promise<Member> {
  const member = await db
    .selectFrom('members')
    .selectAll()
    .where('id', '=', memberId)
    .executeTakeFirst();
  if (!member) throw new DeskError('MEMBER_NOT_FOUND', desk.memberNotFound);
  return member;
}

/** The card of a member: what the employee needs to help, nothing more. */
export async function memberCard(
  deps: Pick<FlowDeps, 'db' | 'clock' | 'secret'>,
  member: Member,
): Promise<MemberCard> {
  const lockout = await deps.db
    .selectFrom('account_lockouts')
    .select(['failures', 'locked_until'])
    .where('document_hash', '=', keyedHash(deps.secret, 'document', member.document))
    .executeTakeFirst();
  const now = deps.clock.now();
  const passkeys = await countPasskeys(deps.db, member.id);
  return {
    id: member.id,
    firstName: member.first_name,
    lastName: member.last_name,
    document: member.document,
    memberNumber: member.member_number,
    status: member.status,
    hasPassword: member.password_hash !== null,
    passwordChangedAt: member.password_changed_at,
    contacts: maskedContacts(member),
    hasEmail: member.email !== null,
    hasMobile: member.mobile !== null,
    loginFailures: lockout?.failures ?? 0,
    lockedUntil: lockout?.locked_until && lockout.locked_until > now ? lockout.locked_until : null,
    passkeys,
  };
}

/** How the identity was checked, as typed; field errors otherwise. */
export function readIdentityCheck(input: {
  documentKind: string | undefined;
  note: string | undefined;
}): { documentKind: DocumentKind; note: string } {
  const fields: Record<string, string> = {};
  const kind = DOCUMENT_KINDS.find((k) => k === input.documentKind);
  const note = (input.note ?? '').trim().replace(/\s+/g, ' ');
  if (!kind) fields.documentKind = desk.documentKindRequired;
  if (note === '') fields.note = desk.noteRequired;
  else if (note.length > NOTE_MAX_LENGTH) fields.note = desk.noteTooLong(NOTE_MAX_LENGTH);
  if (!kind || Object.keys(fields).length > 0)
    throw new DeskError('VALIDATION_FAILED', desk.fixFields, fields);
  return { documentKind: kind, note };
}

/** Records an identity check: the visit every following action of this employee names. */
export async function openVisit(
  deps: Pick<FlowDeps, 'db' | 'clock'>,
  staffId: number,
  memberId: number,
  check: { documentKind: DocumentKind; note: string },
): Promise<StaffVisit> {
  return deps.db
    .insertInto('staff_visits')
    .values({
      staff_id: staffId,
      member_id: memberId,
      document_kind: check.documentKind,
      note: check.note,
      created_at: deps.clock.now(),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The employee's identity check of this member in the last VISIT_MINUTES; null when none. */
export async function liveVisit(
  deps: Pick<FlowDeps, 'db' | 'clock'>,
  staffId: number,
  memberId: number,
): Promise<StaffVisit | null> {
  const since = new Date(deps.clock.now().getTime() - VISIT_MINUTES * 60_000);
  const row = await deps.db
    .selectFrom('staff_visits')
    .selectAll()
    .where('staff_id', '=', staffId)
    .where('member_id', '=', memberId)
    .where('created_at', '>', since)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ?? null;
}

export interface DeskContactChange {
  kind: 'email' | 'mobile';
  value: string;
  reason: string;
}

/** A contact change as typed at the desk: the new value normalised, and a reason. */
export function readDeskContactChange(
  member: Pick<Member, 'email' | 'mobile'>,
  input: { kind: string | undefined; value: string | undefined; reason: string | undefined },
): DeskContactChange {
  const fields: Record<string, string> = {};
  const kind = input.kind === 'email' || input.kind === 'mobile' ? input.kind : null;
  const raw = (input.value ?? '').trim();
  const reason = (input.reason ?? '').trim().replace(/\s+/g, ' ');
  let value = '';
  if (!kind) fields.kind = desk.contactKindRequired;
  else if (raw === '')
    fields.value = kind === 'email' ? desk.emailValueRequired : desk.mobileValueRequired;
  else {
    const checked =
      raw.length > MAX_CONTACT_LENGTH
        ? null
        : kind === 'email'
          ? checkEmail(raw)
          : checkMobile(raw);
    if (checked?.ok && checked.value) value = checked.value;
    else fields.value = kind === 'email' ? desk.emailValueInvalid : desk.mobileValueInvalid;
    if (value && value === (kind === 'email' ? member.email : member.mobile))
      fields.value = desk.contactUnchanged;
  }
  if (reason === '') fields.reason = desk.reasonRequired;
  else if (reason.length > NOTE_MAX_LENGTH) fields.reason = desk.noteTooLong(NOTE_MAX_LENGTH);
  if (!kind || Object.keys(fields).length > 0)
    throw new DeskError('VALIDATION_FAILED', desk.fixFields, fields);
  return { kind, value, reason };
}

/**
 * Writes the new contact and tells the member at the old contact and at the
 * new one (never the new value to the old one), in one transaction. A
 * member without the old contact is told at the other one, as the member's
 * own change does. Answers which notices were queued.
 */
export async function changeContactAtDesk(
  deps: Pick<FlowDeps, 'db' | 'clock' | 'secret' | 'brand' | 'courier'>,
  memberId: number,
  change: DeskContactChange,
): Promise<{ before: string | null; notified: ('email' | 'sms')[] }> {
  const now = deps.clock.now();
  const notified = await deps.db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('members')
      .select(['email', 'mobile'])
      .where('id', '=', memberId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    await trx
      .updateTable('members')
      .set(
        change.kind === 'email'
          ? { email: change.value, updated_at: now }
          : { mobile: change.value, updated_at: now },
      )
      .where('id', '=', memberId)
      .execute();
    const email = contactChangedEmail({
      brand: deps.brand,
      at: now,
      kind: change.kind,
      atBranch: true,
    });
    const sms = contactChangedSms({ brand: deps.brand });
    const send = (channel: 'email' | 'sms', to: string) =>
      enqueueMessage(
        trx,
        deps.clock,
        deps.secret,
        channel === 'email'
          ? { channel, to, template: CONTACT_TEMPLATES.changed, content: email }
          : { channel, to, template: CONTACT_TEMPLATES.changed, content: sms },
        memberId,
      );
    const sent: ('email' | 'sms')[] = [];
    const old = change.kind === 'email' ? before.email : before.mobile;
    const oldChannel = change.kind === 'email' ? 'email' : 'sms';
    if (old) {
      await send(oldChannel, old);
      sent.push(oldChannel);
    } else {
      // No old contact of this kind: the other one, so whoever holds the account hears of it.
      const other = change.kind === 'email' ? before.mobile : before.email;
      const otherChannel = change.kind === 'email' ? 'sms' : 'email';
      if (other) {
        await send(otherChannel, other);
        sent.push(otherChannel);
      }
    }
    await send(oldChannel, change.value);
    sent.push(oldChannel);
    return { before: old, sent };
  });
  deps.courier.wake();
  return { before: notified.before, notified: notified.sent };
}

/** Ends the login's wait for a member: their remembered failures are forgotten. */
export async function unlockMember(
  deps: Pick<FlowDeps, 'db' | 'secret'>,
  member: Pick<Member, 'document'>,
): Promise<boolean> {
  const result = await deps.db
    .deleteFrom('account_lockouts')
    .where('document_hash', '=', keyedHash(deps.secret, 'document', member.document))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** One event of a member's timeline as the desk shows it. */
export interface TimelineEvent {
  at: Date;
  type: string;
  outcome: string;
  channel: string | null;
  actorKind: string;
  /** The employee's name for a staff action; null otherwise. */
  staffName: string | null;
  detail: Record<string, unknown>;
}

/** The member's last `limit` audit events, newest first, with the names of the employees who acted. */
export async function memberTimeline(
  db: Database,
  memberId: number,
  limit = 100,
): Promise<TimelineEvent[]> {
  const rows = await db
    .selectFrom('audit_events')
    // Compared as text: other actors' ids ('cli:…') are not numbers.
    .leftJoin('staff_users', (join) =>
      join.on((eb) =>
        eb.and([
          eb('audit_events.actor_kind', '=', 'staff'),
          eb(eb.cast('staff_users.id', 'text'), '=', eb.ref('audit_events.actor_id')),
        ]),
      ),
    )
    .select([
      'audit_events.at',
      'audit_events.type',
      'audit_events.outcome',
      'audit_events.channel',
      'audit_events.actor_kind',
      'audit_events.detail',
      'staff_users.name as staff_name',
    ])
    .where('audit_events.member_id', '=', memberId)
    .orderBy('audit_events.at', 'desc')
    .orderBy('audit_events.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    at: row.at,
    type: row.type,
    outcome: row.outcome,
    channel: row.channel,
    actorKind: row.actor_kind,
    staffName: row.staff_name,
    detail: readDetail(row.detail),
  }));
}
