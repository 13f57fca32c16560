/*
 * The opt-out line a reply may carry ("dmabuf-review: opt-out", as the signature of every
 * reply asks), recognised the way people actually send it: capitalised by a phone, in upper
 * case, with extra spaces, split by a quoted-printable soft break, or in an HTML-only mail.
 * Triage decodes the body first (quoted-printable, base64); this file decides on the text.
 */

// A line of its own; quoted lines ("> ...") start with something else and never match.
const OPT_OUT = /^[ \t]*dmabuf-review[ \t]*:[ \t]*opt[ \t-]?out[ \t.!]*\r?$/im;

// The bot's name as quoted-printable may carry it: a soft break ("=" at a line's end) anywhere.
const NAME = new RegExp("dmabuf-review".split("").join("(?:=\\r?\\n)?"), "i");
const BASE64 = Buffer.from("base64", "latin1");

/**
 * Whether a message could hold an opt-out: it has a base64 part, which no search of the bytes
 * sees into; or its body names the bot in any case, maybe split by a soft break; or it has HTML
 * and no plain text. `type` is the top-level content type; `body` gives the body as latin1.
 * The rest of a list's replies are not decoded for it.
 */
export function mayHoldOptOut(bytes: Buffer, type: string, body: () => string): boolean {
  if (bytes.indexOf(BASE64) >= 0) return true;
  if (type === "text/html") return true;
  const text = body();
  return NAME.test(text) || (type.startsWith("multipart/") && /text\/html/i.test(text) && !/text\/plain/i.test(text));
}

/** True when the decoded text has an opt-out line of its own, outside quoted text. */
export function hasOptOutLine(text: string): boolean {
  if (!/dmabuf-review/i.test(text)) return false; // most decoded replies: one quick scan
  // A no-break space (U+00A0, and its two UTF-8 bytes read as latin1) is a space here.
  return OPT_OUT.test(text.replace(/\u00c2?\u00a0/g, " "));
}

const ENTITIES: Readonly<Record<string, string>> = { nbsp: " ", amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/**
 * The text of an HTML body, enough to find a line in it: quoted replies (blockquote), styles
 * and scripts dropped, block ends and <br> as line breaks, tags removed, entities decoded.
 */
export function htmlText(html: string): string {
  let text = html.replace(/<(style|script)\b[\s\S]*?<\/\1\s*>/gi, "\n");
  // Innermost quote first, so that a quote inside a quote leaves nothing of the outer one.
  for (let before = ""; before !== text; ) {
    before = text;
    text = text.replace(/<blockquote\b[^>]*>(?:(?!<blockquote\b)[\s\S])*?<\/blockquote\s*>/gi, "\n");
  }
  return text
    .replace(/<br\s*\/?>|<\/(p|div|li|tr|h[1-6])\s*>|<(p|div)\b[^>]*>/gi, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
      if (e[0] !== "#") return ENTITIES[e.toLowerCase()] ?? all;
      const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return code === 0xa0 ? " " : code < 0x100 ? String.fromCharCode(code) : all;
    });
}
