// The page shell shared by every screen: language, viewport, styles, the
// brand bar, a skip link, the main landmark and the CALL CENTER footer.
import { manual, text } from '../messages/es.ts';
import { type Html, html } from './html.ts';

export interface PageOptions {
  title: string;
  body: Html;
  /** Extra scripts (CAPTCHA widgets); ours always load. */
  scripts?: { src: string; module: boolean }[];
  /** Extra stylesheets of our origin (the CAPTCHA widget's). */
  styles?: string[];
  /** Narrow card (forms) or wide (home). */
  width?: 'narrow' | 'wide';
}

export function renderPage(options: PageOptions): string {
  const scripts = [...(options.scripts ?? []), { src: '/assets/app.js', module: true }];
  return html`<!doctype html>
<html lang="es-UY">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${text.portalName}</title>
<link rel="stylesheet" href="/assets/app.css">
${(options.styles ?? []).map((href) => html`<link rel="stylesheet" href="${href}">\n`)}
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
${scripts.map((s) =>
  s.module
    ? html`<script type="module" src="${s.src}"></script>`
    : html`<script src="${s.src}" async defer></script>`,
)}
</head>
<body>
<a class="skip-link" href="#contenido">${text.skipToContent}</a>
<header class="brand-bar">
  <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">+</span><span class="brand-text"><span class="brand-name">${text.brand}</span> <span class="brand-sub">${text.portalName}</span></span></a>
</header>
<main id="contenido" class="card card-${options.width ?? 'narrow'}" tabindex="-1">
${options.body}
</main>
<footer class="site-footer">
  <a class="call-center" href="tel:144"><span aria-hidden="true">☎</span> ${manual.callCenter}</a>
</footer>
</body>
</html>`.value;
}
