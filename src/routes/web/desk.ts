// The branch desk's sign-in (issue 13, ADR 023), all under /mesa: the
// enrolment link's page, the login with a second factor, the desk's home and
// logout; and the guards later desk routes declare: `requireStaff` (a live
// staff session, else the desk's login) and `requireRole(...)` (403).
//
// The staff session lives in a cookie of its own, never the member's:
// `desk` (`__Secure-desk` on https; `__Host-` would force Path=/), on
// Path=/mesa only, so the member pages never receive it, and SameSite=Strict,
// so no other site can make a browser use it, not even through a link. The
// member cookie is never read here: a member session opens nothing under /mesa.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AuditEvent, recordAudit } from '../../audit/record.ts';
import { keyedHash } from '../../auth/secrets.ts';
import type { StaffUser } from '../../db/schema.ts';
import type { AppParts } from '../../deps.ts';
import { waitInWords } from '../../flows/errors.ts';
import { desk } from '../../messages/es.ts';
import {
  checkStaffPassword,
  completeEnrolment,
  openEnrolment,
  StaffError,
  type StaffRole,
  verifyStaffLogin,
} from '../../staff/accounts.ts';
import { keyForManualEntry, qrSvg, totpUri, verifyTotp } from '../../staff/second-factor.ts';
import {
  createStaffSession,
  deleteStaffSession,
  STAFF_SESSION_IDLE_MINUTES,
  STAFF_SESSION_MAX_HOURS,
  type StaffSession,
  validateStaffSession,
} from '../../staff/sessions.ts';
import {
  DESK_PATHS,
  deskEnrolmentPage,
  deskHomePage,
  deskLoginPage,
  deskMessagePage,
  deskPasswordMessage,
} from '../../views/pages/desk.ts';
import type { FieldMessages } from '../../views/partials.ts';
import { formField } from '../context.ts';

const HTML = 'text/html; charset=utf-8';

/**
 * How long the enrolment link's token waits in its cookie once moved out of
 * the address bar: time to fill the form. The link itself lasts 24 hours
 * and works again (it is used only by the post that succeeds).
 */
const ENROLMENT_COOKIE_MINUTES = 30;

/** A staff user a guard let through, with their session and its token. */
export interface StaffAuthenticated {
  token: string;
  session: StaffSession;
  staff: StaffUser;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The desk's staff user, set by requireStaff / requireRole; null otherwise. */
    staff: StaffAuthenticated | null;
  }
  interface FastifyInstance {
    /** Desk pages: a live staff session in request.staff, or 303 to the desk's login. */
    requireStaff(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined>;
    /**
     * Desk pages: a staff user of one of `roles` (listed explicitly; see
     * staffRolesFrom), else the 403 page; without a staff session, as requireStaff.
     */
    requireRole(
      ...roles: StaffRole[]
    ): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
  }
}

/** The roles in rank order: each can do what the ones before it can. */
const RANKED_ROLES: readonly StaffRole[] = ['desk', 'supervisor', 'admin'];

/** A role and every role above it: requireRole(...staffRolesFrom('supervisor')). */
export function staffRolesFrom(lowest: StaffRole): StaffRole[] {
  return RANKED_ROLES.slice(RANKED_ROLES.indexOf(lowest));
}

export function deskCookieName(deps: Pick<AppParts, 'config'>): string {
  return deps.config.secureCookies ? '__Secure-desk' : 'desk';
}

export function deskCookieOptions(deps: Pick<AppParts, 'config'>) {
  return {
    path: DESK_PATHS.home,
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: deps.config.secureCookies,
  };
}

/** The staff user of a guarded route; only routes that declare a desk guard may ask. */
export function staffOf(request: FastifyRequest): StaffAuthenticated {
  if (!request.staff) throw new Error(`${request.routeOptions.url} declares no staff guard`);
  return request.staff;
}

