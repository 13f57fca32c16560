import type { Review } from "../review/review.js";

/** Where a review is posted: a mail thread, a forge object, or nowhere in particular (stdout). */
export interface ThreadRef {
  readonly channel: string;
  /** Message-ID of the thread root, MR/PR identifier, ... */
  readonly id: string;
}

export interface Receipt {
  readonly target: string;
  readonly ok: boolean;
  /** What was posted (a finding fingerprint, "summary"), and where it landed. */
  readonly what: string;
  readonly location?: string;
  readonly reason?: string;
}

export interface PublishTarget {
  /** "smtp", "outbox", "gitlab-discussions", "github-review", "stdout", ... */
  readonly name: string;
  /** Posts what is not yet posted. A refused post is a receipt with a reason, not a throw. */
  publish(review: Review, thread: ThreadRef): Promise<Receipt[]>;
}
