import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A public-inbox v2 archive built with plain git plumbing, the way public-inbox's own V2Writable
 * lays it out: `git/<n>.git` bare epochs on `refs/heads/master`, one commit per message whose
 * tree holds the single blob `m`; a removal commit holds `d` instead. Independent of
 * src/ingest/public-inbox/writer.ts, so that the reader is checked against the layout and not
 * against our own writer.
 */
export class PeerInbox {
  readonly dir: string;
  private time = Date.UTC(2026, 10, 1) / 1000;

  constructor(dir?: string) {
    this.dir = dir ?? join(mkdtempSync(join(tmpdir(), "dmabuf-review-inbox-")), "inbox");
  }

  epochDir(n: number): string {
    return join(this.dir, "git", `${n}.git`);
  }

  private git(epoch: number, args: string[], input?: string | Buffer, env: Record<string, string> = {}): string {
    return execFileSync("git", ["--git-dir", this.epochDir(epoch), ...args], {
      input,
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: tmpdir(), ...env },
      stdio: ["pipe", "pipe", "pipe"],
      maxBuffer: 1 << 30,
    }).toString();
  }

  private ensure(epoch: number): void {
    const d = this.epochDir(epoch);
    if (existsSync(join(d, "HEAD"))) return;
    mkdirSync(d, { recursive: true });
    execFileSync("git", ["init", "--quiet", "--bare", "-b", "master", d]);
  }

  private commit(epoch: number, path: "m" | "d", bytes: Buffer, subject: string, time?: Date): string {
    this.ensure(epoch);
    const blob = this.git(epoch, ["hash-object", "-w", "--stdin"], bytes).trim();
    const tree = this.git(epoch, ["mktree"], `100644 blob ${blob}\t${path}\n`).trim();
    let parent: string | undefined;
    try {
      parent = this.git(epoch, ["rev-parse", "--verify", "-q", "refs/heads/master"]).trim();
    } catch {
      parent = undefined;
    }
    const t = time ? Math.floor(time.getTime() / 1000) : ++this.time;
    const date = `${t} +0000`;
    const commit = this.git(epoch, ["commit-tree", tree, ...(parent ? ["-p", parent] : [])], `${subject}\n`, {
      GIT_AUTHOR_NAME: "A U Thor",
      GIT_AUTHOR_EMAIL: "author@example.org",
      GIT_AUTHOR_DATE: date,
      GIT_COMMITTER_NAME: "public-inbox",
      GIT_COMMITTER_EMAIL: "public-inbox@example.org",
      GIT_COMMITTER_DATE: date,
    }).trim();
    this.git(epoch, ["update-ref", "refs/heads/master", commit]);
    return commit;
  }

  /** Archive one message in `epoch`; returns the commit. */
  add(bytes: Buffer | string, opts: { epoch?: number; time?: Date } = {}): string {
    const b = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
    const subject = /^Subject: (.*)$/im.exec(b.subarray(0, 4096).toString("utf8"))?.[1] ?? "(no subject)";
    return this.commit(opts.epoch ?? 0, "m", b, subject, opts.time);
  }

  /** What `public-inbox-learn rm` writes: the message moves from `m` to `d`. */
  remove(bytes: Buffer | string, opts: { epoch?: number } = {}): string {
    return this.commit(opts.epoch ?? 0, "d", typeof bytes === "string" ? Buffer.from(bytes) : bytes, "rm");
  }
}

/** A plain-text mail as a list archives it. */
export function mail(h: { id: string; subject: string; from?: string; to?: string; cc?: string; inReplyTo?: string; references?: string[]; date?: string }, body: string, extra: string[] = []): string {
  const lines = [
    `From: ${h.from ?? "Jane Dev <jane.dev@example.org>"}`,
    `To: ${h.to ?? "dri-devel@lists.freedesktop.org"}`,
    ...(h.cc ? [`Cc: ${h.cc}`] : []),
    `Subject: ${h.subject}`,
    `Date: ${h.date ?? "Mon, 02 Nov 2026 10:00:00 +0000"}`,
    `Message-ID: <${h.id}>`,
    ...(h.inReplyTo ? [`In-Reply-To: <${h.inReplyTo}>`] : []),
    ...(h.references ? [`References: ${h.references.map((r) => `<${r}>`).join(" ")}`] : []),
    "MIME-Version: 1.0",
    ...extra,
    ...(extra.some((e) => /^content-type:/i.test(e)) ? [] : ["Content-Type: text/plain; charset=UTF-8", "Content-Transfer-Encoding: 8bit"]),
  ];
  return `${lines.join("\n")}\n\n${body}`;
}
