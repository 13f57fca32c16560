import { loadCatalog } from "../analysis/catalog/load.js";
import { loadRules } from "../analysis/rules/load.js";
import { SEVERITY_RANK, type Severity } from "../analysis/rules/schema.js";
import { InputError } from "../errors.js";
import { loadMessages, type Loaded } from "../ingest/mbox/messages.js";
import { CParser } from "../patch/c-source.js";
import { stdoutTarget, type OutputFormat } from "../publish/stdout.js";
import { reviewMessages, worstSeverity, type Review } from "../review/review.js";
import { startProgress } from "./progress.js";

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
  const source = path === "-" ? "stdin" : path;
  // A large mbox takes seconds to decode and more to review: both are shown on stderr.
  const progress = startProgress({ label: `review ${source}`, unit: "messages", stream: io.stderr });
  let loaded: Loaded;
  let review: Review | undefined;
  try {
    const read = (done: number, total: number) => progress.update({ phase: "reading", done, total });
    const [rules, catalog, parser, messages] = await Promise.all([loadRules(opts.rules), loadCatalog(), CParser.load(), loadMessages(path, io.stdin, read)]);
    loaded = messages;
    if (loaded.messages.length > 0) {
      const step = (done: number, total: number) => progress.update({ phase: "reviewing", done, total, unit: "series" });
      review = reviewMessages(loaded.messages, loaded.skipped, rules, parser, { catalog, cache: new Map() }, step);
    }
  } finally {
    progress.done();
  }
  for (const s of loaded.skipped) {
    io.stderr.write(`dmabuf-review: skipped ${s.source}${s.messageId ? ` <${s.messageId}>` : ""}: ${s.reason}: ${s.detail}\n`);
  }
  // Each skip is already on stderr with its reason; the closing line only counts them.
  if (!review) throw new InputError("not-a-patch", `none of the ${loaded.skipped.length} messages could be reviewed`, source);
  if (review.series.length === 0 && review.orphanReplies.length === 0 && loaded.skipped.length === 0) {
    const onlyOther = loaded.messages.every((m) => m.kind === "other");
    if (onlyOther) throw new InputError("not-a-patch", "no patch, cover letter or reply in the input", source);
  }
  await stdoutTarget(opts.format, io.stdout).publish(review, { channel: "stdout", id: path });
  const worst = worstSeverity(review);
  return worst !== undefined && SEVERITY_RANK[worst] >= SEVERITY_RANK[opts.failOn] ? 1 : 0;
}
