import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { simpleGit } from "simple-git";
import { listEpochs } from "./reader.js";

export interface FetchResult {
  /** Epochs brought up to date. */
  readonly fetched: readonly string[];
  /** Epochs that did not exist locally before. */
  readonly cloned: readonly string[];
}

/** An epoch's URL under a v2 inbox URL: public-inbox serves both `<inbox>/<n>` and `<inbox>/git/<n>.git`. */
export function epochUrl(remote: string, n: number): string {
  return `${remote.replace(/\/+$/, "")}/git/${n}.git`;
}

async function exists(url: string): Promise<boolean> {
  try {
    await simpleGit().listRemote([url, "HEAD"]);
    return true;
  } catch {
    return false;
  }
}

async function update(dir: string, url: string): Promise<void> {
  // An explicit URL and refspec: the local repository may have been made by public-inbox or by
  // us, with or without an "origin".
  await simpleGit({ baseDir: dir }).raw(["fetch", "--quiet", "--no-tags", url, "+refs/heads/*:refs/heads/*"]);
}

async function clone(url: string, dir: string): Promise<void> {
  mkdirSync(dirname(dir), { recursive: true });
  await simpleGit().mirror(url, dir);
}

/**
 * Bring a mirror up to date from its remote. A remote ending in `.git`, or a local inbox that is
 * a single epoch repository, is one repository; otherwise it is a v2 inbox URL whose epochs are
 * fetched one by one, and the next epoch number is probed so that a new epoch is cloned the
 * poll after public-inbox starts it.
 */
export async function fetchInbox(inbox: string, remote: string): Promise<FetchResult> {
  const fetched: string[] = [];
  const cloned: string[] = [];
  const single = /\.git\/?$/.test(remote) || (existsSync(join(inbox, "HEAD")) && !existsSync(join(inbox, "git")));
  if (single) {
    if (!existsSync(join(inbox, "HEAD"))) {
      await clone(remote, inbox);
      cloned.push("0");
    } else {
      await update(inbox, remote);
      fetched.push("0");
    }
    return { fetched, cloned };
  }
  const local = existsSync(join(inbox, "git")) ? listEpochs(inbox) : [];
  for (const e of local) {
    await update(e.dir, epochUrl(remote, e.index));
    fetched.push(e.name);
  }
  for (let n = local.length > 0 ? local[local.length - 1]!.index + 1 : 0; await exists(epochUrl(remote, n)); n++) {
    await clone(epochUrl(remote, n), join(inbox, "git", `${n}.git`));
    cloned.push(String(n));
  }
  return { fetched, cloned };
}
