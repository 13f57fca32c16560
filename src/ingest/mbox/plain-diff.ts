import { createHash } from "node:crypto";
import { InputError, MAX_MESSAGE_BYTES } from "../../errors.js";
import type { MessageFields, Person } from "../../patch/message.js";
import type { RawMessage } from "./reader.js";

// `git show` / `git log -p` open with the commit line; `git diff` with its first file header.
const COMMIT_LINE = /^commit [0-9a-f]{7,64}\b/;
const GIT_HEADER = /^(Author|AuthorDate|Date|Commit|CommitDate|Merge):\s*(.*)$/;
const AUTHOR = /^(.*?)\s*<([^<>\s]*)>\s*$/;

function startsPlainDiff(lines: readonly string[]): boolean {
  const first = lines.findIndex((l) => l.trim() !== "");
  const line = lines[first] ?? "";
  if (COMMIT_LINE.test(line) || line.startsWith("diff --git a/")) return true;
  return /^--- (a\/|\/dev\/null)/.test(line) && /^\+\+\+ (b\/|\/dev\/null)/.test(lines[first + 1] ?? "");
}

/** The files a diff names, for a subject a person can tell apart from another diff's. */
function diffPaths(lines: readonly string[]): string[] {
  const paths = lines.flatMap((l) => {
    const m = /^\+\+\+ b\/(.+)$/.exec(l) ?? /^--- a\/(.+)$/.exec(l);
    return m ? [m[1]!.trim()] : [];
  });
  return [...new Set(paths)];
}

function person(value: string): Person {
  const m = AUTHOR.exec(value);
  return m ? { name: m[1]! || m[2]!, email: m[2]! } : { name: value || "unknown", email: "unknown@invalid" };
}

/**
 * `git diff` or `git show` output handed over as it is, with no mail headers (a path or stdin):
 * one patch, with the commit's author, date and message when `git show` gave them. Undefined
 * for anything else, which is then read as mail.
 */
export function plainDiffFields(raw: RawMessage): MessageFields | undefined {
  const head = raw.bytes.subarray(0, 4096).toString("latin1").split("\n");
  if (!startsPlainDiff(head.map((l) => l.replace(/\r$/, "")))) return undefined;
  if (raw.bytes.length > MAX_MESSAGE_BYTES) {
    throw new InputError("too-large", `${raw.bytes.length} bytes, limit ${MAX_MESSAGE_BYTES}`, raw.source);
  }
  const lines = raw.bytes.toString("utf8").replace(/\r\n?/g, "\n").split("\n");
  let at = lines.findIndex((l) => l.trim() !== "");
  const headers = new Map<string, string>();
  const message: string[] = [];
  if (COMMIT_LINE.test(lines[at]!)) {
    for (at++; at < lines.length && lines[at] !== ""; at++) {
      const h = GIT_HEADER.exec(lines[at]!);
      if (h) headers.set(h[1]!, h[2]!.trim());
    }
    // The commit message is indented by four spaces; the stat or the diff that follows is not.
    for (; at < lines.length && (lines[at] === "" || lines[at]!.startsWith("    ")); at++) message.push(lines[at]!.slice(4));
  }
  const diff = lines.slice(at).join("\n");
  const text = message.join("\n").trim();
  const paths = diffPaths(lines.slice(at));
  const named = paths.slice(0, 3).join(", ") + (paths.length > 3 ? ` and ${paths.length - 3} more` : "");
  const subject = text ? text.split("\n")[0]!.trim() : `plain diff: ${named || raw.source}`;
  const dateText = headers.get("AuthorDate") ?? headers.get("Date");
  const date = dateText ? new Date(dateText) : undefined;
  return {
    messageId: `plain-${createHash("sha1").update(raw.bytes).digest("hex")}@dmabuf-review.invalid`,
    from: person(headers.get("Author") ?? ""),
    to: [],
    cc: [],
    date: date && !Number.isNaN(date.getTime()) ? date : undefined,
    subject,
    inReplyTo: undefined,
    references: [],
    // As git am reads a patch: the commit message, then `---`, then the diff.
    body: `${text}\n---\n${diff}`,
    source: raw.source,
  };
}