export function registerDeskPages(pages: FastifyInstance, deps: AppParts): void {
  const { db, clock, secret, site } = deps;
  const cookieName = deskCookieName(deps);
  const cookieOptions = deskCookieOptions(deps);
  const page = (reply: FastifyReply, body: string, status = 200) =>
    reply.code(status).type(HTML).send(body);
  const context = (request: FastifyRequest) => {
    const agent = request.headers['user-agent'];
    return { ip: request.ip ?? null, userAgent: typeof agent === 'string' ? agent : null };
  };
  // Every event of the desk: its channel, and the address and browser it came from.
  const audit = (request: FastifyRequest, event: AuditEvent) =>
    recordAudit(db, clock, { ...event, channel: 'desk', ...context(request) });
  const staffActor = (staff: StaffUser) => ({ kind: 'staff' as const, id: String(staff.id) });

  // --- Guards ---------------------------------------------------------------
  pages.decorateRequest('staff', null);

  /** The staff session of the desk cookie into request.staff; null when absent or over. */
  async function loadStaff(request: FastifyRequest): Promise<StaffAuthenticated | null> {
    const token = request.cookies[cookieName];
    const found = token ? await validateStaffSession(db, clock, token) : null;
    request.staff = token && found ? { token, ...found } : null;
    return request.staff;
  }

  async function requireStaff(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    if (await loadStaff(request)) return;
    // A cookie that no longer opens a session: gone, and the login says why.
    const hadCookie = Boolean(request.cookies[cookieName]);
    if (hadCookie) reply.clearCookie(cookieName, cookieOptions);
    return reply.redirect(hadCookie ? `${DESK_PATHS.login}?vencida` : DESK_PATHS.login, 303);
  }

  function requireRole(...roles: StaffRole[]) {
    return async (
      request: FastifyRequest,
      reply: FastifyReply,
    ): Promise<FastifyReply | undefined> => {
      if (!request.staff) {
        const answered = await requireStaff(request, reply);
        if (!request.staff) return answered;
      }
      if (roles.includes(request.staff.staff.role)) return;
      return page(
        reply,
        deskMessagePage(site, { title: desk.forbiddenTitle, message: desk.forbidden }),
        403,
      );
    };
  }

  pages.decorate('requireStaff', requireStaff);
  pages.decorate('requireRole', requireRole);
  const anyStaff = { schema: { hide: true }, preHandler: requireStaff };

  // --- Enrolment: the one-time link of `npm run staff:create` ----------------
  const enrolCookie = deps.config.secureCookies ? '__Secure-desk-enrol' : 'desk-enrol';
  // Lax, not Strict: the link is opened from an email or a chat, another
  // site, and the redirect that follows still counts as that navigation.
  const enrolCookieOptions = {
    path: DESK_PATHS.enrolment,
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: deps.config.secureCookies,
  };
  const serviceWords = deps.config.passwordServiceWords;

  /** The form with the QR code of the key the link offers (the same on every opening). */
  const enrolmentForm = async (
    staff: StaffUser,
    key: Uint8Array,
    problems: { message?: string; fields?: FieldMessages } = {},
  ) =>
    deskEnrolmentPage(site, {
      state: 'form',
      name: staff.name,
      email: staff.email,
      qrSvg: await qrSvg(totpUri(key, site.brand.name, staff.email), desk.qrLabel(staff.email)),
      manualKey: keyForManualEntry(key),
      ...problems,
    });
  // The enrolment pages never tell another site where they were.
  const enrolPage = (reply: FastifyReply, body: string, status = 200) =>
    page(reply.header('referrer-policy', 'no-referrer'), body, status);
  const invalidLink = (reply: FastifyReply) => {
    reply.clearCookie(enrolCookie, enrolCookieOptions);
    return enrolPage(reply, deskEnrolmentPage(site, { state: 'invalid' }), 400);
  };

  pages.get(DESK_PATHS.enrolment, { schema: { hide: true } }, async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    if (typeof query.token === 'string') {
      // The link's token moves into a short-lived cookie and out of the
      // address bar (history, screenshots, Referer), as the member's links do.
      reply.header('referrer-policy', 'no-referrer');
      reply.setCookie(enrolCookie, query.token.slice(0, 100), {
        ...enrolCookieOptions,
        maxAge: ENROLMENT_COOKIE_MINUTES * 60,
      });
      return reply.redirect(DESK_PATHS.enrolment, 303);
    }
    try {
      const { staff, key } = await openEnrolment(db, clock, secret, request.cookies[enrolCookie]);
      return enrolPage(reply, await enrolmentForm(staff, key));
    } catch (error) {
      if (error instanceof StaffError && error.code === 'ENROLMENT_INVALID')
        return invalidLink(reply);
      throw error;
    }
  });

  pages.post(DESK_PATHS.enrolment, { schema: { hide: true } }, async (request, reply) => {
    const token = request.cookies[enrolCookie];
    const password = formField(request.body, 'password') ?? '';
    const confirmation = formField(request.body, 'passwordConfirmation') ?? '';
    const code = (formField(request.body, 'code') ?? '').replace(/\s+/g, '');
    let opened: Awaited<ReturnType<typeof openEnrolment>>;
    try {
      opened = await openEnrolment(db, clock, secret, token);
    } catch (error) {
      if (error instanceof StaffError && error.code === 'ENROLMENT_INVALID')
        return invalidLink(reply);
      throw error;
    }
    const { staff, key } = opened;

    // Every problem of the form at once: the password's and the code's.
    const fields: FieldMessages = {};
    for (const [field, message] of Object.entries(
      checkStaffPassword(password, confirmation, staff, serviceWords),
    ))
      fields[field] = deskPasswordMessage(message);
    if (code === '') fields.code = desk.appCodeRequired;
    else if (!/^\d{6}$/.test(code)) fields.code = desk.appCodeFormat;
    else if (Object.keys(fields).length > 0 && verifyTotp(key, code, clock.now(), null) === null)
      fields.code = desk.appCodeWrong;
    if (Object.keys(fields).length > 0)
      return enrolPage(reply, await enrolmentForm(staff, key, { fields }), 400);

    try {
      const done = await completeEnrolment(db, clock, secret, deps.hasher, {
        token,
        password,
        confirmation,
        code,
        serviceWords,
      });
      reply.clearCookie(enrolCookie, enrolCookieOptions);
      await audit(request, {
        type: 'staff_action',
        outcome: 'ok',
        actor: staffActor(done.staff),
        detail: { action: 'staff_enrolled', staff_id: done.staff.id, role: done.staff.role },
      });
      return enrolPage(
        reply,
        deskEnrolmentPage(site, {
          state: 'done',
          name: done.staff.name,
          recoveryCodes: done.recoveryCodes,
        }),
      );
    } catch (error) {
      if (!(error instanceof StaffError)) throw error;
      if (error.code === 'ENROLMENT_INVALID') return invalidLink(reply);
      if (error.code === 'TOTP_INVALID')
        return enrolPage(
          reply,
          await enrolmentForm(staff, key, { fields: { code: desk.appCodeWrong } }),
          400,
        );
      // STAFF_PASSWORD_REJECTED was ruled out above with the same check.
      throw error;
    }
  });

  // --- Login and logout ------------------------------------------------------
  pages.get(DESK_PATHS.login, { schema: { hide: true } }, async (request, reply) => {
    if (request.cookies[cookieName] && (await loadStaff(request)))
      return reply.redirect(DESK_PATHS.home, 303);
    const query = request.query as Record<string, unknown>;
    const notice =
      query.salio !== undefined
        ? desk.loggedOut
        : query.vencida !== undefined
          ? desk.sessionExpired
          : undefined;
    return page(reply, deskLoginPage(site, notice ? { notice } : {}));
  });

  pages.post(DESK_PATHS.login, { schema: { hide: true } }, async (request, reply) => {
    const email = formField(request.body, 'email') ?? '';
    const password = formField(request.body, 'password') ?? '';
    const code = formField(request.body, 'code') ?? '';
    // The email typed is shown again in the form, never anything else typed.
    const shownEmail = email.trim().slice(0, 254);
    const missing: FieldMessages = {};
    if (email.trim() === '') missing.email = desk.emailRequired;
    if (password === '') missing.password = desk.passwordRequired;
    if (code.trim() === '') missing.code = desk.codeRequired;
    if (Object.keys(missing).length > 0)
      return page(reply, deskLoginPage(site, { email: shownEmail, fields: missing }), 400);

    try {
      const { staff, factor } = await verifyStaffLogin(db, clock, secret, deps.hasher, {
        email,
        password,
        code,
        ip: request.ip ?? null,
      });
      // Logging in over a live session replaces it rather than leaving it behind.
      const previous = request.cookies[cookieName];
      if (previous) await deleteStaffSession(db, previous);
      const { token } = await createStaffSession(db, clock, staff.id, context(request));
      await audit(request, {
        type: 'staff_action',
        outcome: 'ok',
        actor: staffActor(staff),
        detail: { action: 'staff_login', factor, role: staff.role },
      });
      reply.setCookie(cookieName, token, cookieOptions);
      return reply.redirect(DESK_PATHS.home, 303);
    } catch (error) {
      if (!(error instanceof StaffError)) throw error;
      const throttled = error.code === 'STAFF_LOGIN_THROTTLED';
      // Who was tried is kept as a keyed hash (to see one account targeted), never the email.
      await audit(request, {
        type: 'staff_action',
        outcome: throttled ? 'refused' : 'failed',
        actor: { kind: 'anonymous', id: null },
        detail: {
          action: 'staff_login',
          ...(throttled ? { reason: 'throttled' } : {}),
          email_hash: keyedHash(secret, 'staff-login-email', email.trim().toLowerCase()),
        },
      });
      if (throttled) {
        const seconds = error.retryAfterSeconds ?? 60;
        reply.header('retry-after', String(seconds));
        return page(
          reply,
          deskLoginPage(site, {
            email: shownEmail,
            message: `${desk.loginThrottled} ${waitInWords(seconds)}`,
          }),
          429,
        );
      }
      return page(
        reply,
        deskLoginPage(site, { email: shownEmail, message: desk.loginFailed }),
        401,
      );
    }
  });

  // Logging out works with or without a live session: it ends the one there is.
  pages.post(DESK_PATHS.logout, { schema: { hide: true } }, async (request, reply) => {
    const auth = await loadStaff(request);
    if (auth) {
      await deleteStaffSession(db, auth.token);
      await audit(request, {
        type: 'staff_action',
        outcome: 'ok',
        actor: staffActor(auth.staff),
        detail: { action: 'staff_logout' },
      });
    }
    reply.clearCookie(cookieName, cookieOptions);
    return reply.redirect(`${DESK_PATHS.login}?salio`, 303);
  });

  // --- The desk's home ------------------------------------------------------
  pages.get(DESK_PATHS.home, anyStaff, async (request, reply) => {
    const { staff } = staffOf(request);
    return page(
      reply,
      deskHomePage(site, {
        name: staff.name,
        role: staff.role,
        idleMinutes: STAFF_SESSION_IDLE_MINUTES,
        maxHours: STAFF_SESSION_MAX_HOURS,
      }),
    );
  });
}
