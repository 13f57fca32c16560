import { createHash } from "node:crypto";

/**
 * A finding's identity that survives rebases and v2 line shifts: what the rule is about, not
 * where the line landed. Whitespace is ignored so a reindent is not a new finding.
 */
export function fingerprint(parts: { rule: string; file: string; function: string | undefined; code: string }): string {
  const code = parts.code.replace(/\s+/g, " ").trim();
  return createHash("sha256")
    .update(`${parts.rule}\0${parts.file}\0${parts.function ?? ""}\0${code}`)
    .digest("hex")
    .slice(0, 16);
}
