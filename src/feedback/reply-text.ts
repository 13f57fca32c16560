/**
 * A review reply read the way its reader reads it: quoted blocks (the patch, or someone's
 * words) and the replier's own text under them. Attribution lines ("On ..., X wrote:"),
 * greetings, sign-offs and the signature are the mail's frame, not the review.
 */

export interface QuoteBlock {
  readonly kind: "quote";
  /** Lines with every quote level removed. */
  readonly lines: readonly string[];
  /** Deepest quote level in the block: 1 quotes the message answered, 2 what it quoted. */
  readonly depth: number;
}

export interface OwnBlock {
  readonly kind: "own";
  /** Paragraphs, each a list of lines, without the frame. */
  readonly paragraphs: readonly (readonly string[])[];
}

export type ReplyBlock = QuoteBlock | OwnBlock;

// "On ..., X wrote:", "Am ... schrieb X:", "Le ... a écrit :", or any line ending in ':' that
// carries a time or an address right before the quote.
// Also the "Quoting X (2021-01-13 14:06:04)" some mail clients write.
const ATTRIBUTION =
  /(wrote|writes|a écrit|escribió|scrisse|napisał|kirjoitti|skrev)\s*:?\s*$|\bschrieb\b.*:\s*$|(\d\d?:\d\d|<[^>]+@[^>]+>).*:\s*$|^quoting .+\(\d{4}-\d\d-\d\d[^)]*\)\s*$/i;
const GREETING = /^(hi|hello|hey|dear|hallo|bonjour|hej|moin)\b[^.?!]{0,40}[,!]?\s*$/i;
const CLOSING = /^(thanks|thank you|thx|regards|best regards|kind regards|best|cheers|br|greetings|ciao|looking forward\b.*|happy v\d.*)[,.!]?\s*$/i;
const QUOTED = /^\s*>/;

/** How many `>` lead the line, blanks between them allowed. */
function quoteDepth(line: string): number {
  let depth = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === ">") depth++;
    else if (c !== " " && c !== "\t" && !/\s/.test(c)) break;
  }
  return depth;
}

function unquote(line: string): string {
  return line.replace(/^(\s*> ?)+/, "");
}

/** A line that is a name and nothing else: "Mei", "Alex Moreau", "-Daniel"; after a closing also "Christian.". */
function isNameLine(line: string, afterClosing = false): boolean {
  const t = line.trim().replace(/^[-~]\s*/, "").replace(afterClosing ? /\.$/ : /$^/, "");
  if (/[.?!:;]$/.test(t) || /^(NAC?K|ACK|LGTM)\b/i.test(t)) return false;
  return t !== "" && t.split(/\s+/).length <= 3 && /^[A-Z\u00C0-\u017F][\w\u00C0-\u017F.'-]*(\s+[A-Z\u00C0-\u017F][\w\u00C0-\u017F.'-]*)*$/.test(t);
}

function paragraphs(lines: readonly string[]): string[][] {
  const out: string[][] = [];
  let cur: string[] = [];
  for (const l of lines) {
    if (l.trim() === "") {
      if (cur.length > 0) out.push(cur);
      cur = [];
    } else cur.push(l.trimEnd());
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

/** Split a reply body into quoted and own blocks, dropping the frame around them. */
export function segmentReply(body: string): ReplyBlock[] {
  const all = body.replace(/\r\n/g, "\n").split("\n");
  const sig = all.findIndex((l) => l === "-- " || l === "--");
  const lines = sig >= 0 ? all.slice(0, sig) : all;

  const raw: { kind: "quote" | "own"; lines: string[] }[] = [];
  for (const line of lines) {
    const kind = QUOTED.test(line) ? "quote" : "own";
    const last = raw[raw.length - 1];
    if (last && last.kind === kind) last.lines.push(line);
    else raw.push({ kind, lines: [line] });
  }

  const blocks: ReplyBlock[] = [];
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b.kind === "quote") {
      blocks.push({ kind: "quote", lines: b.lines.map(unquote), depth: Math.max(...b.lines.map(quoteDepth)) });
      continue;
    }
    let own = [...b.lines];
    // The attribution line(s) introducing the next quote, up to the blank line before them.
    if (raw[i + 1]?.kind === "quote") {
      let end = own.length;
      while (end > 0 && own[end - 1]!.trim() === "") end--;
      if (end > 0 && ATTRIBUTION.test(own[end - 1]!)) {
        let start = end - 1;
        while (start > 0 && own[start - 1]!.trim() !== "" && end - start < 3) start--;
        own = own.slice(0, start);
      }
    }
    const paras = paragraphs(own);
    if (paras.length > 0) blocks.push({ kind: "own", paragraphs: paras });
  }

  // Greeting: a short first line of the first own block.
  const firstOwn = blocks.find((b): b is OwnBlock => b.kind === "own");
  if (firstOwn && firstOwn.paragraphs[0]?.length === 1 && GREETING.test(firstOwn.paragraphs[0][0]!)) {
    replace(blocks, firstOwn, firstOwn.paragraphs.slice(1));
  }
  // A closing above old text left quoted below the signature: "Regards,\nChristian." then "> ...".
  for (const b of blocks) {
    if (b.kind !== "own" || b === blocks[blocks.length - 1]) continue;
    const kept = b.paragraphs.filter((p) => !(p.length <= 3 && p.length >= 1 && CLOSING.test(p[0]!.trim()) && p.slice(1).every((l) => isNameLine(l, true))));
    if (kept.length !== b.paragraphs.length && kept.length < b.paragraphs.length) replace(blocks, b, kept);
  }
  // Closing: "Thanks,\nPriya", "Regards,\nJonas", or a lone name, at the very end.
  const last = blocks[blocks.length - 1];
  if (last && last.kind === "own") {
    let paras = [...last.paragraphs];
    for (;;) {
      const p = paras[paras.length - 1];
      if (!p) break;
      const closing = p.length <= 3 && CLOSING.test(p[0]!.trim()) && p.slice(1).every((l) => isNameLine(l, true));
      const nameOnly = p.length === 1 && isNameLine(p[0]!) && paras.length > 1;
      if (closing || nameOnly) {
        paras = paras.slice(0, -1);
        continue;
      }
      // The sign-off written on the last lines of the last paragraph: "...?\n-Chris", "Regards,\nChristian.".
      const tail = signOffAt(p);
      if (tail === p.length) break;
      paras = [...paras.slice(0, -1), p.slice(0, tail)];
      break;
    }
    replace(blocks, last, paras);
  }
  return blocks.filter((b) => b.kind === "quote" || b.paragraphs.length > 0);
}

