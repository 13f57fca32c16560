import type { Ledger, PostKey } from "../../state/ledger.js";
import type { Receipt } from "../target.js";
import { claim } from "./plan.js";

/**
 * The tracker comment of one change on one forge: found again by the marker in its body,
 * created once, edited in place. Locations are the forge's own ids (`issue-comment:123`,
 * `note:5012`), as the ledger keeps them.
 */
export interface TrackerComments {
  /** "github-tracker", "gitlab-tracker". */
  readonly target: string;
  /** The comment carrying the tracker marker, if the change has one. */
  find(): Promise<{ readonly location: string; readonly body: string } | undefined>;
  /** Posts the body; returns its location. */
  create(body: string): Promise<string>;
  /** Replaces the body; false when the comment is gone. */
  edit(location: string, body: string): Promise<boolean>;
}

/** The ledger's key for it: one tracker per thread. */
export const TRACKER = "tracker";

/**
 * Keep a body within what the forge accepts (GitHub: 65536 characters). The table comes first;
 * what is cut is the end of the evidence, and the reader is told.
 */
export function fitBody(body: string, max: number): string {
  if (body.length <= max) return body;
  const note = `\n\n(evidence cut at ${max} characters)\n\n</details>\n`;
  const cut = body.slice(0, max - note.length);
  return `${cut.slice(0, Math.max(0, cut.lastIndexOf("\n")))}${note}`;
}

/**
 * Write the tracker: edit the comment the ledger points at; without a record, look on the forge
 * first (a lost store, or a crash after the post) and adopt what is there; only then post,
 * claimed in the ledger beforehand so two deliveries cannot both post. A tracker a person
 * deleted is not put back.
 */
export async function publishTracker(comments: TrackerComments, body: string, ledger: Ledger, key: PostKey): Promise<Receipt> {
  const target = comments.target;
  const row = ledger.get(key);
  const receipt = (location: string | undefined, reason?: string): Receipt => ({ target, ok: true, what: TRACKER, ...(location ? { location } : {}), ...(reason ? { reason } : {}) });
  if (row?.state === "posted" && row.location) {
    try {
      return (await comments.edit(row.location, body)) ? receipt(row.location, "edited") : receipt(row.location, "deleted on the forge; not posted again");
    } catch (err) {
      return { target, ok: false, what: TRACKER, location: row.location, reason: `edit tracker: ${(err as Error).message}` };
    }
  }
  let claimed = false;
  try {
    const found = await comments.find();
    if (found) {
      if (!row) ledger.intend(key, target, "read back from the forge");
      ledger.posted(key, found.location);
      if (found.body === body) return receipt(found.location, "unchanged");
      return (await comments.edit(found.location, body)) ? receipt(found.location, "edited") : receipt(found.location, "deleted on the forge; not posted again");
    }
    claim(ledger, key, target);
    claimed = true;
    const location = await comments.create(body);
    ledger.posted(key, location);
    return receipt(location);
  } catch (err) {
    const reason = `tracker: ${(err as Error).message}`;
    // A post that may not have landed is tried again by the next event; the forge is read first.
    if (claimed) ledger.failed(key, reason);
    return { target, ok: false, what: TRACKER, reason };
  }
}
