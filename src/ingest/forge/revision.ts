import { InputError, MAX_MESSAGE_BYTES } from "../../errors.js";
import { parseDiff, type FileDiff } from "../../patch/diff.js";
import type { Message, Person } from "../../patch/message.js";
import type { Series } from "../../patch/series.js";
import { parseSubject } from "../../patch/subject.js";
import { parseTrailers } from "../../patch/trailer.js";

/**
 * What GitLab and GitHub have in common once their field names are gone: a revision of a change
 * (one push) and the files it changes, each with its hunks as the forge prints them (from the
 * first `@@` on, without the `diff --git` header). Both forges position comments against the
 * whole base...head diff, so the revision is reviewed as one patch: every line number a finding
 * carries is then a line of the diff the comment lands on.
 */
export interface ForgeFile {
  /** Undefined for an added file. */
  readonly oldPath: string | undefined;
  /** Undefined for a deleted file. */
  readonly newPath: string | undefined;
  readonly status: "added" | "deleted" | "renamed" | "modified";
  /** The hunks, or undefined when the forge sent none (binary, too large, pure rename, mode change). */
  readonly hunks: string | undefined;
  readonly binary: boolean;
  /** The forge said it left the diff out because it is too large. */
  readonly tooLarge: boolean;
}

export interface ForgeRevision {
  /** Stable identifier of this revision, e.g. `gitlab:group/proj!12@<head sha>`. */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly author: Person;
  readonly date: Date | undefined;
  /** 1 for the first push, 2 for the second... when the forge counts them. */
  readonly revision: number;
  /** Where the change lives, for log lines and the Message's source. */
  readonly url: string;
  /** What names the change across pushes (`mesa/kernel!7`): its revisions share it, as b4's change-id. */
  readonly changeId?: string;
  /** The author's words on what this push changed, read like the notes below `---` (a changelog). */
  readonly notes?: string;
}

/** Limits of one review, checked before parsing; what is over them is listed, never dropped silently. */
export interface ForgeLimits {
  readonly maxFiles: number;
  readonly maxFileDiffBytes: number;
  readonly maxTotalDiffBytes: number;
}

export const FORGE_LIMITS: ForgeLimits = {
  // A tree-wide rename touches thousands of files; a dma-buf change rarely more than a few dozen.
  maxFiles: 300,
  maxFileDiffBytes: 512 * 1024,
  maxTotalDiffBytes: MAX_MESSAGE_BYTES,
};

export type SkipReason = "binary" | "too-large" | "too-many-files" | "truncated-diff";

export interface SkippedFile {
  readonly path: string;
  readonly reason: SkipReason;
  readonly detail: string;
}

export interface NormalisedRevision {
  /** Undefined when no file is left to review (all binary, all over the limits, no files). */
  readonly series: Series | undefined;
  readonly files: number;
  readonly skipped: readonly SkippedFile[];
}

const DMA_BUF_HINT = /dma_buf|dma-buf|dma_sync|dma_map|dma_unmap|DMA_ATTR_|dma_heap|DMA_BUF_/;

/** Files that look like dma-buf work are reviewed first when the file limit bites. */
function priority(f: ForgeFile): number {
  const path = f.newPath ?? f.oldPath ?? "";
  if (DMA_BUF_HINT.test(path) || (f.hunks !== undefined && DMA_BUF_HINT.test(f.hunks))) return 0;
  return /\.(c|h|cc|cpp|hh|hpp)$/.test(path) ? 1 : 2;
}

function toFileDiff(f: ForgeFile): FileDiff {
  const path = (f.newPath ?? f.oldPath)!;
  if (f.hunks === undefined || f.hunks.trim() === "") {
    return { oldPath: f.oldPath, newPath: f.newPath, path, status: f.status, hunks: [] };
  }
  const header = `--- ${f.oldPath ? `a/${f.oldPath}` : "/dev/null"}\n+++ ${f.newPath ? `b/${f.newPath}` : "/dev/null"}\n`;
  const text = f.hunks.endsWith("\n") ? f.hunks : `${f.hunks}\n`;
  const parsed = parseDiff(header + text);
  if (parsed.length !== 1) throw new InputError("truncated-diff", `expected one file in the diff of ${path}, found ${parsed.length}`);
  // The forge knows renames and creations better than a header without `diff --git` can say.
  return { ...parsed[0]!, oldPath: f.oldPath, newPath: f.newPath, path, status: f.status };
}

/**
 * Turn one forge revision into a Series of one patch. Binary files and files over the limits are
 * listed in `skipped` with their reason; a file whose hunks do not parse is skipped, not fatal.
 */
