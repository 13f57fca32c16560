import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { gitEnv } from "./cat-file.js";
import { listEpochs } from "./reader.js";

/** One message to archive, and when it arrived (the commit's date). */
export interface ArchivedMessage {
  readonly bytes: Buffer;
  readonly time?: Date;
  /** Archive a removal instead: the commit moves `m` to `d`, as `public-inbox-learn rm` does. */
  readonly remove?: boolean;
}

export interface WriteOptions {
  /** Start a new epoch when the last one holds this many commits (public-inbox rolls over by size). */
  readonly perEpoch?: number;
}

function headerOf(bytes: Buffer, name: string): string | undefined {
  const end = bytes.indexOf("\n\n");
  const head = bytes.subarray(0, end < 0 ? Math.min(bytes.length, 8192) : end).toString("utf8").replace(/\r?\n[ \t]+/g, " ");
  return new RegExp(`^${name}:[ \\t]*(.*)$`, "im").exec(head)?.[1]?.trim();
}

function ident(bytes: Buffer): string {
  const from = headerOf(bytes, "From") ?? "";
  const email = /<([^<>\s]+@[^<>\s]+)>/.exec(from)?.[1] ?? /[^\s<>]+@[^\s<>]+/.exec(from)?.[0] ?? "unknown@example.invalid";
  const name = from.replace(/<[^>]*>/, "").replace(/["<>\n]/g, "").trim() || email;
  return `${name} <${email}>`;
}

function commitCount(dir: string): number {
  try {
    return Number(execFileSync("git", ["--git-dir", dir, "rev-list", "--count", "HEAD"], { env: gitEnv(), stdio: ["ignore", "pipe", "ignore"] }).toString().trim());
  } catch {
    return 0;
  }
}

function initEpoch(dir: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync("git", ["init", "--quiet", "--bare", "-b", "master", dir], { env: gitEnv() });
}

/**
 * Append messages to a public-inbox v2 inbox in its exact layout: `git/<n>.git` bare epochs,
 * each commit replacing the single blob `m` with one raw message, the subject as the commit
 * message, the sender as author. Used for the bundled demo inbox, the tests' local archives and
 * the benchmark; written with one `git fast-import` per epoch.
 */
export async function appendToInbox(inbox: string, messages: Iterable<ArchivedMessage>, opts: WriteOptions = {}): Promise<void> {
  const perEpoch = opts.perEpoch ?? Number.POSITIVE_INFINITY;
  let epochs = existsSync(join(inbox, "git")) ? listEpochs(inbox) : [];
  if (epochs.length === 0) {
    initEpoch(join(inbox, "git", "0.git"));
    epochs = listEpochs(inbox);
  }
  let current = epochs[epochs.length - 1]!;
  let count = commitCount(current.dir);
  let batch: ArchivedMessage[] = [];
  const flush = async () => {
    if (batch.length > 0) await fastImport(current.dir, batch, count - batch.length);
    batch = [];
  };
  for (const m of messages) {
    if (count >= perEpoch) {
      await flush();
      const next = join(inbox, "git", `${current.index + 1}.git`);
      initEpoch(next);
      current = { name: String(current.index + 1), index: current.index + 1, dir: next };
      count = 0;
    }
    batch.push(m);
    count++;
  }
  await flush();
}

async function fastImport(dir: string, messages: readonly ArchivedMessage[], existing: number): Promise<void> {
  const proc = spawn("git", ["--git-dir", dir, "fast-import", "--quiet", "--done"], { env: gitEnv(), stdio: ["pipe", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<void>((resolve, reject) => {
    proc.on("error", reject);
    proc.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import failed in ${dir}: ${stderr.trim()}`))));
  });
  const write = (chunk: string | Buffer) =>
    proc.stdin.write(chunk) ? Promise.resolve() : new Promise<void>((resolve) => proc.stdin.once("drain", () => resolve()));
  let first = existing > 0;
  let now = Math.floor(Date.now() / 1000);
  for (const m of messages) {
    const time = m.time ? Math.floor(m.time.getTime() / 1000) : now++;
    const subject = Buffer.from(`${(headerOf(m.bytes, "Subject") ?? "(no subject)").replace(/\n/g, " ")}\n`);
    let cmd = `commit refs/heads/master\nauthor ${ident(m.bytes)} ${time} +0000\ncommitter public-inbox <public-inbox@example.invalid> ${time} +0000\ndata ${subject.length}\n`;
    await write(cmd);
    await write(subject);
    cmd = first ? "from refs/heads/master^0\n" : "";
    first = false;
    if (m.remove) cmd += `D m\nM 100644 inline d\ndata ${m.bytes.length}\n`;
    else cmd += `M 100644 inline m\ndata ${m.bytes.length}\n`;
    await write(cmd);
    await write(m.bytes);
    await write("\n");
  }
  await write("done\n");
  proc.stdin.end();
  await done;
}
