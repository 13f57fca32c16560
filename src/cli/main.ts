import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { InputError } from "../errors.js";
import { backfillCommand } from "./backfill.js";
import { reviewCommand, type Io } from "./review.js";
import { trackCommand } from "./track.js";
import { watchCommand } from "./watch.js";

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
    return pkg.version;
  } catch {
    return JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")).version as string;
  }
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
    });
  program
    .command("review")
    .description("review a patch, an mbox, a directory of messages, or - for stdin")
    .argument("<path>", "patch file, .eml, mbox, directory, or - for stdin")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .addOption(new Option("--fail-on <severity>", "exit 1 when a finding is at or above").choices(["info", "warning", "error"]).default("warning"))
    .option("--rules <dir>", "rules directory (default: the bundled rules/)", (v: string) => {
      if (!v) throw new InvalidArgumentError("empty path");
      return v;
    })
    .action(async (path: string, opts: { format: "text" | "json"; failOn: "info" | "warning" | "error"; rules?: string }) => {
      code = await reviewCommand(path, opts, io);
    });
  program
    .command("track")
    .description("track review feedback on earlier revisions of a series into its latest one")
    .argument("<path>", "mbox, directory of messages, public-inbox, or - for stdin, holding the revisions and their replies")
    .option("--series <id>", "only this series: Message-ID of a revision's cover letter or first patch, or its change-id")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (path: string, opts: { format: "text" | "json"; series?: string }) => {
      code = await trackCommand(path, opts, io);
    });
  program
    .command("watch")
    .description("run the bot: follow the configured mirrors and serve the forge webhooks (what npm start runs)")
    .option("--config <file>", "configuration file (default: embedded defaults with a demo inbox)")
    .option("--once", "one pass over every mirror, then exit")
    .action(async (opts: { config?: string; once?: boolean }) => {
      code = await watchCommand(opts);
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
    .addOption(new Option("--format <format>", "summary format").choices(["text", "json"]).default("text"))
    .action(async (inbox: string, opts: { config?: string; db?: string; outbox?: string; since?: Date; limit?: number; reply?: boolean; format: "text" | "json" }) => {
      code = await backfillCommand(inbox, opts, io);
    });
  try {
    await program.parseAsync(argv as string[], { from: "user" });
    return code;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
    if (typeof e.code === "string" && e.code.startsWith("commander.")) return 2;
    if (err instanceof InputError) {
      io.stderr.write(`dmabuf-review: ${err.message}\n`);
      return 2;
    }
    io.stderr.write(`dmabuf-review: internal error: ${(err as Error).message}\n`);
    if (process.env["DMABUF_REVIEW_DEBUG"]) io.stderr.write(`${(err as Error).stack ?? ""}\n`);
    return 3;
  }
}

const isEntry = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isEntry) {
  main(process.argv.slice(2)).then((c) => {
    process.exitCode = c;
  });
}
