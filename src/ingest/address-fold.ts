// Shared by every mail source (mbox files, public-inbox archives): not a source of its own.

/**
 * An address field whose folds the mail software of some senders and list servers breaks, with
 * its folded lines: at the start of a line (lines end at LF only), up to the next unfolded line.
 */
const FOLDED_ADDRESS_FIELD = /(?<![^\n])(?:from|to|cc|reply-to|sender|x-original-from)[^\S\n]*:[^\n]*(?:\n[ \t][^\n]*)+/gi;
/** What an address may hold around the place a broken fold cut it. */
const ADDRESS_CHARS = /^[A-Za-z0-9._%+=-]+$/;
/** What ends a token of an address list. */
const TOKEN_STOP = /[,:<>"\s]/;

/**
 * Whether a fold between `before` (the line so far) and `after` (the continuation, its leading
 * blanks removed) cut one address in two. Folding is only allowed where there was blank space
 * (RFC 5322 2.2.3), but some mailers and Mailman's rewriting fold inside a long address:
 * "linux-perf-\n users@vger.kernel.org", or "linux-perf-users@vger.\n kernel.org". Unfolded by
 * the book, the first reads as a display name "linux-perf-" and the address users@..., so the
 * bot would write to a person who does not exist.
 */
function cutAddress(before: string, after: string): boolean {
  if (/\s$/.test(before)) return false;
  // The token before the fold, found from the end: a regex anchored at the end would try every
  // position of a long To: line.
  let at = before.length;
  while (at > 0 && !TOKEN_STOP.test(before[at - 1]!)) at--;
  const last = before.slice(at);
  const first = /^[^,<>"\s]*/.exec(after)![0];
  if (last === "" || first === "") return false;
  // The part before the fold starts a token of its own: after a separator, not inside a name.
  const lead = before.slice(0, before.length - last.length);
  if (!/(^|[,:<])\s*$/.test(lead)) return false;
  if (!last.includes("@")) return ADDRESS_CHARS.test(last) && /^[A-Za-z0-9._%+=-]*@[A-Za-z0-9-]/.test(first);
  // The domain cut after a dot or a hyphen.
  return /[.-]$/.test(last) && /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(first);
}

/**
 * The header block `head` with address folds that cut an address joined back without the
 * blank; every other fold is left for the parser to unfold as RFC 5322 says.
 */
export function joinCutAddresses(head: string): string {
  // Only an address field that is folded can hold a cut: the rest of the block is not looked at.
  let out: string | undefined;
  let copied = 0;
  for (const m of head.matchAll(FOLDED_ADDRESS_FIELD)) {
    const field = joinCutFolds(m[0]);
    if (field === m[0]) continue;
    out = (out ?? "") + head.slice(copied, m.index) + field;
    copied = m.index + m[0].length;
  }
  return out === undefined ? head : out + head.slice(copied);
}

/** One folded address field with the folds that cut an address joined. */
function joinCutFolds(field: string): string {
  const out: string[] = [];
  let changed = false;
  for (const line of field.split("\n")) {
    const prev = out[out.length - 1];
    if (prev !== undefined) {
      const before = prev.replace(/\r$/, "");
      const after = line.replace(/^[ \t]+/, "");
      if (cutAddress(before, after)) {
        out[out.length - 1] = before + after;
        changed = true;
        continue;
      }
    }
    out.push(line);
  }
  return changed ? out.join("\n") : field;
}

/** The raw message with cut address folds in its header joined (the same bytes when there are none). */
export function joinCutAddressesIn(bytes: Buffer): Buffer {
  const end = bytes.indexOf("\n\n") >= 0 ? bytes.indexOf("\n\n") : bytes.indexOf("\r\n\r\n");
  const stop = end < 0 ? bytes.length : end;
  const head = bytes.subarray(0, stop).toString("latin1");
  const joined = joinCutAddresses(head);
  return joined === head ? bytes : Buffer.concat([Buffer.from(joined, "latin1"), bytes.subarray(stop)]);
}
