// People type identifiers with Persian (۰-۹) or Arabic-Indic (٠-٩) digits; store ASCII.
const PERSIAN_ZERO = 0x06f0;
const ARABIC_ZERO = 0x0660;

export function toAsciiDigits(text: string): string {
  return text.replace(/[\u06f0-\u06f9\u0660-\u0669]/g, (c) => {
    const code = c.charCodeAt(0);
    return String(code >= PERSIAN_ZERO ? code - PERSIAN_ZERO : code - ARABIC_ZERO);
  });
}

export function toPersianDigits(text: string): string {
  return text.replace(/[0-9]/g, (d) => String.fromCharCode(PERSIAN_ZERO + Number(d)));
}

/** ASCII digits, without the spaces, dashes and zero-width characters people paste around them. */
export const compactIdentifier = (text: string) => toAsciiDigits(text).replace(/[\s\-\u200c\u200f\u200e_.]/g, '');
