import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { errnoText, InputError } from "../errors.js";
// Each command's module is imported when it runs: `review` of one patch loads nothing of the service.
import type { Io } from "./review.js";

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
    return pkg.version;
  } catch {
    return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version as string;
  }
}

const COMMON_ENV: readonly (readonly [string, string])[] = [
  ["DMABUF_REVIEW_PROGRESS", "bar, lines or off (default: a bar when stderr is a terminal, else lines)"],
  ["DMABUF_REVIEW_PROGRESS_SECONDS", "seconds between progress lines when not on a terminal (default 5; 0: every step)"],
  ["DMABUF_REVIEW_DEBUG", "set: an internal error also prints its stack trace"],
  ["DMABUF_REVIEW_CACHE", "where parsed rules and model searches are kept between runs (default ~/.cache/dmabuf-review; off: none)"],
  ["XDG_CACHE_HOME", "the user's cache directory, when DMABUF_REVIEW_CACHE is not set"],
];
const LOG_ENV: readonly (readonly [string, string])[] = [
  ["LOG_LEVEL", "fatal, error, warn, info, debug, trace or silent"],
  ["LOG_FORMAT", "json or pretty (default: pretty when stderr is a terminal, else json lines); logs go to stderr"],
];
const MAIL_ENV: readonly (readonly [string, string])[] = [
  ["DMABUF_REVIEW_FROM", "the bot's From address when the configuration sets none"],
  ["DMABUF_REVIEW_SMTP_PASSWORD", "the SMTP password (never in the configuration file)"],
  ["DMABUF_REVIEW_PATCHWORK_TOKEN", "the patchwork API token, needed when a mirror sets patchwork"],
  ["DMABUF_REVIEW_URL", "the service's public base URL when the configuration sets no public-url"],
];
const FORGE_ENV: readonly (readonly [string, string])[] = [
  ["HOST, PORT", "where the HTTP server listens (default 127.0.0.1:3000; the configuration's http: wins)"],
  ["APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET", "the GitHub App; the GitHub channel is off without them"],
  ["GHE_HOST, GHE_PROTOCOL", "a GitHub Enterprise host instead of github.com"],
  ["GITLAB_URL, GITLAB_TOKEN, GITLAB_WEBHOOK_SECRET", "the GitLab instance; the GitLab channel is off without them"],
];

const EXIT_RUN = "  2  unusable input, a bad option or configuration: one line on stderr naming the file\n  3  a failure while running (the store, an archive, an internal error): one line on stderr";

/** The part of a command's --help after its options: environment, exit status, an example. */
function helpTail(env: readonly (readonly [string, string])[], exits: string, examples: readonly string[]): string {
  const width = Math.max(...env.map(([name]) => name.length));
  return [
    "",
    "Environment:",
    ...env.map(([name, what]) => `  ${name.padEnd(width)}  ${what}`),
    "",
    "Exit status:",
    exits,
    "",
    examples.length === 1 ? "Example:" : "Examples:",
    ...examples.map((e) => `  $ ${e}`),
    "",
  ].join("\n");
}

const BUILTIN_ERRORS = new Set(["Error", "TypeError", "RangeError", "ReferenceError", "SyntaxError", "EvalError", "URIError", "AggregateError"]);

/**
 * One line for the user and the exit status for any error that reaches the top. Input problems
 * are theirs to fix (2); a typed error (a class of its own: the store, an archive) says what
 * failed and where (3); anything else is our bug, said so (3).
 */
