// The desk's pages for supervisors and admins (issue 13):
// - GET  /mesa/auditoria              the staff audit (supervisor, admin)
// - GET  /mesa/personal               the staff accounts (admin)
// - POST /mesa/personal               a new account → its enrolment link
// - POST /mesa/personal/desactivar    disable (after a confirmation)
// - POST /mesa/personal/reactivar     enable
// - POST /mesa/personal/segundo-factor reset the second factor (after a
//                                     confirmation) → a new enrolment link
// Roles are checked here, on the server, by the desk's guard on every route;
// the pages only leave out links a role cannot use. Every admin action is
// audited as a staff_action naming the account it was about
// (detail.target_staff_id); the enrolment link is never recorded.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AuditEvent, recordAudit } from '../../audit/record.ts';
import type { StaffUser } from '../../db/schema.ts';
import type { AppParts } from '../../deps.ts';
import { DISPLAY_TIME_ZONE } from '../../flows/settings/state.ts';
import { deskStaff } from '../../messages/es.ts';
import { checkNewStaff, createStaff, type Enrolment, StaffError } from '../../staff/accounts.ts';
import {
  disableStaff,
  enableStaff,
  findStaff,
  listStaff,
  resetSecondFactor,
  StaffAdminError,
  type StaffAdminErrorCode,
  staffAudit,
} from '../../staff/admin.ts';
import { DESK_PATHS } from '../../views/pages/desk.ts';
import {
  DESK_STAFF_PATHS,
  deskAuditPage,
  deskEnrolmentLinkPage,
  deskStaffConfirmPage,
  deskStaffPage,
  type NewStaffForm,
} from '../../views/pages/desk-staff.ts';
import type { FieldMessages } from '../../views/partials.ts';
import { formField } from '../context.ts';
import { staffOf, staffRolesFrom } from './desk.ts';

const HTML = 'text/html; charset=utf-8';

/** Rows on one page of the staff audit. */
export const AUDIT_PAGE_SIZE = 50;
/** Pages beyond this are refused: an offset that deep is a mistake, not a reading. */
const AUDIT_MAX_PAGE = 10_000;

/** What each refusal of an admin action says and answers. */
const ADMIN_REFUSALS: Record<StaffAdminErrorCode, { status: number; message: string }> = {
  STAFF_NOT_FOUND: { status: 404, message: deskStaff.staffNotFound },
  STAFF_SELF: { status: 409, message: deskStaff.selfDisable },
  LAST_ADMIN: { status: 409, message: deskStaff.lastAdmin },
  STAFF_DISABLED: { status: 409, message: deskStaff.resetDisabled },
};

