/** A `Key: value` line at the end of a commit message, or given alone in a review reply. */
export interface Trailer {
  readonly key: string;
  readonly value: string;
  /** person trailers carry a name and address; utility trailers carry a reference. */
  readonly type: "person" | "utility";
  readonly name?: string;
  readonly email?: string;
}

const PERSON_KEYS = new Set(
  [
    "signed-off-by",
    "reviewed-by",
    "acked-by",
    "tested-by",
    "reported-by",
    "suggested-by",
    "co-developed-by",
    "reported-and-tested-by",
    "cc",
    "nacked-by",
  ].map((k) => k.toLowerCase()),
);

const UTILITY_KEYS = new Set(["fixes", "link", "closes", "change-id", "base-commit", "message-id"]);

const TRAILER_LINE = /^([A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]):[ \t]+(\S.*?)\s*$/;

// The kernel spells keys with one capital: "Signed-off-by", "Reported-and-tested-by". b4 writes
// change-id and base-commit in lower case, and a reviewer comparing keys expects those spellings.
function canonicalKey(key: string): string {
  const lower = key.toLowerCase();
  if (lower === "change-id" || lower === "base-commit") return lower;
  return lower.charAt(0).toUpperCase() + lower.slice(1);
}

function toTrailer(key: string, value: string): Trailer {
  const canon = canonicalKey(key);
  const lower = canon.toLowerCase();
  if (PERSON_KEYS.has(lower)) {
    const m = /^(.*?)\s*<([^>]+)>/.exec(value);
    const name = m ? (m[1] ?? "").replace(/^"|"$/g, "").trim() : undefined;
    // "Cc: stable@vger.kernel.org # 6.1+": the address alone, without the backport note.
    const email = m ? m[2] : /[^\s<>]+@[^\s<>]+/.exec(value)?.[0];
    return { key: canon, value, type: "person", ...(name ? { name } : {}), ...(email ? { email } : {}) };
  }
  return { key: canon, value, type: "utility" };
}

function isKnownKey(key: string): boolean {
  const lower = key.toLowerCase();
  return PERSON_KEYS.has(lower) || UTILITY_KEYS.has(lower);
}

// Lines git itself writes into a message; one of them lets a mixed paragraph count as trailers.
const GIT_GENERATED = /^(Signed-off-by: |\(cherry picked from commit )/i;

/**
 * Trailers of a commit message: its last paragraph, when every line in it is a trailer
 * (continuation lines indented) and at least one uses a key the kernel knows. Like
 * `git interpret-trailers`, a paragraph that also holds other lines still counts when it has a
 * git-generated line (Signed-off-by) and at least a quarter of its lines are trailers: a
 * forgotten blank line before the sign-off must not hide it.
 */
export function parseTrailers(commitMessage: string): Trailer[] {
  const lines = commitMessage.replace(/\r\n?/g, "\n").replace(/\s+$/, "").split("\n");
  let start = lines.length;
  while (start > 0 && (lines[start - 1] ?? "").trim() !== "") start--;
  const block = lines.slice(start);
  const out: Trailer[] = [];
  let known = false;
  let generated = false;
  let trailerLines = 0;
  let otherLines = 0;
  let afterTrailer = false;
  for (const line of block) {
    if (/^[ \t]+\S/.test(line) && afterTrailer) {
      const last = out.pop()!;
      out.push(toTrailer(last.key, `${last.value} ${line.trim()}`));
      continue;
    }
    // A "[ rebased by ... ]" annotation line is allowed between trailers.
    if (/^\[.*\]$/.test(line.trim())) continue;
    if (GIT_GENERATED.test(line)) generated = true;
    const m = TRAILER_LINE.exec(line);
    if (!m) {
      otherLines++;
      afterTrailer = false;
      continue;
    }
    trailerLines++;
    afterTrailer = true;
    if (isKnownKey(m[1]!)) known = true;
    out.push(toTrailer(m[1]!, m[2]!));
  }
  if (otherLines === 0) return known ? out : [];
  return generated && trailerLines * 4 >= trailerLines + otherLines ? out : [];
}

/**
 * Trailers given anywhere in a review reply ("Reviewed-by: ..." on a line of its own), skipping
 * quoted lines: a reviewer's tag is only theirs if it is not inside "> " quoting.
 */
export function parseReplyTrailers(body: string): Trailer[] {
  const out: Trailer[] = [];
  for (const line of body.split("\n")) {
    if (/^\s*>/.test(line)) continue;
    const m = TRAILER_LINE.exec(line.trim());
    if (!m) continue;
    const lower = m[1]!.toLowerCase();
    if (lower === "cc" || !PERSON_KEYS.has(lower)) continue;
    out.push(toTrailer(m[1]!, m[2]!));
  }
  return out;
}
