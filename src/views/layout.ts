// The page shell shared by every screen: language, viewport, styles, the
// brand bar, a skip link, the main landmark and the CALL CENTER footer. The
// brand (name, logo, colour, call centre) and the files' hashed addresses
// come from the site (src/site/site.ts).
import type { Captcha } from '../captcha/port.ts';
import { manual, text } from '../messages/es.ts';
import type { PageSite } from '../site/site.ts';
import { type Html, html, keepTogether } from './html.ts';

export interface PageOptions {
  title: string;
  body: Html;
  /** The form's CAPTCHA: its files load only on pages that show one. */
  captcha?: Captcha;
  /** The page uses passkeys (login, «Llaves de acceso»): their script loads only there. */
  passkeys?: boolean;
  /** Narrow card (forms) or wide (home). */
  width?: 'narrow' | 'wide';
  /** Another area of the site (the branch desk): its name beside the brand, and its home. */
  area?: { name: string; home: string };
}

export function renderPage(site: PageSite, options: PageOptions): string {
  const { brand, links } = site;
  const captcha = options.captcha;
  const hosted = captcha && !captcha.widget.selfHosted ? captcha.widget.scripts : [];
  return html`<!doctype html>
<html lang="es-UY">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · ${brand.name}</title>
<meta name="theme-color" content="${brand.primaryColor}">
<link rel="stylesheet" href="${links.css}">
${captcha?.widget.selfHosted ? html`<link rel="stylesheet" href="${links.captchaCss}">\n` : ''}<link rel="icon" href="${links.favicon.href}" type="${links.favicon.type}">
<link rel="apple-touch-icon" href="${links.appleTouchIcon}">
<link rel="manifest" href="${links.manifest}">
${captcha?.widget.selfHosted ? html`<script type="module" src="${links.captchaScript}"></script>\n` : ''}${hosted.map(
  (s) =>
    s.module
      ? html`<script type="module" src="${s.src}"></script>\n`
      : html`<script src="${s.src}" async defer></script>\n`,
)}<script type="module" src="${links.script}"></script>
${options.passkeys ? html`<script type="module" src="${links.passkeysScript}"></script>\n` : ''}</head>
<body>
<a class="skip-link" href="#contenido">${text.skipToContent}</a>
<header class="brand-bar">
  <a class="brand" href="${options.area?.home ?? '/'}"><img class="brand-logo" src="${links.logo.href}" alt="" width="${links.logo.width}" height="${links.logo.height}"><span class="brand-text"><span class="brand-name">${brand.name}</span> <span class="brand-sub">${options.area?.name ?? text.portalName}</span></span></a>
</header>
<main id="contenido" class="card card-${options.width ?? 'narrow'}" tabindex="-1">
${options.body}
</main>
<footer class="site-footer">
  <a class="call-center" href="tel:${brand.callCenterTel}"><span aria-hidden="true">☎</span> ${manual.callCenter(keepTogether(brand.callCenter))}</a>
</footer>
</body>
</html>`.value;
}