export function registerDeskStaffPages(pages: FastifyInstance, deps: AppParts): void {
  const { db, clock, site } = deps;
  const page = (reply: FastifyReply, body: string, status = 200) =>
    reply.code(status).type(HTML).send(body);
  const audit = (request: FastifyRequest, event: AuditEvent) => {
    const agent = request.headers['user-agent'];
    return recordAudit(db, clock, {
      ...event,
      channel: 'desk',
      ip: request.ip ?? null,
      userAgent: typeof agent === 'string' ? agent : null,
    });
  };
  /** An admin action on another staff account, as the audit keeps it. */
  const auditAdminAction = (
    request: FastifyRequest,
    admin: StaffUser,
    action: string,
    target: StaffUser,
  ) =>
    audit(request, {
      type: 'staff_action',
      outcome: 'ok',
      actor: { kind: 'staff', id: String(admin.id) },
      detail: { action, role: admin.role, target_staff_id: target.id, target_role: target.role },
    });
  const enrolmentLink = (enrolment: Enrolment) =>
    `${deps.config.publicUrl}${DESK_PATHS.enrolment}?token=${enrolment.token}`;

  const supervisors = {
    schema: { hide: true },
    preHandler: pages.requireRole(...staffRolesFrom('supervisor')),
  };
  const admins = { schema: { hide: true }, preHandler: pages.requireRole('admin') };

  // --- The staff audit -------------------------------------------------------
  pages.get(DESK_STAFF_PATHS.audit, supervisors, async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    const employees = await listStaff(db);
    const filter = {
      employee: shownValue(query.empleado),
      from: shownValue(query.desde),
      to: shownValue(query.hasta),
    };
    const fields: FieldMessages = {};

    const employeeText = queryText(query.empleado);
    let staffId: number | undefined;
    if (employeeText === null) fields.empleado = deskStaff.employeeInvalid;
    else if (employeeText !== '') {
      const known = /^\d{1,9}$/.test(employeeText)
        ? employees.find((e) => e.id === Number(employeeText))
        : undefined;
      if (known) staffId = known.id;
      else fields.empleado = deskStaff.employeeInvalid;
    }
    const fromDay = readDay(query.desde);
    const toDay = readDay(query.hasta);
    if (fromDay === null) fields.desde = deskStaff.dateInvalid;
    if (toDay === null) fields.hasta = deskStaff.dateInvalid;
    if (fromDay && toDay && toDay.start < fromDay.start) fields.hasta = deskStaff.rangeInvalid;
    const pageText = queryText(query.pagina);
    const pageNumber = pageText === '' ? 1 : Number(pageText);
    const pageValid =
      pageText !== null &&
      (pageText === '' || /^\d{1,5}$/.test(pageText)) &&
      pageNumber >= 1 &&
      pageNumber <= AUDIT_MAX_PAGE;
    if (Object.keys(fields).length > 0)
      return page(reply, deskAuditPage(site, { employees, filter, fields }), 400);
    // A page number is never typed: a wrong one is a broken link, said on its own.
    if (!pageValid)
      return page(
        reply,
        deskAuditPage(site, { employees, filter, message: deskStaff.pageInvalid }),
        400,
      );

    const found = await staffAudit(db, {
      ...(staffId !== undefined ? { staffId } : {}),
      ...(fromDay ? { from: fromDay.start } : {}),
      ...(toDay ? { to: toDay.end } : {}),
      limit: AUDIT_PAGE_SIZE + 1,
      offset: (pageNumber - 1) * AUDIT_PAGE_SIZE,
    });
    const rows = found.slice(0, AUDIT_PAGE_SIZE);
    // Links of the other pages, from the values read, never the request's text.
    const linkTo = (n: number) => {
      const params = new URLSearchParams();
      if (staffId !== undefined) params.set('empleado', String(staffId));
      if (fromDay) params.set('desde', fromDay.text);
      if (toDay) params.set('hasta', toDay.text);
      if (n > 1) params.set('pagina', String(n));
      const search = params.toString();
      return search ? `${DESK_STAFF_PATHS.audit}?${search}` : DESK_STAFF_PATHS.audit;
    };
    return page(
      reply,
      deskAuditPage(site, {
        employees,
        filter,
        rows,
        page: pageNumber,
        ...(pageNumber > 1 ? { newerHref: linkTo(pageNumber - 1) } : {}),
        ...(found.length > AUDIT_PAGE_SIZE ? { olderHref: linkTo(pageNumber + 1) } : {}),
      }),
    );
  });

  // --- The staff accounts ----------------------------------------------------
  /** The staff page, with a notice, a refusal or the new account's form. */
  const staffPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    view: { notice?: string; message?: string; form?: NewStaffForm; fields?: FieldMessages },
    status = 200,
  ) => {
    const { staff: me } = staffOf(request);
    return page(
      reply,
      deskStaffPage(site, { meId: me.id, staff: await listStaff(db), ...view }),
      status,
    );
  };
  const refused = (request: FastifyRequest, reply: FastifyReply, error: unknown, self?: string) => {
    if (!(error instanceof StaffAdminError)) throw error;
    const refusal = ADMIN_REFUSALS[error.code];
    const message = error.code === 'STAFF_SELF' && self ? self : refusal.message;
    return staffPage(request, reply, { message }, refusal.status);
  };

  pages.get(DESK_STAFF_PATHS.staff, admins, async (request, reply) => {
    const query = (request.query ?? {}) as Record<string, unknown>;
    // After a disable or an enable (POST, then 303 here): say it, naming the account.
    const done = queryText(query.hecho);
    const account = queryText(query.cuenta);
    let notice: string | undefined;
    if ((done === 'desactivada' || done === 'reactivada') && account && /^\d{1,9}$/.test(account)) {
      const staff = await db
        .selectFrom('staff_users')
        .select(['name', 'status'])
        .where('id', '=', Number(account))
        .executeTakeFirst();
      if (staff && done === 'desactivada' && staff.status === 'disabled')
        notice = deskStaff.disabledDone(staff.name);
      if (staff && done === 'reactivada' && staff.status === 'active')
        notice = deskStaff.enabledDone(staff.name);
    }
    return staffPage(request, reply, notice ? { notice } : {});
  });

  pages.post(DESK_STAFF_PATHS.staff, admins, async (request, reply) => {
    const { staff: admin } = staffOf(request);
    const form: NewStaffForm = {
      email: (formField(request.body, 'email') ?? '').trim().slice(0, 254),
      name: (formField(request.body, 'name') ?? '').trim().slice(0, 200),
      role: formField(request.body, 'role') ?? '',
    };
    const fields = newStaffProblems(form);
    if (Object.keys(fields).length > 0)
      return staffPage(request, reply, { message: deskStaff.fixFields, form, fields }, 400);
    try {
      const { staff, enrolment } = await createStaff(db, clock, {
        ...form,
        createdBy: `staff:${admin.id}`,
      });
      await auditAdminAction(request, admin, 'staff_created', staff);
      return page(
        reply,
        deskEnrolmentLinkPage(site, {
          kind: 'created',
          name: staff.name,
          email: staff.email,
          role: staff.role,
          link: enrolmentLink(enrolment),
          expiresAt: enrolment.expiresAt,
        }),
      );
    } catch (error) {
      if (!(error instanceof StaffError && error.code === 'STAFF_EMAIL_TAKEN')) throw error;
      return staffPage(
        request,
        reply,
        { message: deskStaff.emailTaken, form, fields: { email: deskStaff.emailTaken } },
        409,
      );
    }
  });

  pages.post(DESK_STAFF_PATHS.disable, admins, async (request, reply) => {
    const { staff: admin } = staffOf(request);
    try {
      const target = await findStaff(db, staffIdOf(request.body));
      if (target.id === admin.id)
        throw new StaffAdminError('STAFF_SELF', 'an admin cannot disable their own account');
      if (formField(request.body, 'confirmar') !== 'si')
        return page(
          reply,
          deskStaffConfirmPage(site, { kind: 'disable', staffId: target.id, name: target.name }),
        );
      const { staff, changed } = await disableStaff(db, clock, {
        staffId: target.id,
        byStaffId: admin.id,
      });
      if (changed) await auditAdminAction(request, admin, 'staff_disabled', staff);
      return reply.redirect(`${DESK_STAFF_PATHS.staff}?hecho=desactivada&cuenta=${staff.id}`, 303);
    } catch (error) {
      return refused(request, reply, error, deskStaff.selfDisable);
    }
  });

  pages.post(DESK_STAFF_PATHS.enable, admins, async (request, reply) => {
    const { staff: admin } = staffOf(request);
    try {
      const { staff, changed } = await enableStaff(db, clock, staffIdOf(request.body));
      if (changed) await auditAdminAction(request, admin, 'staff_enabled', staff);
      return reply.redirect(`${DESK_STAFF_PATHS.staff}?hecho=reactivada&cuenta=${staff.id}`, 303);
    } catch (error) {
      return refused(request, reply, error);
    }
  });

  pages.post(DESK_STAFF_PATHS.resetFactor, admins, async (request, reply) => {
    const { staff: admin } = staffOf(request);
    try {
      const target = await findStaff(db, staffIdOf(request.body));
      if (target.id === admin.id)
        throw new StaffAdminError('STAFF_SELF', 'an admin cannot reset their own second factor');
      if (target.status !== 'active')
        throw new StaffAdminError('STAFF_DISABLED', `staff user ${target.id} is disabled`);
      // An account that never enrolled has nothing to lose: its new link comes at once.
      if (target.enrolled_at !== null && formField(request.body, 'confirmar') !== 'si')
        return page(
          reply,
          deskStaffConfirmPage(site, { kind: 'reset', staffId: target.id, name: target.name }),
        );
      const { staff, enrolment } = await resetSecondFactor(db, clock, target.id, {
        byStaffId: admin.id,
      });
      await auditAdminAction(request, admin, 'staff_factor_reset', staff);
      return page(
        reply,
        deskEnrolmentLinkPage(site, {
          kind: 'reset',
          name: staff.name,
          email: staff.email,
          role: staff.role,
          link: enrolmentLink(enrolment),
          expiresAt: enrolment.expiresAt,
        }),
      );
    } catch (error) {
      return refused(request, reply, error, deskStaff.selfReset);
    }
  });
}

