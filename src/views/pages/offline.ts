// The offline page: what an installed portal shows when the network is gone
// (public/sw.js). A file like the stylesheet (src/site/site.ts), with no
// member data and no form: where the member is, what to do, whom to call.
import { manual, text } from '../../messages/es.ts';
import type { PageSite } from '../../site/site.ts';
import { html, keepTogether } from '../html.ts';
import { renderPage } from '../layout.ts';

export function offlinePage(site: PageSite): string {
  const { brand } = site;
  return renderPage(site, {
    title: text.offlineTitle,
    body: html`<h1>${text.offlineTitle}</h1>
<p class="lead">${text.offlineBody}</p>
<p>${text.offlineHelp(html`<a href="tel:${brand.callCenterTel}">${manual.callCenter(keepTogether(brand.callCenter))}</a>`)}</p>
<p><a class="button button-primary" href="/">${text.offlineRetry}</a></p>`,
  });
}
