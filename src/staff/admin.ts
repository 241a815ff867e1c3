// What admins do to staff accounts from the desk (issue 13, ADR 023), and
// what supervisors read of the staff's work: the list of accounts, disabling
// and enabling them, resetting a second factor (a new enrolment link), and
// the staff audit. Accounts are created with createStaff (accounts.ts).
//
// Two rules keep the desk manageable: an admin never disables their own
// account (nobody locks themself out by a slip), and the last active admin
// cannot be disabled (someone must always be able to manage staff without
// the operator's command line).
import { type Expression, type SqlBool, sql } from 'kysely';
import type { Clock } from '../auth/clock.ts';
import type { Database, StaffUser } from '../db/schema.ts';
import { type Enrolment, type StaffRole, startEnrolment } from './accounts.ts';
import { deleteStaffSessions } from './sessions.ts';

export type StaffAdminErrorCode =
  /** No staff user has that id. */
  | 'STAFF_NOT_FOUND'
  /** An admin acting on their own account where that is not allowed. */
  | 'STAFF_SELF'
  /** Disabling the only active admin. */
  | 'LAST_ADMIN'
  /** Resetting the second factor of a disabled account (its link would not open). */
  | 'STAFF_DISABLED';

/** A refusal of an admin action; `detail` (English) is for operators and logs only. */
export class StaffAdminError extends Error {
  constructor(
    readonly code: StaffAdminErrorCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'StaffAdminError';
  }
}

/** A staff account as the desk's staff page lists it (no secrets). */
export interface StaffListEntry {
  id: number;
  email: string;
  name: string;
  role: StaffRole;
  status: 'active' | 'disabled';
  /** A password and a second factor are set (the enrolment link was used). */
  enrolled: boolean;
  createdAt: Date;
}

/** Every staff account, active ones first, then by name. */
export async function listStaff(db: Database): Promise<StaffListEntry[]> {
  const rows = await db
    .selectFrom('staff_users')
    .select(['id', 'email', 'name', 'role', 'status', 'enrolled_at', 'created_at'])
    .orderBy(sql`case when status = 'active' then 0 else 1 end`)
    .orderBy('name')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    email: r.email,
    name: r.name,
    role: r.role,
    status: r.status,
    enrolled: r.enrolled_at !== null,
    createdAt: r.created_at,
  }));
}

/** One staff account; StaffAdminError STAFF_NOT_FOUND when there is none. */
export async function findStaff(db: Database, staffId: number): Promise<StaffUser> {
  const staff = Number.isSafeInteger(staffId)
    ? await db.selectFrom('staff_users').selectAll().where('id', '=', staffId).executeTakeFirst()
    : undefined;
  if (!staff) throw new StaffAdminError('STAFF_NOT_FOUND', `no staff user ${staffId}`);
  return staff;
}

export interface AdminAction {
  /** The staff user to act on. */
  staffId: number;
  /** The admin who acts. */
  byStaffId: number;
}

/**
 * Disables a staff account: it can no longer log in, its sessions end now,
 * and an enrolment link not used yet is withdrawn (enabling the account
 * later must not revive a link handed out before). `changed` is false when
 * it was disabled already. Refuses the admin's own account and the last
 * active admin.
 */
