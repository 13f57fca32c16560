import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** Answers on their way; `discard()` when they will not be read after all (a pass stopped early). */
export interface Pending extends AsyncIterable<BlobResult> {
  discard(): void;
}

/** One answer of `git cat-file --batch`, in the order the names were asked. */
export type BlobResult =
  | { readonly kind: "blob"; readonly name: string; readonly oid: string; readonly bytes: Buffer }
  /** Bigger than the limit: its bytes were read past, never held. */
  | { readonly kind: "too-large"; readonly name: string; readonly oid: string; readonly size: number }
  /** Not there (a public-inbox deletion commit has no `m`), or not a blob. */
  | { readonly kind: "missing"; readonly name: string; readonly detail: string };

interface Body {
  readonly buf: Buffer | undefined;
  readonly size: number;
  got: number;
  readonly oid: string;
  readonly name: string;
  readonly type: string;
}

interface Request {
  readonly names: readonly string[];
  next: number;
  readonly results: BlobResult[];
  wake: (() => void) | undefined;
  error: Error | undefined;
  done: boolean;
  /** The reader stopped early: answers still in flight are dropped. */
  discard: boolean;
}

// Results waiting for their reader are capped so that a slow consumer pauses git instead of
// filling memory: the pipe's own buffer then holds git back. Each blob is an allocation of its
// own, and the arena that held a larger backlog stays that large for the rest of the run.
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

/** A minimal environment: npm injects EDITOR and friends, which git must not see or need. */
export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", LANG: "C", GIT_TERMINAL_PROMPT: "0" };
  if (process.env["HOME"]) env["HOME"] = process.env["HOME"];
  return env;
}

/**
 * Runs its arguments with a roomy stdout. Node hands a child a socket for its stdout, whose
 * send buffer (about 200 KB) holds some 3 ms of cat-file's output: while the reading thread
 * runs a batch's transaction, git stops, and the two never overlap. A send buffer of 4 MB (the
 * kernel caps it at net.core.wmem_max) lets git go on meanwhile. Node cannot set a socket
 * option on a child's end, so perl does, then becomes git; perl is a dependency of git on
 * Debian. Whatever becomes of the option (no Socket module, stdout not a socket), git is run.
 */
const ROOMY_STDOUT =
  "eval { require Socket; setsockopt(STDOUT, Socket::SOL_SOCKET(), Socket::SO_SNDBUF(), 4 << 20) }; exec { $ARGV[0] } @ARGV or die qq(exec $ARGV[0]: $!\\n);";

const perlAt = new Map<string, string | null>();

function findPerl(path: string): string | null {
  let found = perlAt.get(path);
  if (found !== undefined) return found;
  found = null;
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, "perl"), constants.X_OK);
      found = join(dir, "perl");
      break;
    } catch {
      // not here
    }
  }
  perlAt.set(path, found);
  return found;
}

/** `file args` with a 4 MB send buffer on its stdout, when perl is there to set it. */
export function withRoomyStdout(file: string, args: readonly string[], env: NodeJS.ProcessEnv): { file: string; args: string[] } {
  const perl = findPerl(env["PATH"] ?? "");
  return perl ? { file: perl, args: ["-e", ROOMY_STDOUT, file, ...args] } : { file, args: [...args] };
}

let version: readonly [number, number] | undefined;

/** git's version (major, minor), asked once; [0, 0] when it cannot be told. */
export function gitVersion(): readonly [number, number] {
  if (!version) {
    try {
      const v = /(\d+)\.(\d+)/.exec(execFileSync("git", ["version"], { env: gitEnv(), encoding: "utf8" }));
      version = v ? [Number(v[1]), Number(v[2])] : [0, 0];
    } catch {
      version = [0, 0];
    }
  }
  return version;
}

/** Whether this git is `major.minor` or later. */
export function gitAtLeast(major: number, minor: number): boolean {
  const [a, b] = gitVersion();
  return a > major || (a === major && b >= minor);
}

/**
 * One long-lived `git cat-file --batch` for one repository. Requests are pipelined: every name
 * of a page is written at once and the answers are parsed as they stream back, which is two
 * orders of magnitude faster than a process per message (stack notes, section 3). Blobs over
 * `maxBytes` are skipped as they stream past, so a 20 MB message costs no memory.
 */
export class CatFile {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private readonly queue: Request[] = [];
  private buffered = 0;
  private paused = false;
  // Parser state over stdout chunks.
  private header: Buffer[] = [];
  private body: Body | undefined;
  private needNewline = false;
  private stderr = "";
  private failure: Error | undefined;
  private commands = false;

  constructor(
    readonly gitDir: string,
    private readonly maxBytes: number,
    /** Plain `--batch` or buffered `--batch-command`; by default the latter where git has it. */
    private readonly mode: "batch" | "batch-command" | "auto" = "auto",
  ) {}

