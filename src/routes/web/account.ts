// Pages of the member home ("Mi cuenta"): every one needs a logged-in member
// (the `requireMember` guard), except the emailed link that confirms a new
// email, which proves the address by itself.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppParts } from '../../deps.ts';
import { viewMember } from '../../flows/context.ts';
import { FlowError } from '../../flows/errors.ts';
import {
  listPasskeys,
  needsPassword,
  removePasskey,
  renamePasskey,
} from '../../flows/passkeys/service.ts';
import {
  changePassword,
  closeOtherSessions,
  closeSession,
  confirmContactByCode,
  confirmContactByLink,
  maskedContacts,
  memberSessions,
  peekContactLink,
  recentActivity,
  requestContactChange,
} from '../../flows/settings/service.ts';
import { accountPages, errors, passkeys as passkeyTexts } from '../../messages/es.ts';
import type { Authenticated } from '../../plugins/session.ts';
import { sessionCookieName, sessionCookieOptions } from '../../plugins/session.ts';
import {
  ACCOUNT_PATHS,
  accountActivityPage,
  accountContactPage,
  accountHomePage,
  accountPasswordPage,
  accountSessionsPage,
  confirmContactPage,
} from '../../views/pages/account.ts';
import {
  CREATED_PARAMETER,
  PASSKEY_PAGE_PATHS,
  type PasskeysView,
  passkeysPage,
  removePasskeyPage,
} from '../../views/pages/passkeys.ts';
import { formField, requestContext, resendForm } from '../context.ts';

const HTML = 'text/html; charset=utf-8';

