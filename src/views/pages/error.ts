// 404 and 500 pages in the portal's look.
import { text } from '../../messages/es.ts';
import type { PageSite } from '../../site/site.ts';
import { html } from '../html.ts';
import { renderPage } from '../layout.ts';

/** `formPage`: a refused form post links back to its form rather than to the login. */
export function errorPage(
  site: PageSite,
  kind: 'not-found' | 'error',
  detail?: string,
  formPage?: string,
): string {
  const title =
    kind === 'not-found'
      ? text.notFoundTitle
      : formPage
        ? text.formRefusedTitle
        : text.serverErrorTitle;
  const body =
    detail ?? (kind === 'not-found' ? text.notFoundBody : text.serverErrorBody(site.brand));
  return renderPage(site, {
    title,
    body: html`<h1>${title}</h1>
<p>${body}</p>
<p>${
      formPage
        ? html`<a class="button button-primary" href="${formPage}">${text.openFormAgain}</a>`
        : html`<a class="button button-primary" href="/">${text.goToLogin}</a>`
    }</p>`,
  });
}