  private start(): ChildProcessWithoutNullStreams {
    if (this.proc) return this.proc;
    const env = gitEnv();
    // `--batch-command` and its `flush` came with git 2.36. Plain `--batch` makes three writes
    // per object (header, contents, a newline); buffered commands flushed once per request make
    // two, the newline going out with the next header.
    this.commands = this.mode === "auto" ? gitAtLeast(2, 36) : this.mode === "batch-command";
    const mode = this.commands ? ["--batch-command", "--buffer"] : ["--batch"];
    const cmd = withRoomyStdout("git", ["--git-dir", this.gitDir, "cat-file", ...mode], env);
    const proc = spawn(cmd.file, cmd.args, { env, stdio: ["pipe", "pipe", "pipe"] });
    proc.stdout.on("data", (chunk: Buffer) => this.onData(chunk));
    proc.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-2000);
    });
    proc.stdin.on("error", () => {}); // reported through 'close' below
    proc.on("error", (err) => this.fail(err));
    proc.on("close", (code, signal) => {
      this.proc = undefined;
      if (this.queue.some((r) => !r.done)) this.fail(new Error(`git cat-file exited (${code ?? signal}) in ${this.gitDir}: ${this.stderr.trim() || "no message"}`));
    });
    this.proc = proc;
    return proc;
  }

  private fail(err: Error): void {
    this.failure = err;
    for (const r of this.queue) {
      r.error = err;
      r.wake?.();
    }
    this.queue.length = 0;
    this.header = [];
    this.body = undefined;
    this.needNewline = false;
  }

  /**
   * Ask for `names` (object ids, `<tree>:m`, `<commit>:m`); the answers come back in the same order. The
   * names are written at once, so a caller can ask for the next page before reading this one.
   */
  read(names: readonly string[]): Pending {
    const req: Request = { names, next: 0, results: [], wake: undefined, error: undefined, done: names.length === 0, discard: false };
    if (!req.done) {
      this.failure = undefined; // a dead process is restarted for the next request
      this.queue.push(req);
      const proc = this.start();
      proc.stdin.write(this.commands ? `contents ${names.join("\ncontents ")}\nflush\n` : `${names.join("\n")}\n`);
    }
    const self = this;
    return {
      discard() {
        if (req.done || req.error) return;
        for (const r of req.results) if (r.kind === "blob") self.release(r.bytes.length);
        req.results.length = 0;
        req.discard = true;
      },
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            const r = req.results.shift();
            if (r) {
              if (r.kind === "blob") self.release(r.bytes.length);
              yield r;
              continue;
            }
            if (req.error) throw req.error;
            if (req.done) return;
            await new Promise<void>((resolve) => (req.wake = resolve));
            req.wake = undefined;
          }
        } finally {
          if (!req.done && !req.error) {
            for (const r of req.results) if (r.kind === "blob") self.release(r.bytes.length);
            req.results.length = 0;
            req.discard = true;
          }
        }
      },
    };
  }

  private release(bytes: number): void {
    this.buffered -= bytes;
    if (this.paused && this.buffered < HIGH_WATER_BYTES / 2) {
      this.paused = false;
      this.proc?.stdout.resume();
    }
  }

  private deliver(result: BlobResult): void {
    const req = this.queue[0];
    if (!req) return;
    req.next++;
    if (!req.discard) {
      req.results.push(result);
      if (result.kind === "blob") {
        this.buffered += result.bytes.length;
        if (!this.paused && this.buffered > HIGH_WATER_BYTES) {
          this.paused = true;
          this.proc?.stdout.pause();
        }
      }
    }
    if (req.next === req.names.length) {
      req.done = true;
      this.queue.shift();
    }
    req.wake?.();
  }

  private onData(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.needNewline) {
        at++; // the LF git writes after every object
        this.needNewline = false;
        continue;
      }
      if (this.body) {
        const b = this.body;
        const take = Math.min(b.size - b.got, chunk.length - at);
        if (b.buf) chunk.copy(b.buf, b.got, at, at + take);
        b.got += take;
        at += take;
        if (b.got === b.size) this.finish(b);
        continue;
      }
      const nl = chunk.indexOf(10, at);
      if (nl < 0) {
        this.header.push(chunk.subarray(at));
        return;
      }
      let line: string;
      if (this.header.length === 0) line = chunk.toString("latin1", at, nl);
      else {
        this.header.push(chunk.subarray(at, nl));
        line = Buffer.concat(this.header).toString("latin1");
        this.header = [];
      }
      at = nl + 1;
      at += this.onHeader(line, chunk, at);
    }
  }

  /** The object a header line announces; returns how much of `chunk` (from `at`) it took at once. */
  private onHeader(line: string, chunk: Buffer, at: number): number {
    const req = this.queue[0];
    const name = req?.names[req.next] ?? "?";
    const m = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(line);
    if (!m) {
      // "<name> missing", "<name> ambiguous"
      this.deliver({ kind: "missing", name, detail: line.slice(line.lastIndexOf(" ") + 1) });
      return 0;
    }
    const size = Number(m[3]);
    const keep = m[2] === "blob" && size <= this.maxBytes;
    if (keep && at + size <= chunk.length) {
      // All of it arrived in this chunk, as most messages do once git is ahead of the reader: a
      // view of the chunk, not a copy (allocating and copying every blob was about a tenth of
      // the reading thread's time in a backfill).
      this.finish({ buf: chunk.subarray(at, at + size), size, got: size, oid: m[1]!, name, type: m[2]! });
      return size;
    }
    const body: Body = { buf: keep ? Buffer.allocUnsafe(size) : undefined, size, got: 0, oid: m[1]!, name, type: m[2]! };
    if (size === 0) this.finish(body);
    else this.body = body;
    return 0;
  }

  private finish(b: Body): void {
    this.body = undefined;
    this.needNewline = true;
    if (b.type !== "blob") this.deliver({ kind: "missing", name: b.name, detail: `a ${b.type}, not a blob` });
    else if (b.buf) this.deliver({ kind: "blob", name: b.name, oid: b.oid, bytes: b.buf });
    else this.deliver({ kind: "too-large", name: b.name, oid: b.oid, size: b.size });
  }

  async close(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    await new Promise<void>((resolve) => {
      proc.once("close", () => resolve());
      proc.stdin.end();
      setTimeout(() => proc.kill("SIGKILL"), 5000).unref();
    });
  }
}
