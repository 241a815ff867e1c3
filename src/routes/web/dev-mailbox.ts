// The dev mailbox: outside production, without SMTP_URL / SMS_WEBHOOK_URL,
// every email and SMS the portal kept instead of sending, so the whole
// journey can be walked on one machine. Never registered in production or
// with an https PUBLIC_URL (config refuses it); it shows only the channels
// without a real transport, and answers only a browser on this machine
// talking to us directly: through a proxy it does not exist (ADR 014).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppParts } from '../../deps.ts';
import { isDirectLocalClient } from '../../plugins/local-client.ts';
import { devMailboxPage } from '../../views/pages/dev-mailbox.ts';

export function registerDevMailbox(app: FastifyInstance, deps: AppParts): void {
  const channels = [...deps.config.devMailboxChannels];
  if (channels.length === 0) return;
  // Anyone but a direct local client gets the same 404 as an unknown page.
  const onlyLocal = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isDirectLocalClient(request)) return reply.callNotFound();
  };

  app.get(
    '/dev/mailbox',
    { schema: { hide: true }, onRequest: onlyLocal },
    async (_request, reply) => {
      const messages = await deps.db
        .selectFrom('dev_mailbox')
        .select(['id', 'channel', 'recipient', 'subject', 'text_body', 'created_at'])
        .where('channel', 'in', channels)
        .orderBy('id', 'desc')
        .limit(100)
        .execute();
      return reply.type('text/html; charset=utf-8').send(devMailboxPage(deps.site, messages));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/dev/mailbox/:id',
    {
      onRequest: onlyLocal,
      schema: {
        hide: true,
        params: {
          type: 'object',
          properties: { id: { type: 'string', pattern: '^[0-9]{1,18}$' } },
        },
      },
    },
    async (request, reply) => {
      const message = await deps.db
        .selectFrom('dev_mailbox')
        .select(['html_body', 'text_body'])
        .where('id', '=', request.params.id)
        .where('channel', 'in', channels)
        .executeTakeFirst();
      if (!message) return reply.callNotFound();
      // The email as a mail client would show it: its own inline styles, no scripts.
      return reply
        .type('text/html; charset=utf-8')
        .header(
          'content-security-policy',
          "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'",
        )
        .send(
          message.html_body ??
            `<pre>${message.text_body.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</pre>`,
        );
    },
  );
}
