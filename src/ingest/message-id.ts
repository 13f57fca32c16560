// Shared by every mail source (mime.ts, public-inbox triage): not a source of its own.
import { createHash } from "node:crypto";

/** A Message-ID or reference without its angle brackets and surrounding blanks: `<a@b>` → `a@b`. */
export function bareId(id: string): string {
  return id.trim().replace(/^<|>$/g, "").trim();
}

/**
 * public-inbox keys every message by Message-ID. One without, or with an empty `<>`, gets a
 * stable id from its bytes: an empty id would be shared by all of them and thread them together.
 */
export function messageIdOf(bare: string | undefined, bytes: Buffer): string {
  return bare || `${createHash("sha1").update(bytes).digest("hex")}@dmabuf-review.invalid`;
}
