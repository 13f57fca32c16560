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
