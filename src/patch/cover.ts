/*
 * Cover letters written without `[PATCH 0/N]` (`git send-email --compose` with a plain subject,
 * as the 2022 dma_coherent RFC was sent): a message without a diff and without `Re:`, by the
 * same author, that a numbered patch answers directly. The author check keeps a reviewer's mail
 * that a counter-patch answers from becoming somebody's cover letter. groupSeries (a whole
 * thread) and untaggedCoverFor (the archive read one message at a time) both ask this rule.
 */

/** What the rule reads of the message that may be the cover letter. */
export interface CoverCandidate {
  /** As the message was classified alone: `other`, or `reply` when it answers an earlier thread. */
  readonly kind: string;
  /** The subject starts with `Re:`. */
  readonly isReply: boolean;
  /** The subject carries a `[PATCH ...]` tag. */
  readonly isPatch: boolean;
  /** Sender address. */
  readonly from: string;
}

/** What the rule reads of the numbered patch that answers it directly. */
export interface AnsweringPatch {
  readonly kind: string;
  readonly index: number | undefined;
  readonly total: number | undefined;
  readonly from: string;
}

/** The candidate's half of the rule: a message that could be a cover letter if a patch answers it. */
export function mayBeUntaggedCover(candidate: CoverCandidate): boolean {
  return (candidate.kind === "other" || candidate.kind === "reply") && !candidate.isReply && !candidate.isPatch && candidate.from !== "";
}

export function isUntaggedCover(candidate: CoverCandidate, patch: AnsweringPatch): boolean {
  if (patch.kind !== "patch" || (patch.total ?? 1) < 2 || (patch.index ?? 0) < 1) return false;
  return mayBeUntaggedCover(candidate) && candidate.from.toLowerCase() === patch.from.toLowerCase();
}
