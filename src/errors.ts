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
  | "bad-config"
  | "bad-store"
  | "port-unavailable";

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

/** An operating-system error code in words, as a person reads a missing or unreadable path. */
export function errnoText(code: string | undefined): string {
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "a part of the path is not a directory";
    default:
      return code ?? "cannot be read";
  }
}

/**
 * `[PATCH n/m]` with m above this is refused: a slot is allocated per patch. Stable review series
 * reach four digits (`[PATCH 5.16 0073/1039]` on linaro-mm-sig); a count past this is a typo or hostile.
 */
export const MAX_SERIES_PATCHES = 9999;
/**
 * Lines of one file's diff (all its hunks) the review parses; a larger file is listed as not
 * reviewed. Parsing is linear, but tree-sitter's WebAssembly memory grows to the largest tree
 * and never shrinks in a long-lived worker.
 */
export const MAX_FILE_DIFF_LINES = 20_000;
