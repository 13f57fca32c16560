import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";
import { InputError, MAX_MESSAGE_BYTES } from "../../errors.js";
import { CatFile, gitAtLeast, gitEnv, type BlobResult } from "./cat-file.js";

/** One epoch of a public-inbox v2 inbox: `git/<n>.git`, a bare repository, one commit a message. */
export interface Epoch {
  /** "0", "1", ...: the cursor key. */
  readonly name: string;
  readonly index: number;
  readonly dir: string;
}

/** A commit of an epoch, in archive order. `time` is the committer date: when it was archived. */
export interface ArchiveCommit {
  readonly commit: string;
  readonly time: number;
  /** Its tree, when the listing gave it: the message is then read as `<tree>:m`. */
  readonly tree?: string;
}

/** What one commit holds, once read. */
export type ArchiveEntry =
  | { readonly kind: "message"; readonly commit: ArchiveCommit; readonly oid: string; readonly bytes: Buffer }
  | { readonly kind: "too-large"; readonly commit: ArchiveCommit; readonly oid: string; readonly size: number }
  /** public-inbox removed a message (spam, `public-inbox-learn rm`): the commit moves `m` to `d`. */
  | { readonly kind: "deleted"; readonly commit: ArchiveCommit }
  | { readonly kind: "unreadable"; readonly commit: ArchiveCommit; readonly detail: string };

function isGitDir(dir: string): boolean {
  return existsSync(join(dir, "HEAD")) && existsSync(join(dir, "objects"));
}

/**
 * The epochs of an inbox, oldest first: a v2 inbox directory (`git/0.git`, `git/1.git`, ...),
 * or a single epoch repository given directly. Read again on every poll, so an epoch that
 * appeared since (public-inbox rolls over to a new one at about 1 GB) is picked up.
 */
export function listEpochs(inbox: string): Epoch[] {
  const dir = resolve(inbox);
  const gitDir = join(dir, "git");
  if (existsSync(gitDir) && statSync(gitDir).isDirectory()) {
    return readdirSync(gitDir)
      .flatMap((name) => {
        const m = /^(\d+)\.git$/.exec(name);
        return m ? [{ name: m[1]!, index: Number(m[1]), dir: join(gitDir, name) }] : [];
      })
      .sort((a, b) => a.index - b.index);
  }
  if (isGitDir(dir)) {
    const m = /^(\d+)\.git$/.exec(basename(dir));
    return [{ name: m ? m[1]! : "0", index: m ? Number(m[1]) : 0, dir }];
  }
  if (!existsSync(dir)) throw new InputError("unreadable", "no such directory", inbox);
  throw new InputError("unreadable", "not a public-inbox v2 inbox (no git/<n>.git) nor an epoch repository", inbox);
}

/**
 * The commits of one listing, kept as the text git printed ("<time> <commit> <tree>", or
 * "<time> <commit>" from an older git) and cut into pages on demand.
 */
export class CommitList {
  private at = 0;
  constructor(
    private readonly text: string,
    readonly count: number,
  ) {}

  /** The next `size` commits, oldest first; empty when the listing is used up. */
  next(size: number): ArchiveCommit[] {
    const out: ArchiveCommit[] = [];
    while (out.length < size && this.at < this.text.length) {
      let nl = this.text.indexOf("\n", this.at);
      if (nl < 0) nl = this.text.length;
      const line = this.text.slice(this.at, nl);
      this.at = nl + 1;
      const [time, commit, tree] = line.split(" ");
      if (time && commit) out.push(tree ? { commit, time: Number(time), tree } : { commit, time: Number(time) });
    }
    return out;
  }
}

/**
 * Reads one epoch: simple-git lists what arrived since the cursor; one long-lived
 * `git cat-file --batch` reads the messages. History is followed by first parent, as
 * public-inbox writes it.
 */
export class EpochReader {
  private readonly git: SimpleGit;
  private readonly cat: CatFile;
  // A second one for looking messages up by id (a thread read again for review): it must not
  // queue behind the page of the archive that is being read ahead on the first.
  private readonly lookup: CatFile;

