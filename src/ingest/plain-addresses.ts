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
 * One value as mailparser's parseAddressHeader reads it (which reads each value of a header on
 * its own): the quick reading where it applies, else addressparser from mailparser's own
 * nodemailer, and mailparser itself only for encoded words, `xn--` domains or NULs (the decoding
 * it adds to addressparser changes only those).
 */
function reading(value: string): readonly EmailAddress[] {
  const quick = quickAddresses(value);
  if (quick) return quick;
  if (value.includes("=?") || value.includes("\0") || /xn--/i.test(value)) {
    return (require("mailparser") as typeof import("mailparser")).parseAddressHeader([value]).value;
  }
  addressparser ??= createRequire(require.resolve("mailparser"))("nodemailer/lib/addressparser") as typeof addressparser;
  return addressparser!(value, { flatten: false }).map((a) => ({ ...a, name: (a.name || "").toString().trim() }));
}

// A series' patches and the replies to them carry the same To and Cc lines, and a thread is
// read again for each review and tracker: the values read last are kept with their reading.
const REMEMBERED = 512;
const readings = new Map<string, readonly EmailAddress[]>();

/** The addresses of an address header's values, as mailparser's parseAddressHeader gives them; shared, to be read only. */
export function parseAddresses(values: readonly string[]): EmailAddress[] {
  return values.flatMap((value) => {
    if (!value) return [];
    let r = readings.get(value);
    if (r === undefined) {
      r = reading(value);
      if (readings.size >= REMEMBERED) readings.delete(readings.keys().next().value!);
      // A copy of the key: a slice would keep the whole header block it was cut from alive.
      readings.set(` ${value}`.slice(1), r);
    }
    return r;
  });
}