export function registerAccountPages(app: FastifyInstance, deps: AppParts): void {
  const flow = deps.flow;
  const guarded = { schema: { hide: true }, preHandler: app.requireMember };
  const authOf = (request: FastifyRequest) => request.auth as Authenticated;
  const page = (reply: FastifyReply, body: string) => reply.type(HTML).send(body);

  app.get(ACCOUNT_PATHS.home, guarded, async (request, reply) => {
    const { member } = authOf(request);
    return page(
      reply,
      accountHomePage(deps.site, { member: viewMember(member), contacts: maskedContacts(member) }),
    );
  });

  // Cambiar contraseña, logged in.
  const ruleText = flow.passwordPolicy.ruleText;
  app.get(ACCOUNT_PATHS.password, guarded, async (_request, reply) =>
    page(reply, accountPasswordPage(deps.site, { ruleText })),
  );
  app.post(ACCOUNT_PATHS.password, guarded, async (request, reply) => {
    try {
      const renewed = await changePassword(
        flow,
        authOf(request),
        {
          currentPassword: formField(request.body, 'currentPassword'),
          password: formField(request.body, 'password'),
          passwordConfirmation: formField(request.body, 'passwordConfirmation'),
        },
        requestContext(request, 'web'),
      );
      // This session goes on under a new id; every other one ended.
      reply.setCookie(sessionCookieName(deps), renewed.token, sessionCookieOptions(deps));
      return page(reply, accountPasswordPage(deps.site, { ruleText, done: true }));
    } catch (error) {
      return resendForm(reply, error, (e) =>
        accountPasswordPage(deps.site, { ruleText, message: e.message, fields: e.fields }),
      );
    }
  });

  // Sesiones activas.
  const sessionsPage = async (
    request: FastifyRequest,
    reply: FastifyReply,
    notices: { message?: string; error?: string } = {},
  ) => {
    const auth = authOf(request);
    const sessions = await memberSessions(flow, auth.member.id, auth.session.public_id);
    return page(reply, accountSessionsPage(deps.site, { sessions, ...notices }));
  };
  app.get(ACCOUNT_PATHS.sessions, guarded, (request, reply) => sessionsPage(request, reply));
  app.post<{ Params: { id: string } }>(
    `${ACCOUNT_PATHS.sessions}/:id/cerrar`,
    guarded,
    async (request, reply) => {
      const auth = authOf(request);
      try {
        await closeSession(flow, auth.member.id, request.params.id, requestContext(request, 'web'));
        return sessionsPage(request, reply, { message: accountPages.sessionClosed });
      } catch (error) {
        if (!(error instanceof FlowError)) throw error;
        reply.code(404);
        return sessionsPage(request, reply, { error: error.message });
      }
    },
  );
  app.post(`${ACCOUNT_PATHS.sessions}/cerrar-otras`, guarded, async (request, reply) => {
    const auth = authOf(request);
    const count = await closeOtherSessions(
      flow,
      auth.member.id,
      auth.session.id_hash,
      requestContext(request, 'web'),
    );
    return sessionsPage(request, reply, {
      message: count === 0 ? accountPages.noOtherSessions : accountPages.othersClosed(count),
    });
  });

  // Actividad reciente.
  app.get(ACCOUNT_PATHS.activity, guarded, async (request, reply) =>
    page(
      reply,
      accountActivityPage(deps.site, {
        items: await recentActivity(flow, authOf(request).member.id),
      }),
    ),
  );

  // Datos de contacto.
  app.get(ACCOUNT_PATHS.contact, guarded, async (request, reply) =>
    page(
      reply,
      accountContactPage(deps.site, { contacts: maskedContacts(authOf(request).member) }),
    ),
  );
  app.post(ACCOUNT_PATHS.contact, guarded, async (request, reply) => {
    const auth = authOf(request);
    const kind = formField(request.body, 'kind') === 'email' ? 'email' : 'mobile';
    const value = formField(request.body, 'value');
    try {
      const sent = await requestContactChange(
        flow,
        auth,
        { kind, value, currentPassword: formField(request.body, 'currentPassword') },
        requestContext(request, 'web'),
      );
      return page(
        reply,
        accountContactPage(deps.site, {
          contacts: maskedContacts(auth.member),
          codeSent: sent.kind === 'mobile',
          message:
            sent.kind === 'mobile'
              ? accountPages.codeSentTo(sent.sentTo)
              : accountPages.linkSentTo(sent.sentTo),
        }),
      );
    } catch (error) {
      return resendForm(reply, error, (e) =>
        accountContactPage(deps.site, {
          contacts: maskedContacts(auth.member),
          form: kind,
          error: e.message,
          fields: e.fields,
          values: { [kind]: (value ?? '').slice(0, 254) },
        }),
      );
    }
  });
  app.post(`${ACCOUNT_PATHS.contact}/codigo`, guarded, async (request, reply) => {
    const auth = authOf(request);
    try {
      const contacts = await confirmContactByCode(
        flow,
        auth,
        { kind: 'mobile', code: formField(request.body, 'code') },
        requestContext(request, 'web'),
      );
      return page(
        reply,
        accountContactPage(deps.site, { contacts, message: accountPages.contactChanged }),
      );
    } catch (error) {
      return resendForm(reply, error, (e) =>
        accountContactPage(deps.site, {
          contacts: maskedContacts(auth.member),
          codeSent: true,
          form: 'code',
          error: e.message,
          fields: e.fields,
        }),
      );
    }
  });

  // Llaves de acceso: the list, rename and remove are plain forms; creating
  // one is the page's script with the JSON calls of ./passkeys.ts.
  const passkeysAvailable = deps.config.passkeys.rpId !== null;
  const passkeysView = async (
    request: FastifyRequest,
    extra: Partial<PasskeysView> = {},
  ): Promise<PasskeysView> => {
    const auth = authOf(request);
    return {
      available: passkeysAvailable,
      passkeys: await listPasskeys(flow, auth.member.id),
      needsPassword: needsPassword(flow, auth),
      ...extra,
    };
  };
  app.get(PASSKEY_PAGE_PATHS.list, guarded, async (request, reply) => {
    const view = await passkeysView(request);
    // Where the script lands after creating one: named by its id, so the
    // notice shows a name the portal stored, never one from the address.
    const created = (request.query as Record<string, unknown>)[CREATED_PARAMETER];
    const passkey = view.passkeys.find((p) => p.id === created);
    return page(
      reply,
      passkeysPage(deps.site, {
        ...view,
        ...(passkey ? { message: passkeyTexts.created(passkey.name) } : {}),
      }),
    );
  });
  app.post(PASSKEY_PAGE_PATHS.rename, guarded, async (request, reply) => {
    const id = formField(request.body, 'id');
    const name = formField(request.body, 'name');
    try {
      const renamed = await renamePasskey(
        flow,
        authOf(request),
        id,
        name,
        requestContext(request, 'web'),
      );
      return page(
        reply,
        passkeysPage(
          deps.site,
          await passkeysView(request, { message: passkeyTexts.renamed(renamed.name) }),
        ),
      );
    } catch (error) {
      if (!(error instanceof FlowError)) throw error;
      const view = await passkeysView(request, {
        error: error.message,
        ...(error.fields && id
          ? { rename: { id, value: (name ?? '').slice(0, 200), fields: error.fields } }
          : {}),
      });
      return resendForm(reply, error, () => passkeysPage(deps.site, view));
    }
  });
  // Removing asks first (a GET changes nothing), then the form's POST removes.
  app.get(PASSKEY_PAGE_PATHS.remove, guarded, async (request, reply) => {
    const id = (request.query as Record<string, unknown>).id;
    const view = await passkeysView(request);
    const passkey = view.passkeys.find((p) => p.id === id);
    if (passkey) return page(reply, removePasskeyPage(deps.site, passkey));
    return reply
      .code(404)
      .type(HTML)
      .send(passkeysPage(deps.site, { ...view, error: errors.PASSKEY_NOT_FOUND }));
  });
  app.post(PASSKEY_PAGE_PATHS.remove, guarded, async (request, reply) => {
    const auth = authOf(request);
    const id = formField(request.body, 'id');
    const before = await listPasskeys(flow, auth.member.id);
    try {
      await removePasskey(flow, auth, id, requestContext(request, 'web'));
      const name = before.find((p) => p.id === id)?.name ?? '';
      return page(
        reply,
        passkeysPage(
          deps.site,
          await passkeysView(request, { message: passkeyTexts.removed(name) }),
        ),
      );
    } catch (error) {
      if (!(error instanceof FlowError)) throw error;
      const view = await passkeysView(request, { error: error.message });
      return resendForm(reply, error, () => passkeysPage(deps.site, view));
    }
  });

  // The emailed link: opening it shows a question; only the POST changes anything,
  // so a mail scanner that follows links changes nothing.
  const contactTokenCookie = deps.config.secureCookies ? '__Host-contact' : 'contact';
  app.get(
    `${ACCOUNT_PATHS.contact}/confirmar`,
    { schema: { hide: true } },
    async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      reply.header('referrer-policy', 'no-referrer');
      if (typeof query.token === 'string') {
        reply.setCookie(contactTokenCookie, query.token.slice(0, 64), {
          ...sessionCookieOptions(deps),
          maxAge: 30 * 60,
        });
        return reply.redirect(`${ACCOUNT_PATHS.contact}/confirmar`, 303);
      }
      const pending = await peekContactLink(flow, request.cookies[contactTokenCookie]);
      if (!pending)
        return reply
          .code(400)
          .type(HTML)
          .send(confirmContactPage(deps.site, { invalid: errors.CONTACT_LINK_INVALID }));
      return page(reply, confirmContactPage(deps.site, { email: pending.email }));
    },
  );
  app.post(
    `${ACCOUNT_PATHS.contact}/confirmar`,
    { schema: { hide: true } },
    async (request, reply) => {
      reply.header('referrer-policy', 'no-referrer');
      try {
        await confirmContactByLink(
          flow,
          request.cookies[contactTokenCookie],
          requestContext(request, 'web'),
        );
        reply.clearCookie(contactTokenCookie, sessionCookieOptions(deps));
        return page(reply, confirmContactPage(deps.site, { done: true }));
      } catch (error) {
        return resendForm(reply, error, (e) =>
          confirmContactPage(deps.site, { invalid: e.message }),
        );
      }
    },
  );
}
