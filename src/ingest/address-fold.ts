// Shared by every mail source (mbox files, public-inbox archives): not a source of its own.

/** Address fields whose folds the mail software of some senders and list servers breaks (at a line's start). */
const ADDRESS_FIELD_NAME = /(?:from|to|cc|reply-to|sender|x-original-from)[^\S\n]*:/iy;
const FIELD_FIRST = new Set([..."ftcrsx"].map((c) => c.charCodeAt(0)));
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
  // Only an address field that is folded can hold a cut: other lines are passed over by their
  // first letter and the line after them.
  let out: string | undefined;
  let copied = 0;
  for (let start = 0; start < head.length; ) {
    let end = head.indexOf("\n", start);
    if (end < 0) break;
    const folded = isBlank(head.charCodeAt(end + 1));
    ADDRESS_FIELD_NAME.lastIndex = start;
    if (folded && FIELD_FIRST.has(head.charCodeAt(start) | 0x20) && ADDRESS_FIELD_NAME.test(head)) {
      while (isBlank(head.charCodeAt(end + 1))) {
        const next = head.indexOf("\n", end + 1);
        end = next < 0 ? head.length : next;
      }
      const field = head.slice(start, end);
      const joined = joinCutFolds(field);
      if (joined !== field) {
        out = (out ?? "") + head.slice(copied, start) + joined;
        copied = end;
      }
    }
    start = end + 1;
  }
  return out === undefined ? head : out + head.slice(copied);
}

const isBlank = (c: number) => c === 32 || c === 9;

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