/** Where a sign-off starts among the last lines of a paragraph, or its length when there is none. */
function signOffAt(p: readonly string[]): number {
  const n = p.length;
  if (n < 2) return n;
  if (/^\s*[-~]\s*\S/.test(p[n - 1]!) && isNameLine(p[n - 1]!)) return n - 1;
  if (n >= 3 && CLOSING.test(p[n - 2]!.trim()) && isNameLine(p[n - 1]!, true)) return n - 2;
  return n;
}

function replace(blocks: ReplyBlock[], block: OwnBlock, paras: readonly (readonly string[])[]): void {
  const at = blocks.indexOf(block);
  blocks[at] = { kind: "own", paragraphs: paras };
}

/** Own text only: what the replier wrote, outside any quote. */
export function ownText(body: string): string {
  return segmentReply(body)
    .flatMap((b) => (b.kind === "own" ? b.paragraphs.map((p) => p.join("\n")) : []))
    .join("\n\n");
}

/** The message a reply quotes, as its writer wrote it, when the attribution line names them. */
export interface QuotedMessage {
  readonly name: string;
  readonly email: string | undefined;
  /** One quote level removed, the replier's own lines left out: what the quoted writer sent. */
  readonly body: string;
}

// "On Wed, Feb 24, 2021 at 8:46 AM Jane Roe (Corp)\n<jane@example.org> wrote:", "On 28.04.2020 16:27, Jane Roe wrote:",
// "Am 15.01.21 um 13:22 schrieb Jane Roe:", "Quoting Jane Roe (2021-01-13 14:06:04)".
const ATTRIBUTED_NAME = [
  /^quoting\s+(.+?)\s*(?:<([^>\s]+@[^>\s]+)>)?\s*\(\d{4}-\d\d-\d\d[^)]*\)\s*$/i,
  /\bschrieb\s+(.+?)\s*(?:<([^>\s]+@[^>\s]+)>)?\s*:\s*$/i,
  /(?:,\s+|\d\d?:\d\d(?::\d\d)?(?:\s*[AP]M)?(?:\s*[+-]\d{4})?\s+|\s[AP]M\s+)((?:(?!,\s|\d\d?:\d\d).)+?)\s*(?:<([^>\s]+@[^>\s]+)>)?\s*(?:wrote|writes|a écrit)\s*:?\s*$/i,
];

/**
 * The earlier message a reply answers, read back out of its quote: a reviewer on another list or
 * off-list whose mail never reached the archive is only known through the answer quoting it.
 * Undefined when no attribution line names who wrote it.
 */
export function quotedMessage(body: string): QuotedMessage | undefined {
  const all = body.replace(/\r\n/g, "\n").split("\n");
  const sig = all.findIndex((l) => l === "-- " || l === "--");
  const lines = sig >= 0 ? all.slice(0, sig) : all;
  const first = lines.findIndex((l) => QUOTED.test(l));
  if (first < 0) return undefined;
  const above = lines.slice(Math.max(0, first - 3), first).map((l) => l.trim()).filter((l) => l !== "");
  let who: { name: string; email: string | undefined } | undefined;
  for (let k = Math.min(3, above.length); k >= 1 && !who; k--) {
    const text = above.slice(-k).join(" ");
    for (const re of ATTRIBUTED_NAME) {
      const m = re.exec(text);
      if (!m) continue;
      const name = m[1]!.replace(/^["']|["']$/g, "").replace(/\s*\([^)]*\)\s*$/, "").trim();
      if (name && !/@/.test(name) && name.split(/\s+/).length <= 5) who = { name, email: m[2]?.toLowerCase() };
      break;
    }
  }
  if (!who) return undefined;
  const quoted = lines.filter((l) => QUOTED.test(l)).map((l) => l.replace(/^\s*> ?/, ""));
  return { ...who, body: quoted.join("\n") };
}
