// HTML by tagged template: every interpolated value is escaped unless it is
// already Html (made by this tag or by raw()). Arrays are joined.
// See docs/decisions/003-views-as-typed-templates.md.

export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolation = Html | string | number | boolean | null | undefined | Interpolation[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++)
    out += render(values[i] as Interpolation) + strings[i + 1];
  return new Html(out);
}

/** Trusted markup, e.g. a JSON blob already escaped for an attribute. Use sparingly. */
export function raw(value: string): Html {
  return new Html(value);
}

/** Spaces made non-breaking, so a line never breaks inside a phone number ("0800 1234"). */
export function keepTogether(value: string): string {
  return value.replaceAll(' ', '\u00a0');
}
