// The member's home after login (its full version grows in later work).
import type { MemberView } from '../../flows/context.ts';
import { text } from '../../messages/es.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';

export function homePage(member: MemberView): string {
  return renderPage({
    title: text.homeTitle,
    width: 'wide',
    body: html`<h1>${text.greeting(member.firstName)}</h1>
<dl class="facts">
  <div><dt>${text.memberNumber}</dt><dd>${member.memberNumber}</dd></div>
  <div><dt>${text.document}</dt><dd>${member.document}</dd></div>
</dl>
<form method="post" action="/salir">
  <button type="submit" class="button button-secondary">${text.logOut}</button>
</form>`,
  });
}
