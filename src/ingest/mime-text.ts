// Shared by every mail reader (triage, the plain fast path, the mailparser path): the pieces of
// MIME each must read exactly as the others do, written once.

/**
 * A charset TextDecoder does not know is read as UTF-8: mailparser (libmime) falls back to UTF-8
 * too, and the review reads the same header through it, so both must give the same text.
 */
function decodeBytes(bytes: Buffer, charset: string): string {
  const cs = charset.toLowerCase();
  if (cs === "utf-8" || cs === "utf8" || cs === "us-ascii") return bytes.toString("utf8");
  try {
    return new TextDecoder(cs).decode(bytes);
  } catch {
    return bytes.toString("utf8");
  }
}

/** RFC 2047 encoded words; whitespace between two encoded words is dropped. */
export function decodeWords(value: string): string {
  if (!value.includes("=?")) return value;
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, "$1")
    .replace(/=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g, (_all, cs: string, enc: string, text: string) => {
      const charset = cs.split("*")[0]!;
      // An encoded word holds no line: its blanks (from "_") are words' blanks, kept.
      const bytes = enc.toUpperCase() === "B" ? Buffer.from(text, "base64") : unescapeHex(text.replace(/_/g, " "));
      return decodeBytes(bytes, charset);
    });
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** `=XX` escapes as bytes; an `=` not followed by two hex digits stays. One byte per character. */
function unescapeHex(input: string): Buffer {
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 61 && i < input.length - 2) {
      const hi = hex(input.charCodeAt(i + 1));
      const lo = hex(input.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out[n++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

/**
 * A quoted-printable body as libqp (mailparser's) decodes it: trailing blanks of a line go, then
 * soft breaks, then the escapes. `text` holds one byte per character.
 */
export function decodeQuotedPrintable(text: string): Buffer {
  return unescapeHex(text.replace(/(^|[^ \t])[ \t]+(?=[\n\r\u2028\u2029]|$)/g, "$1").replace(/=(?:\r?\n|$)/g, ""));
}

/**
 * Why a multipart message's structure is broken, or undefined: mailparser reads a multipart body
 * whose boundary never shows up as nothing at all, so the message would look empty instead of
 * broken. The delimiter must start a line (RFC 2046 5.1.1).
 */
export function brokenMultipart(type: string, boundary: string | undefined, bytes: Buffer): string | undefined {
  if (!type.startsWith("multipart/")) return undefined;
  if (!boundary) return `${type} without a boundary parameter`;
  const delimiter = `\n--${boundary}`;
  for (const end of ["\n", "\r\n", "--"]) if (bytes.indexOf(`${delimiter}${end}`, 0, "latin1") >= 0) return undefined;
  return `the multipart boundary "${boundary}" never appears in the body`;
}