export async function disableStaff(
  db: Database,
  clock: Clock,
  action: AdminAction,
): Promise<{ staff: StaffUser; changed: boolean }> {
  if (action.staffId === action.byStaffId)
    throw new StaffAdminError('STAFF_SELF', 'an admin cannot disable their own account');
  return db.transaction().execute(async (trx) => {
    const staff = await findStaff(trx, action.staffId);
    if (staff.status === 'disabled') return { staff, changed: false };
    if (staff.role === 'admin') {
      // The active admins' rows are locked until the end of the transaction,
      // so two admins disabling each other at once cannot both succeed: the
      // second one waits and then counts again (PostgreSQL re-checks locked
      // rows against the condition when the lock is released).
      const admins = await trx
        .selectFrom('staff_users')
        .select('id')
        .where('role', '=', 'admin')
        .where('status', '=', 'active')
        .forUpdate()
        .execute();
      if (!admins.some((admin) => admin.id !== staff.id))
        throw new StaffAdminError('LAST_ADMIN', `staff user ${staff.id} is the last active admin`);
    }
    const now = clock.now();
    const updated = await trx
      .updateTable('staff_users')
      .set({ status: 'disabled', updated_at: now })
      .where('id', '=', staff.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await deleteStaffSessions(trx, staff.id);
    await trx
      .deleteFrom('staff_enrolments')
      .where('staff_id', '=', staff.id)
      .where('used_at', 'is', null)
      .execute();
    return { staff: updated, changed: true };
  });
}

/**
 * Enables a disabled staff account again. Its password and second factor
 * are the ones it had; an account that never finished enrolling needs a new
 * link (resetSecondFactor), since disabling withdrew the old one.
 * `changed` is false when it was active already.
 */
export async function enableStaff(
  db: Database,
  clock: Clock,
  staffId: number,
): Promise<{ staff: StaffUser; changed: boolean }> {
  const staff = await findStaff(db, staffId);
  if (staff.status === 'active') return { staff, changed: false };
  const updated = await db
    .updateTable('staff_users')
    .set({ status: 'active', updated_at: clock.now() })
    .where('id', '=', staff.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return { staff: updated, changed: true };
}

/**
 * Resets a staff user's second factor, for someone who lost their phone or
 * their recovery codes (or never used their first link): the password, the
 * TOTP key and the recovery codes are forgotten, every session ends, and a
 * new enrolment link (24 h) replaces any earlier one. The holder of the link
 * chooses a new password and a new key, as on the first day.
 *
 * Only for others' accounts (byStaffId must differ). Unlike disabling, which
 * an admin is kept from doing to themself to avoid a lockout, this rule is
 * about who may hold the link: resetting one's own factor would let whoever
 * sits at an open desk session (a shared computer, a session left behind)
 * turn it into the account itself, with a password and a phone of their
 * choosing and without knowing either of the old ones. Done by another admin,
 * the reset is a second person vouching for who receives the link, and the
 * audit names both.
 */
export async function resetSecondFactor(
  db: Database,
  clock: Clock,
  staffId: number,
  by: { byStaffId: number },
): Promise<{ staff: StaffUser; enrolment: Enrolment }> {
  if (staffId === by.byStaffId)
    throw new StaffAdminError('STAFF_SELF', 'an admin cannot reset their own second factor');
  return db.transaction().execute(async (trx) => {
    const staff = await findStaff(trx, staffId);
    if (staff.status !== 'active')
      throw new StaffAdminError('STAFF_DISABLED', `staff user ${staff.id} is disabled`);
    const updated = await trx
      .updateTable('staff_users')
      .set({
        // The password goes too: the link asks for a new one, and an old
        // hash left behind would only be a secret kept for nothing.
        password_hash: null,
        totp_key: null,
        totp_last_step: null,
        enrolled_at: null,
        updated_at: clock.now(),
      })
      .where('id', '=', staff.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.deleteFrom('staff_recovery_codes').where('staff_id', '=', staff.id).execute();
    await deleteStaffSessions(trx, staff.id);
    const enrolment = await startEnrolment(trx, clock, staff.id);
    return { staff: updated, enrolment };
  });
}

// --- The staff audit -------------------------------------------------------

export interface StaffAuditQuery {
  /** Only the actions of this staff user (failed logins, which name nobody, are left out). */
  staffId?: number;
  /** From this moment, inclusive. */
  from?: Date;
  /** Up to this moment, exclusive. */
  to?: Date;
  limit: number;
  offset: number;
}

/** One row of the staff audit. */
export interface StaffAuditRow {
  id: string;
  at: Date;
  /** detail.action: staff_login, member_viewed, … (src/messages/es.ts deskStaff.actions). */
  action: string;
  outcome: string;
  /** staff (an employee), anonymous (a failed login) or system (an operator command). */
  actorKind: string;
  /** The staff user's id, or the operator command; null for a failed login. */
  actorId: string | null;
  /** The employee's name, when the actor is a staff user still on file. */
  staffName: string | null;
  /** The employee's role the event recorded (detail.role), else their role now; null for others. */
  role: StaffRole | null;
  /** The member the action was about (member_number, never the document). */
  memberNumber: string | null;
  /** How the member's identity was checked (detail.document_kind, or the visit's). */
  documentKind: 'cedula' | 'pasaporte' | 'otro' | null;
  ip: string | null;
  /** The staff account an admin action was about (target_staff_id, or staff_id of staff:create). */
  targetStaffId: number | null;
  targetName: string | null;
  /** The event's detail as recorded (action-specific fields: kind, via, refusal …). */
  detail: Record<string, unknown>;
}

const DOCUMENT_KINDS = new Set(['cedula', 'pasaporte', 'otro']);
const ROLES = new Set<string>(['desk', 'supervisor', 'admin']);

/**
 * The staff audit, newest first: every staff_action event (what employees
 * did, failed desk logins, and the operator's staff:create); with an
 * employee, only what that employee did.
 */
export async function staffAudit(db: Database, query: StaffAuditQuery): Promise<StaffAuditRow[]> {
  // A number stored in detail, as an integer, or null (never a cast error on odd data).
  const detailInt = (field: string) =>
    sql<
      number | null
    >`case when jsonb_typeof(e.detail -> ${field}) = 'number' then (e.detail ->> ${field})::integer end`;
  const target = sql<
    number | null
  >`coalesce(${detailInt('target_staff_id')}, ${detailInt('staff_id')})`;

  let select = db
    .selectFrom('audit_events as e')
    .leftJoin('staff_users as s', (join) =>
      join.on(sql<SqlBool>`e.actor_kind = 'staff' and e.actor_id = s.id::text`),
    )
    .leftJoin('staff_users as t', (join) => join.on(sql<SqlBool>`t.id = ${target}`))
    .leftJoin('members as m', 'm.id', 'e.member_id')
    .leftJoin('staff_visits as v', (join) => join.on(sql<SqlBool>`v.id = ${detailInt('visit_id')}`))
    .select([
      'e.id',
      'e.at',
      'e.outcome',
      'e.actor_kind',
      'e.actor_id',
      'e.ip',
      'e.detail',
      's.name as staff_name',
      's.role as staff_role',
      'm.member_number',
      'v.document_kind as visit_document_kind',
      't.name as target_name',
    ])
    .select(target.as('target_staff_id'))
    .where('e.type', '=', 'staff_action')
    .orderBy('e.at', 'desc')
    .orderBy('e.id', 'desc')
    .limit(query.limit)
    .offset(query.offset);

  if (query.staffId !== undefined) {
    select = select
      .where('e.actor_kind', '=', 'staff')
      .where('e.actor_id', '=', String(query.staffId));
  } else {
    // Employees' actions, failed desk logins (nobody proved who they were),
    // and the operator's commands on staff accounts.
    const kinds: Expression<SqlBool> = sql<SqlBool>`(e.actor_kind in ('staff', 'system') or (e.actor_kind = 'anonymous' and e.detail ->> 'action' = 'staff_login'))`;
    select = select.where(kinds);
  }
  if (query.from) select = select.where('e.at', '>=', query.from);
  if (query.to) select = select.where('e.at', '<', query.to);

  const rows = await select.execute();
  return rows.map((r) => {
    const detail =
      r.detail && typeof r.detail === 'object' && !Array.isArray(r.detail)
        ? (r.detail as Record<string, unknown>)
        : {};
    const recordedRole = typeof detail.role === 'string' ? detail.role : null;
    const recordedKind = typeof detail.document_kind === 'string' ? detail.document_kind : null;
    const documentKind = recordedKind ?? r.visit_document_kind ?? null;
    // detail.role is the acting employee's role when the actor is staff; in an
    // operator command's event it names the account created, not the actor.
    const role = r.actor_kind === 'staff' ? (recordedRole ?? r.staff_role ?? null) : null;
    return {
      id: String(r.id),
      at: r.at,
      action: typeof detail.action === 'string' ? detail.action : '',
      outcome: r.outcome,
      actorKind: r.actor_kind,
      actorId: r.actor_id,
      staffName: r.staff_name ?? null,
      role: role && ROLES.has(role) ? (role as StaffRole) : null,
      memberNumber: r.member_number ?? null,
      documentKind:
        documentKind && DOCUMENT_KINDS.has(documentKind)
          ? (documentKind as StaffAuditRow['documentKind'])
          : null,
      ip: r.ip,
      targetStaffId: r.target_staff_id === null ? null : Number(r.target_staff_id),
      targetName: r.target_name ?? null,
      detail,
    };
  });
}
