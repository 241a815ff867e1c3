// The branch desk's member routes (issue 13), for every staff role: find a
// member, record the identity check, and the actions it opens. Every step is
// audited as the employee's `staff_action` (who, role, member, identity
// check, action, time, address); the member reads them in their activity.
//
//   POST /mesa/socios (q)                 search → 303 to the card
//   GET  /mesa/socios/:id                 the card (and the identity check, or the actions)
//   POST /mesa/socios/:id/identidad       record how identity was checked (opens a visit)
//   POST /mesa/socios/:id/enviar          link by email or code by SMS     ┐
//   POST /mesa/socios/:id/codigo          the printable activation code    │ need a visit
//   POST /mesa/socios/:id/desbloquear     end the login's pause            │ (VISIT_MINUTES)
//   POST /mesa/socios/:id/contacto        change email or mobile           │
//   POST /mesa/socios/:id/llaves          remove every passkey (lost phone)│
//   GET  /mesa/socios/:id/historial       the member's audit timeline      ┘
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type AuditEvent, recordAudit } from '../../audit/record.ts';
import type { Member, StaffUser } from '../../db/schema.ts';
import type { AppParts } from '../../deps.ts';
import { waitInWords } from '../../flows/errors.ts';
import { removeAllPasskeys } from '../../flows/passkeys/service.ts';
import { issueActivationCode } from '../../flows/recovery/activation.ts';
import { maskedHolder, sendPasswordMessageFor } from '../../flows/recovery/service.ts';
import { desk } from '../../messages/es.ts';
import {
  changeContactAtDesk,
  DeskError,
  findMemberForDesk,
  liveVisit,
  memberById,
  memberCard,
  memberTimeline,
  openVisit,
  readDeskContactChange,
  readIdentityCheck,
  readMemberQuery,
  type StaffVisit,
  spendDeskBudget,
  unlockMember,
} from '../../staff/desk-members.ts';
import { DESK_PATHS, deskMessagePage } from '../../views/pages/desk.ts';
import {
  type DeskForm,
  deskActivationSlipPage,
  deskMemberPage,
  deskSearchPage,
  deskTimelinePage,
} from '../../views/pages/desk-members.ts';
import { RECOVERY_PATHS } from '../../views/pages/recovery.ts';
import { formField } from '../context.ts';
import { staffOf, staffRolesFrom } from './desk.ts';

const HTML = 'text/html; charset=utf-8';
const TIMELINE_LIMIT = 100;

/** What an action did, carried by the redirect to the card (?hecho=…) and shown there. */
const NOTICES: Record<string, () => string> = {
  'email-enviado': () => desk.sentEmail,
  'sms-enviado': () => desk.sentSms(`${RECOVERY_PATHS.recovery}/codigo`),
  desbloqueado: () => desk.unlocked,
  'sin-pausa': () => desk.nothingToUnlock,
  'email-cambiado': () => desk.contactChanged(desk.contactKinds.email.toLowerCase()),
  'celular-cambiado': () => desk.contactChanged(desk.contactKinds.mobile.toLowerCase()),
};

