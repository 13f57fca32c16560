import { createRequire } from "node:module";
import type { EmailAddress } from "mailparser";

/*
 * Address headers read as mailparser reads them (its parseAddressHeader: addressparser, then
 * encoded words decoded in names), without its tokenizer for the forms list mail is made of:
 * `Name <a@b>`, `"Last, First" <a@b>`, `=?UTF-8?Q?...?= <a@b>` and a bare `a@b`, separated by
 * commas. Anything else (comments, groups, escapes, odd spacing, an `@` or a bracket where a
 * name goes, punycode domains) goes to mailparser's own code. test/ingest/plain-addresses.test.ts
 * holds the two to the same answers.
 */

const require = createRequire(import.meta.url);
let addressparser: ((value: string, options: { flatten: boolean }) => EmailAddress[]) | undefined;
let libmime: { decodeWords(value: string): string } | undefined;

/** A plain addr-spec: dot-atom local part (no `?`, so no encoded word), a host name. */
const ADDRESS = /^[A-Za-z0-9!#$%&'*+/=^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
/** Words of a display name, one blank apart, none of the characters addressparser reads as structure. */
const PHRASE = /^[^\s\x00-\x1f\x7f"(),:;<>@[\]\\]+(?: [^\s\x00-\x1f\x7f"(),:;<>@[\]\\]+)*$/;
/** A quoted display name without escapes or structure inside it. */
const QUOTED = /^"([^\x00-\x1f\x7f"\\()<>@[\]]*)"$/;
/** What the fast reading never takes anywhere in a value. */
const REFUSED = /[\t\\\x00]|xn--/i;

function quickElement(text: string): EmailAddress | undefined {
  const t = text.trim();
  if (ADDRESS.test(t)) return { address: t, name: "" };
  if (!t.endsWith(">")) return undefined;
  const open = t.lastIndexOf("<");
  const address = t.slice(open + 1, -1);
  if (open < 0 || !ADDRESS.test(address)) return undefined;
  const before = t.slice(0, open);
  if (before !== "" && !before.endsWith(" ")) return undefined;
  const phrase = before.trimEnd();
  if (phrase === "") return { address, name: "" };
  const quoted = QUOTED.exec(phrase);
  const raw = quoted ? quoted[1]! : PHRASE.test(phrase) ? phrase : undefined;
  if (raw === undefined) return undefined;
  const name = raw.trim();
  if (!name.includes("=?")) return { address, name };
  libmime ??= createRequire(require.resolve("mailparser"))("libmime") as typeof libmime;
  try {
    return { address, name: libmime!.decodeWords(name) };
  } catch {
    return { address, name };
  }
}

/** The addresses of one header value by the quick reading, or undefined when it is not for it. */
export function quickAddresses(value: string): EmailAddress[] | undefined {
  if (REFUSED.test(value)) return undefined;
  const out: EmailAddress[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (i === value.length || (c === 44 && !quoted)) {
      if (quoted) return undefined;
      const one = quickElement(value.slice(start, i));
      if (!one) return undefined;
      out.push(one);
      start = i + 1;
    }
  }
  return out;
}

/**
 * mailparser's parseAddressHeader for these values: the quick reading where it applies, else
 * addressparser from mailparser's own nodemailer, and mailparser itself only for encoded words,
 * `xn--` domains or NULs (the decoding it adds changes only those).
 */
export function parseAddresses(values: readonly string[]): EmailAddress[] {
  const quick = values.map((v) => (v ? quickAddresses(v) : []));
  if (quick.every((q) => q !== undefined)) return quick.flat();
  if (values.some((v) => v.includes("=?") || v.includes("\0") || /xn--/i.test(v))) {
    return (require("mailparser") as typeof import("mailparser")).parseAddressHeader([...values]).value;
  }
  addressparser ??= createRequire(require.resolve("mailparser"))("nodemailer/lib/addressparser") as typeof addressparser;
  return values.flatMap((v) => (v ? addressparser!(v, { flatten: false }) : [])).map((a) => ({ ...a, name: (a.name || "").toString().trim() }));
}