  constructor(
    readonly epoch: Epoch,
    maxBytes = MAX_MESSAGE_BYTES,
  ) {
    // The minimal environment, not process.env (npm puts EDITOR in it). GIT_FLUSH=0: writing
    // into a pipe, rev-list flushes after every commit unless told not to, a write per commit
    // (60,000 for an epoch: a third of the listing's time). simple-git passes GIT_* variables
    // only when they are named.
    const env = { ...gitEnv(), GIT_FLUSH: "0" };
    this.git = simpleGit({ baseDir: epoch.dir, maxConcurrentProcesses: 2, allowEnvironment: Object.keys(env) }).env(env);
    this.cat = new CatFile(epoch.dir, maxBytes);
    this.lookup = new CatFile(epoch.dir, maxBytes);
  }

  /** The tip, or undefined for an epoch with no commit yet. A tip whose objects are missing is returned: reading it fails, loudly. */
  async head(): Promise<string | undefined> {
    try {
      return (await this.git.raw(["rev-parse", "--verify", "-q", "HEAD"])).trim() || undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Commits after `after` (all when undefined) up to HEAD, oldest first, optionally only those
   * archived since `since`. The listing is one line per commit (93 bytes: a few MB for a
   * whole epoch, which public-inbox caps in size); the messages are read a page at a time.
   * rev-list parses every commit it walks, so printing each one's tree costs it nothing, and
   * cat-file then resolves `<tree>:m` without reading the commit again (resolving 60,000 names
   * took it about a quarter less time than `<commit>:m`). `--no-commit-header` came with git
   * 2.33; before it, only the time is printed and cat-file resolves `<commit>:m`.
   */
  async list(after: string | undefined, since?: Date): Promise<CommitList> {
    const head = await this.head();
    if (!head || head === after) return new CommitList("", 0);
    const args = ["rev-list", "--first-parent", "--reverse", ...(gitAtLeast(2, 33) ? ["--no-commit-header", "--format=%ct %H %T"] : ["--timestamp"])];
    if (since) args.push(`--since=${Math.floor(since.getTime() / 1000)}`);
    args.push(after ? `${after}..${head}` : head);
    const text = await this.git.raw(args);
    let count = 0;
    for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) count++;
    return new CommitList(text, count);
  }

  /** True when `commit` is in this epoch (a cursor from a rewritten epoch is not). */
  async has(commit: string): Promise<boolean> {
    try {
      await this.git.raw(["cat-file", "-e", `${commit}^{commit}`]);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Read the message of each commit, in order. `<tree>:m` is resolved by cat-file itself; a
   * commit without `m` is a deletion when it has `d`, otherwise something we cannot read. The
   * request is written at once, so the next page can be asked for while this one is processed.
   */
  read(commits: readonly ArchiveCommit[]): AsyncIterable<ArchiveEntry> & { discard(): void } {
    const results = this.cat.read(commits.map((c) => `${c.tree ?? c.commit}:m`));
    const self = this;
    return {
      discard: () => results.discard(),
      async *[Symbol.asyncIterator]() {
        let i = 0;
        for await (const r of results) {
          const commit = commits[i++]!;
          if (r.kind === "blob") yield { kind: "message", commit, oid: r.oid, bytes: r.bytes } as const;
          else if (r.kind === "too-large") yield { kind: "too-large", commit, oid: r.oid, size: r.size } as const;
          else yield await self.probeDeleted(commit); // rare: worth a second process
        }
      },
    };
  }

  private async probeDeleted(commit: ArchiveCommit): Promise<ArchiveEntry> {
    // On the lookup process: the reading one has the next page queued.
    for await (const r of this.lookup.read([`${commit.commit}:d`])) {
      if (r.kind !== "missing") return { kind: "deleted", commit };
    }
    return { kind: "unreadable", commit, detail: `commit ${commit.commit} holds no message (no m, no d)` };
  }

  /** Read blobs by object id (a thread loaded again for review). */
  blobs(oids: readonly string[]): AsyncIterable<BlobResult> {
    return this.lookup.read(oids);
  }

  async close(): Promise<void> {
    await Promise.all([this.cat.close(), this.lookup.close()]);
  }
}
