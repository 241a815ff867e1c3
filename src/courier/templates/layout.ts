// The email look: one column, system fonts, the portal's colour, inline
// styles only (mail clients drop style sheets) and no remote images.
import { mail, manual, text } from '../../messages/es.ts';
import { type Html, html } from '../../views/html.ts';

export function emailLayout(title: string, body: Html): string {
  return html`<!doctype html>
<html lang="es-UY">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${title}</title></head>
<body style="margin:0;padding:0;background:#f3f1ef;font-family:Arial,Helvetica,sans-serif;color:#1c1c1e;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f3f1ef;padding:24px 0;">
<tr><td align="center">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-radius:12px;overflow:hidden;">
<tr><td style="background:#a0102e;color:#ffffff;padding:16px 24px;font-size:20px;font-weight:bold;">${text.brand} · ${text.portalName}</td></tr>
<tr><td style="padding:24px;font-size:17px;line-height:1.5;">${body}</td></tr>
<tr><td style="padding:16px 24px;border-top:1px solid #e5e5e5;font-size:15px;color:#4a4a52;">${mail.questions(html`<a href="tel:144" style="color:#7a0c23;font-weight:bold;">${manual.callCenter}</a>`)}</td></tr>
</table>
</td></tr>
</table>
</body>
</html>`.value;
}

export function emailButton(href: string, label: string): Html {
  return html`<p style="margin:24px 0;"><a href="${href}" style="display:inline-block;background:#a0102e;color:#ffffff;text-decoration:none;font-weight:bold;padding:14px 24px;border-radius:10px;">${label}</a></p>`;
}
