// HTML by tagged template: every interpolated value is escaped unless it is already Html (made by
// `html` itself or `raw` for trusted markup); arrays are joined; null, undefined and false vanish.
export class Html {
  constructor(readonly text: string) {}
  toString() {
    return this.text;
  }
}
type Value = Html | string | number | bigint | null | undefined | false | readonly Value[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

// A template's line breaks are layout, not content, so that long markup can be written over several
// source lines: a line break and the indentation after it vanish next to a tag (after `>`, before `<`)
// and read as one space elsewhere, as a browser would render them. Worked out once per template.
const LINE_BREAK = /\n[ \t]*/g;
const laidOut = new WeakMap<TemplateStringsArray, readonly string[]>();
function layout(strings: TemplateStringsArray): readonly string[] {
  let parts = laidOut.get(strings);
  if (parts === undefined) {
    parts = strings.map((part) =>
      part.replace(LINE_BREAK, (lineBreak, at: number) =>
        part[at - 1] === '>' || part[at + lineBreak.length] === '<' ? '' : ' ',
      ),
    );
    laidOut.set(strings, parts);
  }
  return parts;
}

export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  const parts = layout(strings);
  let out = parts[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + parts[i + 1]!;
  return new Html(out);
}

export const raw = (trusted: string) => new Html(trusted);

/** A value inside running text, isolated so digits and Latin codes keep their order in RTL. */
export const bdi = (value: string, dir?: 'ltr') =>
  dir ? html`<bdi dir="ltr">${value}</bdi>` : html`<bdi>${value}</bdi>`;
