// The pages: the portal in HTML, as one encapsulated Fastify context with
// hooks of its own. Everything registered here, and only that, gets:
//   - CSRF protection: a token in every `<form method="post">` answered, and
//     every form post checked for its origin and token (src/plugins/csrf.ts);
//   - the error page for errors, and the Spanish not-found page for every
//     address no other area has (a cross-site post to an unknown address is
//     refused like any form post);
//   - the guards pages declare: `loadMember` (the session if there is one)
//     and `requireMember` (a logged-in member, or back to the login).
// The API (src/routes/api.ts), the assets and the probes live beside it and
// get none of this.
import type { FastifyPluginAsync } from 'fastify';
import type { AppParts } from '../deps.ts';
import { registerCsrf } from '../plugins/csrf.ts';
import { useHtmlErrors } from '../plugins/errors.ts';
import { registerPageGuards } from '../plugins/session.ts';
import { registerAccountPages } from './web/account.ts';
import { registerDeskPages } from './web/desk.ts';
import { registerDeskMemberPages } from './web/desk-members.ts';
import { registerDeskStaffPages } from './web/desk-staff.ts';
import { registerDevMailbox } from './web/dev-mailbox.ts';
import { registerLoginPages } from './web/login.ts';
import { registerPasskeyCalls } from './web/passkeys.ts';
import { registerRecoveryPages } from './web/recovery.ts';

/** Register with `{ prefix: '', deps }`: the pages answer at the site's root. */
export const pagesPlugin: FastifyPluginAsync<{ deps: AppParts }> = async (pages, { deps }) => {
  await registerCsrf(pages, deps);
  useHtmlErrors(pages);
  registerPageGuards(pages, deps);

  registerLoginPages(pages, deps);
  registerAccountPages(pages, deps);
  registerPasskeyCalls(pages, deps);
  registerRecoveryPages(pages, deps);
  registerDeskPages(pages, deps);
  registerDeskMemberPages(pages, deps);
  registerDeskStaffPages(pages, deps);
  if (deps.config.devMailbox && deps.config.env !== 'production') registerDevMailbox(pages, deps);
};
