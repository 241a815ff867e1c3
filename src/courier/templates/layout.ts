// The email look: one column, system fonts, the brand's colour, inline
// styles only (mail clients drop style sheets) and no remote images. The
// provider's name, colour and call centre come from the brand (BRAND_*
// settings, src/site/brand.ts), which checked at start that white text on
// the colour and the darker shade on white stay readable.
import { mail, manual, text } from '../../messages/es.ts';
import type { Brand } from '../../site/brand.ts';
import { type Html, html } from '../../views/html.ts';

export function emailLayout(brand: Brand, title: string, body: Html): string {
  const callCenter = html`<a href="tel:${brand.callCenterTel}" style="color:${brand.primaryDark};font-weight:bold;">${manual.callCenter(brand.callCenter)}</a>`;
  return html`<!doctype html>
<html lang="es-UY">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body style="margin:0;padding:0;background:#f3f1ef;font-family:Arial,Helvetica,sans-serif;color:#1c1c1e;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f1ef;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:12px;overflow:hidden;">
<tr><td style="background:${brand.primaryColor};color:#ffffff;padding:16px 24px;font-size:20px;font-weight:bold;">${brand.name} · ${text.portalName}</td></tr>
<tr><td style="padding:24px;font-size:17px;line-height:1.5;">${body}</td></tr>
<tr><td style="padding:16px 24px;border-top:1px solid #e5e5e5;font-size:15px;color:#4a4a52;">${mail.questions(callCenter)}</td></tr>
</table>
</td></tr>
</table>
</body>
</html>`.value;
}

/**
 * The plain-text part: the lines of the email, then the same footer as the
 * HTML part, so a member whose client shows only text has the number too.
 */
export function emailText(brand: Brand, lines: readonly string[]): string {
  const footer = mail.questions(manual.callCenter(brand.callCenter)).join('');
  return [...lines, '', footer].join('\n');
}

export function emailButton(brand: Brand, href: string, label: string): Html {
  return html`<p style="margin:24px 0;"><a href="${href}" style="display:inline-block;background:${brand.primaryColor};color:#ffffff;text-decoration:none;font-weight:bold;padding:14px 24px;border-radius:10px;">${label}</a></p>`;
}

/** The link written out under the button, for clients that hide buttons. */
export function emailLinkLine(brand: Brand, href: string): Html {
  return html`<p style="margin:0 0 16px;font-size:15px;word-break:break-all;"><a href="${href}" style="color:${brand.primaryDark};">${href}</a></p>`;
}