export function describeFailure(err: unknown): { line: string; code: number } {
  if (err instanceof InputError) {
    // "unreadable" adds nothing to "no such file" or "permission denied".
    const line = err.reason === "unreadable" && err.source ? `${err.source}: ${err.detail}` : err.message;
    return { line, code: 2 };
  }
  const e = err as Partial<NodeJS.ErrnoException> & { file?: unknown };
  if (err instanceof Error && typeof e.code === "string" && /^E[A-Z]+$/.test(e.code) && typeof e.path === "string") {
    return { line: `${e.path}: ${errnoText(e.code)}`, code: 2 };
  }
  if (err instanceof Error && !BUILTIN_ERRORS.has(err.name)) {
    const where = [e.path, e.file].find((v): v is string => typeof v === "string" && v !== "" && !err.message.includes(v));
    return { line: `${where ? `${where}: ` : ""}${err.message.split("\n")[0]}`, code: 3 };
  }
  return { line: `internal error: ${err instanceof Error ? err.message : String(err)}`, code: 3 };
}

/** Runs the CLI and returns its exit code; never lets a stack trace reach the user. */
export async function main(argv: readonly string[], io: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let code = 0;
  const program = new Command()
    .name("dmabuf-review")
    .description("Review Linux dma-buf patches for cache-coherency hazards, false positives and userspace regressions.")
    .version(version())
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .addHelpText(
      "after",
      helpTail([...LOG_ENV, ...COMMON_ENV], `  0  success\n  1  review: a finding at or above --fail-on\n${EXIT_RUN}`, [
        "dmabuf-review review 0001-dma-buf-add-dma-coherent.patch",
        "dmabuf-review help track",
      ]),
    );
  program
    .command("review")
    .description("review a patch, a series, an mbox (or .mbox.gz), a directory of messages, or - for stdin")
    .argument("<path>", "patch file, .eml, mbox, .mbox.gz, directory of .patch/.eml/.mbox files, or - for stdin")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addOption(new Option("--fail-on <severity>", "exit 1 when a finding is at or above").choices(["info", "warning", "error"]).default("warning"))
    .option("--rules <dir>", "rules directory (default: the bundled rules/)", (v: string) => {
      if (!v) throw new InvalidArgumentError("empty path");
      return v;
    })
    .addHelpText(
      "after",
      helpTail(COMMON_ENV, `  0  no finding at or above --fail-on\n  1  a finding at or above --fail-on\n${EXIT_RUN}`, [
        "git format-patch -3 --stdout | dmabuf-review review - --format json",
        "b4 am -o - 20221020121316.3946-1-christian.koenig@amd.com | dmabuf-review review -",
        "dmabuf-review review t.mbox.gz --fail-on error",
      ]),
    )
    .action(async (path: string, opts: { format: "text" | "json"; failOn: "info" | "warning" | "error"; rules?: string }) => {
      code = await (await import("./review.js")).reviewCommand(path, opts, io);
    });
  program
    .command("track")
    .description("track review feedback on earlier revisions of a series into its latest one")
    .argument("<path>", "mbox, .mbox.gz, directory of messages, public-inbox, or - for stdin, holding the revisions and their replies")
    .option("--series <id>", "only this series: Message-ID of a revision's cover letter or first patch, or its change-id")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      helpTail(COMMON_ENV, `  0  the trackers (or "no earlier revision") printed\n${EXIT_RUN}`, [
        "dmabuf-review track fixtures/feedback/dma-coherent/v1-v2.mbox",
        "dmabuf-review track /srv/lore/linaro-mm-sig --series 20221020121316.3946-1-christian.koenig@amd.com",
      ]),
    )
    .action(async (path: string, opts: { format: "text" | "json"; series?: string }) => {
      code = await (await import("./track.js")).trackCommand(path, opts, io);
    });
  program
    .command("check")
    .description("a b4 review check command: one message on stdin, a JSON array of check results on stdout")
    .option("--series", "report on the whole series the message belongs to (b4's review-series-check-cmd)")
    .option("--thread <path>", "the rest of the thread (mbox, directory of messages, .mbox.gz); b4's cached thread is read on its own")
    .option("--url <base>", "the service's public base URL, for a link to the review page (default: $DMABUF_REVIEW_URL)")
    .option("--rules <dir>", "rules directory (default: the bundled rules/)")
    .addHelpText(
      "after",
      helpTail([["DMABUF_REVIEW_URL", "the service's public base URL when --url is not given"], ["B4_TRACKING_FILE", "set by b4: its tracking JSON, whose thread-blob holds the series"], ...COMMON_ENV], "  0  a result printed, also for a message that cannot be reviewed (a fail result naming the reason)\n  2  unusable input: a bad option or --rules directory, one line on stderr\n  3  a failure while running (an internal error): one line on stderr", [
        "dmabuf-review check --url https://review.example.org < 0001-dma-buf-add-dma_coherent-flag.patch",
        "git config --add b4.review-perpatch-check-cmd 'dmabuf-review check'",
        "git config --add b4.review-series-check-cmd 'dmabuf-review check --series'",
      ]),
    )
    .action(async (opts: { series?: boolean; thread?: string; url?: string; rules?: string }) => {
      const url = opts.url ?? process.env["DMABUF_REVIEW_URL"];
      code = await (await import("./check.js")).checkCommand({ ...opts, ...(url ? { url } : {}) }, io);
    });
  program
    .command("watch")
    .description("run the bot: follow the configured mirrors and serve the forge webhooks (what npm start runs)")
    .option("--config <file>", "configuration file (default: embedded defaults with a demo inbox)")
    .option("--once", "one pass over every mirror, then exit")
    .addHelpText(
      "after",
      helpTail([...LOG_ENV, ...COMMON_ENV, ...MAIL_ENV, ...FORGE_ENV], `  0  stopped by SIGINT or SIGTERM, or --once done\n${EXIT_RUN}`, [
        "LOG_LEVEL=debug dmabuf-review watch --config /etc/dmabuf-review.yaml --once",
      ]),
    )
    .action(async (opts: { config?: string; once?: boolean }) => {
      code = await (await import("./watch.js")).watchCommand(opts);
    });
  program
    .command("backfill")
    .description("read a public-inbox archive from its cursor to its head: record, review, and reply only with --reply")
    .argument("<inbox>", "public-inbox v2 inbox directory (git/0.git, ...) or one epoch repository")
    .option("--config <file>", "configuration file (default: embedded defaults)")
    .option("--db <file>", "SQLite store (default: <data-dir>/state.db)")
    .option("--outbox <dir>", "where replies go with --reply and outbox delivery (default: <data-dir>/outbox)")
    .option("--since <date>", "only messages archived since this date (YYYY-MM-DD or ISO 8601)", (v: string) => {
      const d = new Date(v);
      if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`not a date: ${v}`);
      return d;
    })
    .option("--limit <n>", "read at most n messages", (v: string) => {
      if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`not a count: ${v}`);
      return Number(v);
    })
    .option("--reply", "send the replies the reviews earn (default: record and review only)")
    .option("--dry-run <dir>", "send nothing: write what the sending policy would send (.eml files, report.txt) into <dir>, from a store of its own there")
    .addOption(new Option("--format <format>", "summary format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      helpTail([...LOG_ENV, ...COMMON_ENV, ...MAIL_ENV], `  0  the archive read to its head (skipped messages are counted, not failures)\n${EXIT_RUN}`, [
        "dmabuf-review backfill /srv/lore/linaro-mm-sig --db lms.db --since 2022-01-01 --format json",
      ]),
    )
    .action(async (inbox: string, opts: { config?: string; db?: string; outbox?: string; since?: Date; limit?: number; reply?: boolean; format: "text" | "json"; dryRun?: string }) => {
      code = await (await import("./backfill.js")).backfillCommand(inbox, opts, io);
    });
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return code;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
    if (typeof e.code === "string" && e.code.startsWith("commander.")) return 2;
    const failure = describeFailure(err);
    io.stderr.write(`dmabuf-review: ${failure.line}\n`);
    if (failure.code === 3 && process.env["DMABUF_REVIEW_DEBUG"]) io.stderr.write(`${(err as Error).stack ?? ""}\n`);
    return failure.code;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  main(process.argv.slice(2)).then((c) => {
    process.exitCode = c;
  });
}
