import type { Finding } from "../../review/finding.js";
import type { Ledger, PostKey } from "../../state/ledger.js";

/** A finding of ours already on the forge, read back from the marker in its body. */
export interface OnForge {
  readonly fingerprint: string;
  /** The forge's id for the comment or thread. */
  readonly id: string;
  readonly resolved: boolean;
  readonly body: string;
}

/** What one publish does: post the new, leave the known alone, resolve the gone, reopen the returned. */
export interface Plan {
  readonly post: readonly Finding[];
  readonly keep: readonly Finding[];
  readonly reopen: readonly { readonly finding: Finding; readonly on: OnForge }[];
  readonly resolve: readonly OnForge[];
}

/**
 * The forge is the record of what was said; the ledger is the record of what was meant to be
 * said. A finding on the forge is never posted again (and the ledger learns of it, so a lost
 * store is rebuilt); one the ledger calls posted but the forge no longer shows was deleted by a
 * person, and stays deleted; one pending or failed in the ledger and absent on the forge is
 * posted. Findings are unique by fingerprint: the same code twice in one function is one remark.
 */
export function planPublish(findings: readonly Finding[], onForge: readonly OnForge[], ledger: Ledger, key: (what: string) => PostKey, target: string): Plan {
  const current = new Map<string, Finding>();
  for (const f of findings) if (!current.has(f.fingerprint)) current.set(f.fingerprint, f);
  const forge = new Map<string, OnForge>();
  for (const o of onForge) if (!forge.has(o.fingerprint)) forge.set(o.fingerprint, o);
  const post: Finding[] = [];
  const keep: Finding[] = [];
  const reopen: { finding: Finding; on: OnForge }[] = [];
  for (const [fp, f] of current) {
    const on = forge.get(fp);
    if (on) {
      const row = ledger.get(key(fp));
      if (!row) {
        ledger.intend(key(fp), target, "read back from the forge");
        ledger.posted(key(fp), on.id);
      } else if (row.state !== "posted") ledger.posted(key(fp), on.id);
      if (on.resolved) reopen.push({ finding: f, on });
      else keep.push(f);
      continue;
    }
    if (ledger.get(key(fp))?.state === "posted") keep.push(f);
    else post.push(f);
  }
  const resolve = [...forge.values()].filter((o) => !current.has(o.fingerprint) && !o.resolved);
  return { post, keep, reopen, resolve };
}

/**
 * Claim a post in the ledger before it is sent. A failed earlier attempt is forgotten and tried
 * again; a pending one (a crash between intent and receipt) is sent again, since the forge, read
 * just before, does not show it.
 */
export function claim(ledger: Ledger, key: PostKey, target: string): void {
  const row = ledger.get(key);
  if (row?.state === "failed") ledger.retry(key);
  if (!row || row.state === "failed") ledger.intend(key, target);
}

/** "3 new, 2 no longer found (resolved), 1 found again, 4 unchanged": what a new push changed. */
export function changeLine(plan: Plan, posted: number): string {
  const parts = [`${posted} new`];
  if (plan.resolve.length > 0) parts.push(`${plan.resolve.length} no longer found (resolved)`);
  if (plan.reopen.length > 0) parts.push(`${plan.reopen.length} found again (reopened)`);
  parts.push(`${plan.keep.length} unchanged`);
  return parts.join(", ");
}