/** The staff id a form posts (hidden field `id`); NaN when absent or malformed. */
function staffIdOf(body: unknown): number {
  const text = formField(body, 'id') ?? '';
  return /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * The new account's problems, every field at once. The rules are
 * checkNewStaff's (the operator's command uses them too); it stops at the
 * first problem, so each field is checked with known-good others.
 */
function newStaffProblems(form: NewStaffForm): FieldMessages {
  const good = { email: 'staff@example.org', name: 'Staff', role: 'desk' };
  const problem = (field: keyof NewStaffForm, message: string): FieldMessages => {
    try {
      checkNewStaff({ ...good, [field]: form[field] });
      return {};
    } catch (error) {
      if (!(error instanceof StaffError)) throw error;
      return { [field]: message };
    }
  };
  return {
    ...problem('name', deskStaff.nameInvalid),
    ...problem('email', deskStaff.emailInvalid),
    ...problem('role', deskStaff.roleInvalid),
  };
}

/** A query parameter as one string ('' when absent); null when repeated or odd. */
function queryText(value: unknown): string | null {
  if (value === undefined) return '';
  return typeof value === 'string' ? value.trim() : null;
}

/** A parameter shown again in its field: a bounded string, whatever was sent. */
function shownValue(value: unknown): string {
  return typeof value === 'string' ? value.trim().slice(0, 40) : '';
}

