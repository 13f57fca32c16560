import { loadCatalog } from "../analysis/catalog/load.js";
import { loadRules } from "../analysis/rules/load.js";
import { SEVERITY_RANK, type Severity } from "../analysis/rules/schema.js";
import { InputError } from "../errors.js";
import { loadMessages } from "../ingest/mbox/messages.js";
import { CParser } from "../patch/c-source.js";
import { stdoutTarget, type OutputFormat } from "../publish/stdout.js";
import { reviewMessages, worstSeverity } from "../review/review.js";

export interface ReviewOptions {
  readonly format: OutputFormat;
  readonly failOn: Severity;
  readonly rules?: string;
}

export interface Io {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** `dmabuf-review review <path|->`: exit 0 clean, 1 findings at or above --fail-on, 2 unusable input. */
export async function reviewCommand(path: string, opts: ReviewOptions, io: Io): Promise<number> {
  const [rules, catalog, parser, loaded] = await Promise.all([
    loadRules(opts.rules),
    loadCatalog(),
    CParser.load(),
    loadMessages(path, io.stdin),
  ]);
  for (const s of loaded.skipped) {
    io.stderr.write(`dmabuf-review: skipped ${s.source}${s.messageId ? ` <${s.messageId}>` : ""}: ${s.reason}: ${s.detail}\n`);
  }
  if (loaded.messages.length === 0) {
    // Each skip is already on stderr with its reason; the closing line only counts them.
    const source = path === "-" ? "stdin" : path;
    throw new InputError("not-a-patch", `none of the ${loaded.skipped.length} messages could be reviewed`, source);
  }
  const review = reviewMessages(loaded.messages, loaded.skipped, rules, parser, { catalog, cache: new Map() });
  if (review.series.length === 0 && review.orphanReplies.length === 0 && loaded.skipped.length === 0) {
    const onlyOther = loaded.messages.every((m) => m.kind === "other");
    if (onlyOther) throw new InputError("not-a-patch", "no patch, cover letter or reply in the input", path === "-" ? "stdin" : path);
  }
  await stdoutTarget(opts.format, io.stdout).publish(review, { channel: "stdout", id: path });
  const worst = worstSeverity(review);
  return worst !== undefined && SEVERITY_RANK[worst] >= SEVERITY_RANK[opts.failOn] ? 1 : 0;
}