export function registerDeskMemberPages(pages: FastifyInstance, deps: AppParts): void {
  const { db, clock, site } = deps;
  const flow = deps.flow;
  const guard = {
    schema: { hide: true },
    preHandler: pages.requireRole(...staffRolesFrom('desk')),
  };
  const page = (reply: FastifyReply, body: string, status = 200) =>
    reply.code(status).type(HTML).send(body);

  /** One staff_action about a member, with the visit it belongs to. */
  const audit = (
    request: FastifyRequest,
    staff: StaffUser,
    event: {
      member: Pick<Member, 'id'>;
      action: string;
      visit?: StaffVisit | null;
      outcome?: AuditEvent['outcome'];
      detail?: Record<string, unknown>;
    },
  ) => {
    const agent = request.headers['user-agent'];
    return recordAudit(db, clock, {
      type: 'staff_action',
      outcome: event.outcome ?? 'ok',
      actor: { kind: 'staff', id: String(staff.id) },
      memberId: event.member.id,
      channel: 'desk',
      ip: request.ip ?? null,
      userAgent: typeof agent === 'string' ? agent : null,
      detail: {
        action: event.action,
        role: staff.role,
        ...(event.visit
          ? { visit_id: event.visit.id, document_kind: event.visit.document_kind }
          : {}),
        ...event.detail,
      },
    });
  };

  /** The card page, with what the last step said. */
  const cardPage = async (
    reply: FastifyReply,
    staff: StaffUser,
    member: Member,
    extra: { notice?: string; problem?: Parameters<typeof deskMemberPage>[1]['problem'] } = {},
    status = 200,
  ) => {
    const [card, visit] = await Promise.all([
      memberCard(flow, member),
      liveVisit(flow, staff.id, member.id),
    ]);
    return page(reply, deskMemberPage(site, { card, visit, ...extra }), status);
  };

  /** The DeskError pages: a limit (429, Retry-After), else a short answer. */
  const deskErrorPage = (reply: FastifyReply, error: DeskError) => {
    if (error.code === 'DESK_LIMIT') {
      const seconds = error.retryAfterSeconds ?? 60;
      reply.header('retry-after', String(seconds));
      return page(
        reply,
        deskMessagePage(site, {
          title: desk.searchTitle,
          message: `${error.message} ${waitInWords(seconds)}`,
        }),
        429,
      );
    }
    return page(
      reply,
      deskMessagePage(site, { title: desk.searchTitle, message: error.message }),
      error.code === 'MEMBER_NOT_FOUND' ? 404 : 400,
    );
  };

  /** The member of the path's :id; a DeskError for a malformed or unknown one. */
  const memberOf = (request: FastifyRequest): Promise<Member> => {
    const id = (request.params as { id?: string }).id ?? '';
    if (!/^\d{1,9}$/.test(id)) throw new DeskError('MEMBER_NOT_FOUND', desk.memberNotFound);
    return memberById(db, Number(id));
  };

  /**
   * A member action's common part: the member, the employee's live visit
   * (else the card asks for the identity check, 409), and for `needsActive`
   * an active member (else 409).
   */
  async function withVisit(
    request: FastifyRequest,
    reply: FastifyReply,
    needsActive: boolean,
    act: (member: Member, visit: StaffVisit, staff: StaffUser) => Promise<FastifyReply>,
  ): Promise<FastifyReply> {
    const { staff } = staffOf(request);
    try {
      const member = await memberOf(request);
      const visit = await liveVisit(flow, staff.id, member.id);
      if (!visit)
        return cardPage(
          reply,
          staff,
          member,
          { problem: { form: 'identity', message: desk.visitRequired, fields: {}, values: {} } },
          409,
        );
      if (needsActive && member.status !== 'active')
        return cardPage(reply, staff, member, { notice: desk.memberInactive }, 409);
      return await act(member, visit, staff);
    } catch (error) {
      if (error instanceof DeskError) return deskErrorPage(reply, error);
      throw error;
    }
  }

  /** A form of the card sent back with its problems, and what was typed in it. */
  const formProblem = async (
    reply: FastifyReply,
    staff: StaffUser,
    member: Member,
    form: DeskForm,
    error: DeskError,
    values: Record<string, string>,
  ) =>
    cardPage(
      reply,
      staff,
      member,
      { problem: { form, message: error.message, fields: error.fields, values } },
      400,
    );

  const backToCard = (reply: FastifyReply, member: Member, notice: keyof typeof NOTICES) =>
    reply.redirect(`${DESK_PATHS.member(member.id)}?hecho=${notice}`, 303);

  // --- Search and card ------------------------------------------------------
  // A post, not a query string: documents stay out of the browser's history
  // and of every address bar on a shared branch computer.
  pages.get(DESK_PATHS.search, guard, async (_request, reply) =>
    reply.redirect(DESK_PATHS.home, 303),
  );
  pages.post(DESK_PATHS.search, guard, async (request, reply) => {
    const { staff } = staffOf(request);
    const query = (formField(request.body, 'q') ?? '').slice(0, 64);
    try {
      const identifier = readMemberQuery(query);
      const member = await findMemberForDesk(db, identifier).catch(async (error) => {
        // A miss spends the lookups too: trying documents one by one is a search of the registry.
        if (error instanceof DeskError) await spendDeskBudget(flow, staff.id, 'lookups');
        throw error;
      });
      return reply.redirect(DESK_PATHS.member(member.id), 303);
    } catch (error) {
      if (!(error instanceof DeskError)) throw error;
      if (error.code === 'DESK_LIMIT') return deskErrorPage(reply, error);
      return page(
        reply,
        deskSearchPage(site, { query, error: error.message }),
        error.code === 'MEMBER_NOT_FOUND' ? 404 : 400,
      );
    }
  });

  pages.get(`${DESK_PATHS.search}/:id`, guard, async (request, reply) => {
    const { staff } = staffOf(request);
    try {
      const member = await memberOf(request);
      const visit = await liveVisit(flow, staff.id, member.id);
      // Opening a card is audited and counted; within a visit, each action is
      // audited instead, and coming back to the card after one is not a new look.
      if (!visit) {
        await spendDeskBudget(flow, staff.id, 'lookups');
        await audit(request, staff, { member, action: 'member_viewed' });
      }
      const done = (request.query as Record<string, unknown>).hecho;
      const notice = typeof done === 'string' ? NOTICES[done]?.() : undefined;
      return cardPage(reply, staff, member, notice ? { notice } : {});
    } catch (error) {
      if (error instanceof DeskError) return deskErrorPage(reply, error);
      throw error;
    }
  });

  // --- The identity check ---------------------------------------------------
  pages.post(`${DESK_PATHS.search}/:id/identidad`, guard, async (request, reply) => {
    const { staff } = staffOf(request);
    const values = {
      documentKind: formField(request.body, 'documentKind') ?? '',
      note: (formField(request.body, 'note') ?? '').slice(0, 400),
    };
    try {
      const member = await memberOf(request);
      let check: ReturnType<typeof readIdentityCheck>;
      try {
        check = readIdentityCheck(values);
      } catch (error) {
        if (error instanceof DeskError && error.code === 'VALIDATION_FAILED')
          return formProblem(reply, staff, member, 'identity', error, values);
        throw error;
      }
      const visit = await openVisit(flow, staff.id, member.id, check);
      await audit(request, staff, { member, action: 'identity_checked', visit });
      return reply.redirect(DESK_PATHS.member(member.id), 303);
    } catch (error) {
      if (error instanceof DeskError) return deskErrorPage(reply, error);
      throw error;
    }
  });

  // --- Actions ---------------------------------------------------------------
  pages.post(`${DESK_PATHS.search}/:id/enviar`, guard, (request, reply) =>
    withVisit(request, reply, true, async (member, visit, staff) => {
      const channel = formField(request.body, 'channel');
      if (channel !== 'email' && channel !== 'sms')
        return formProblem(
          reply,
          staff,
          member,
          'send',
          new DeskError('VALIDATION_FAILED', desk.channelRequired, {
            channel: desk.channelRequired,
          }),
          {},
        );
      if (!(channel === 'email' ? member.email : member.mobile))
        return formProblem(
          reply,
          staff,
          member,
          'send',
          new DeskError('VALIDATION_FAILED', desk.channelUnavailable, {
            channel: desk.channelUnavailable,
          }),
          {},
        );
      await spendDeskBudget(flow, staff.id, 'sends');
      const { refusal, flow: purpose } = await sendPasswordMessageFor(flow, member.id, channel);
      await audit(request, staff, {
        member,
        action: 'activation_sent',
        visit,
        outcome: refusal ? 'ignored' : 'ok',
        detail: { via: channel, flow: purpose, ...(refusal ? { reason: refusal } : {}) },
      });
      if (refusal)
        return cardPage(
          reply,
          staff,
          member,
          { notice: desk.notSent[refusal] ?? desk.notSent.unknown },
          refusal === 'sms_budget' ? 503 : 429,
        );
      return backToCard(reply, member, channel === 'email' ? 'email-enviado' : 'sms-enviado');
    }),
  );

  pages.post(`${DESK_PATHS.search}/:id/codigo`, guard, (request, reply) =>
    withVisit(request, reply, true, async (member, visit, staff) => {
      await spendDeskBudget(flow, staff.id, 'sends');
      const { code, expiresAt } = await db
        .transaction()
        .execute((trx) => issueActivationCode(trx, flow, member.id));
      await audit(request, staff, { member, action: 'activation_code_printed', visit });
      return page(
        reply.header('referrer-policy', 'no-referrer'),
        deskActivationSlipPage(site, {
          holder: maskedHolder(member.first_name, member.last_name, member.document),
          code,
          expiresAt,
          memberId: member.id,
          publicUrl: deps.config.publicUrl,
        }),
      );
    }),
  );

  pages.post(`${DESK_PATHS.search}/:id/desbloquear`, guard, (request, reply) =>
    withVisit(request, reply, false, async (member, visit, staff) => {
      const unlocked = await unlockMember(flow, member);
      await audit(request, staff, {
        member,
        action: 'member_unlocked',
        visit,
        outcome: unlocked ? 'ok' : 'ignored',
      });
      return backToCard(reply, member, unlocked ? 'desbloqueado' : 'sin-pausa');
    }),
  );

  pages.post(`${DESK_PATHS.search}/:id/contacto`, guard, (request, reply) =>
    withVisit(request, reply, false, async (member, visit, staff) => {
      const values = {
        kind: formField(request.body, 'kind') ?? '',
        value: (formField(request.body, 'value') ?? '').slice(0, 400),
        reason: (formField(request.body, 'reason') ?? '').slice(0, 400),
      };
      let change: ReturnType<typeof readDeskContactChange>;
      try {
        change = readDeskContactChange(member, values);
      } catch (error) {
        if (error instanceof DeskError && error.code === 'VALIDATION_FAILED')
          return formProblem(reply, staff, member, 'contact', error, values);
        throw error;
      }
      const { notified } = await changeContactAtDesk(flow, member.id, change);
      await audit(request, staff, {
        member,
        action: 'contact_updated',
        visit,
        detail: { kind: change.kind, reason: change.reason, notified },
      });
      return backToCard(
        reply,
        member,
        change.kind === 'email' ? 'email-cambiado' : 'celular-cambiado',
      );
    }),
  );

  pages.post(`${DESK_PATHS.search}/:id/llaves`, guard, (request, reply) =>
    withVisit(request, reply, false, async (member, visit, staff) => {
      const count = await removeAllPasskeys(db, member.id);
      await audit(request, staff, {
        member,
        action: 'passkeys_removed',
        visit,
        outcome: count > 0 ? 'ok' : 'ignored',
        detail: { count },
      });
      return cardPage(reply, staff, member, { notice: desk.passkeysRemoved(count) });
    }),
  );

  pages.get(`${DESK_PATHS.search}/:id/historial`, guard, (request, reply) =>
    withVisit(request, reply, false, async (member, visit, staff) => {
      const events = await memberTimeline(db, member.id, TIMELINE_LIMIT);
      await audit(request, staff, { member, action: 'timeline_viewed', visit });
      return page(
        reply,
        deskTimelinePage(site, {
          memberId: member.id,
          name: `${member.first_name} ${member.last_name}`.trim(),
          events,
          limit: TIMELINE_LIMIT,
        }),
      );
    }),
  );
}