/**
 * A day of the filter, as the moments it starts and ends in Uruguay;
 * undefined when empty, null when it is not a real day. An <input
 * type="date"> sends YYYY-MM-DD; a browser without a date picker shows a
 * text box, where people in Uruguay type 25/11/2026: both are read.
 */
function readDay(value: unknown): { text: string; start: Date; end: Date } | undefined | null {
  const text = queryText(value);
  if (text === '') return undefined;
  if (text === null || text.length > 10) return null;
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(text);
  const typed = iso ? null : /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text);
  if (!iso && !typed) return null;
  const [year, month, day] = iso
    ? [Number(iso[1]), Number(iso[2]), Number(iso[3])]
    : [Number(typed?.[3]), Number(typed?.[2]), Number(typed?.[1])];
  const noon = new Date(Date.UTC(year, month - 1, day, 12));
  const real =
    year >= 2000 &&
    year <= 2999 &&
    noon.getUTCFullYear() === year &&
    noon.getUTCMonth() === month - 1 &&
    noon.getUTCDate() === day;
  if (!real) return null;
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    text: `${year}-${pad(month)}-${pad(day)}`,
    start: startOfDay(year, month, day),
    end: startOfDay(year, month, day + 1),
  };
}

/** Hour, minute and second of a moment on Uruguay's clock, to read the zone's offset. */
const ZONE_CLOCK = new Intl.DateTimeFormat('en-US', {
  timeZone: DISPLAY_TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** Milliseconds Uruguay's clock is ahead of UTC at a moment (negative: -3 h today). */
function zoneOffset(at: number): number {
  const parts = Object.fromEntries(
    ZONE_CLOCK.formatToParts(new Date(at)).map((part) => [part.type, part.value]),
  );
  const local = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return local - Math.floor(at / 1000) * 1000;
}

/**
 * The moment a day starts in Uruguay (month/day may overflow: day 32 is the
 * next month's first). Uruguay has had no daylight saving time since 2015,
 * but the offset is read from the time zone database, not assumed, so older
 * days (and any future change) come out right.
 */
function startOfDay(year: number, month: number, day: number): Date {
  const wall = Date.UTC(year, month - 1, day);
  const guess = wall - zoneOffset(wall);
  return new Date(wall - zoneOffset(guess));
}