export function forgeSeries(rev: ForgeRevision, files: readonly ForgeFile[], limits: ForgeLimits = FORGE_LIMITS): NormalisedRevision {
  const skipped: SkippedFile[] = [];
  const kept: FileDiff[] = [];
  let total = 0;
  const ordered = files.map((f, i) => ({ f, i })).sort((a, b) => priority(a.f) - priority(b.f) || a.i - b.i);
  let reviewed = 0;
  for (const { f } of ordered) {
    const path = f.newPath ?? f.oldPath ?? "(unnamed)";
    if (f.binary) {
      skipped.push({ path, reason: "binary", detail: "binary file, no text diff" });
      continue;
    }
    if (f.tooLarge) {
      skipped.push({ path, reason: "too-large", detail: "the forge left the diff out as too large" });
      continue;
    }
    if (reviewed >= limits.maxFiles) {
      skipped.push({ path, reason: "too-many-files", detail: `over the limit of ${limits.maxFiles} files per review` });
      continue;
    }
    const bytes = Buffer.byteLength(f.hunks ?? "");
    if (bytes > limits.maxFileDiffBytes) {
      skipped.push({ path, reason: "too-large", detail: `diff of ${bytes} bytes, over the limit of ${limits.maxFileDiffBytes}` });
      continue;
    }
    if (total + bytes > limits.maxTotalDiffBytes) {
      skipped.push({ path, reason: "too-large", detail: `the review already holds ${total} bytes of diff, the limit is ${limits.maxTotalDiffBytes}` });
      continue;
    }
    try {
      kept.push(toFileDiff(f));
    } catch (err) {
      const e = err as Error;
      skipped.push({ path, reason: "truncated-diff", detail: err instanceof InputError ? err.detail : e.message });
      continue;
    }
    total += bytes;
    reviewed++;
  }
  // Back in the forge's order: findings and the summary list files as the forge shows them.
  const order = new Map(files.map((f, i) => [f.newPath ?? f.oldPath ?? "(unnamed)", i]));
  skipped.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
  if (kept.length === 0) return { series: undefined, files: files.length, skipped };
  kept.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));
  const message = revisionMessage(rev, kept);
  const series: Series = {
    id: rev.id,
    title: message.parsedSubject.title,
    revision: rev.revision,
    total: 1,
    rfc: false,
    cover: undefined,
    slots: [message],
    missing: [],
    duplicates: [],
    replies: new Map(),
    changeId: rev.changeId,
    author: rev.author,
    date: rev.date,
  };
  return { series, files: files.length, skipped };
}

/**
 * The Message is built directly rather than through buildMessage: a description is free text
 * (Markdown rules, pasted diffs) and must not be split like a mail body at its first `---`.
 */
function revisionMessage(rev: ForgeRevision, files: readonly FileDiff[]): Message {
  const subject = `[PATCH${rev.revision > 1 ? ` v${rev.revision}` : ""}] ${rev.title.replace(/\s+/g, " ").trim() || "(untitled)"}`;
  const commitMessage = `${rev.title}\n\n${rev.description}`.trimEnd();
  return {
    messageId: rev.id,
    from: rev.author,
    to: [],
    cc: [],
    date: rev.date,
    subject,
    inReplyTo: undefined,
    references: [],
    body: commitMessage,
    source: rev.url,
    kind: "patch",
    parsedSubject: parseSubject(subject),
    commitMessage,
    trailers: parseTrailers(commitMessage),
    notes: rev.notes ?? "",
    files,
    baseCommit: undefined,
    changeId: rev.changeId,
  };
}

const SKIP_WORDS: Record<SkipReason, string> = {
  binary: "binary",
  "too-large": "over the size limits",
  "too-many-files": `over the file limit`,
  "truncated-diff": "with a diff that does not parse",
};

/** What was left out and why, in a few lines a reviewer can read under the summary. */
export function describeSkipped(skipped: readonly SkippedFile[], shown = 10): string[] {
  if (skipped.length === 0) return [];
  const out = [`Not reviewed: ${skipped.length} ${skipped.length === 1 ? "file" : "files"}.`];
  for (const reason of Object.keys(SKIP_WORDS) as SkipReason[]) {
    const these = skipped.filter((s) => s.reason === reason);
    if (these.length === 0) continue;
    const names = these.slice(0, shown).map((s) => `\`${s.path}\``).join(", ");
    const more = these.length > shown ? ` and ${these.length - shown} more` : "";
    const detail = reason === "binary" ? "" : ` (${these[0]!.detail}${these.length > 1 ? ", ..." : ""})`;
    out.push(`- ${these.length} ${SKIP_WORDS[reason]}${detail}: ${names}${more}`);
  }
  return out;
}
