/** The typed input errors every edge shares. Each edge maps a reason once, in its own language. */
export type InputReason =
  | "malformed-mime"
  | "not-a-patch"
  | "empty-input"
  | "truncated-diff"
  | "binary-diff"
  | "too-large"
  | "bad-encoding"
  | "unreadable"
  | "bad-signature"
  | "bad-token"
  | "unknown-event"
  | "bad-rule"
  | "bad-config";

export class InputError extends Error {
  constructor(
    readonly reason: InputReason,
    readonly detail: string,
    readonly source?: string /* file path, Message-ID or delivery id */,
  ) {
    super(`${source ? `${source}: ` : ""}${reason}: ${detail}`);
    this.name = "InputError";
  }
}

/** Limits are named constants, checked before any parsing. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;
export const MAX_INPUT_BYTES = 512 * 1024 * 1024;
/** `[PATCH n/m]` with m above this is refused: the largest tree-wide series run to a few hundred. */
export const MAX_SERIES_PATCHES = 1000;
/**
 * Lines of one file's diff (all its hunks) the review parses; a larger file is listed as not
 * reviewed. Parsing is linear, but tree-sitter's WebAssembly memory grows to the largest tree
 * and never shrinks in a long-lived worker.
 */
export const MAX_FILE_DIFF_LINES = 20_000;
