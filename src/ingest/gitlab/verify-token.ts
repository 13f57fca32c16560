import { createHash, timingSafeEqual } from "node:crypto";

/**
 * GitLab sends the webhook's secret token as it is, in `X-Gitlab-Token`. Both sides are hashed
 * first so the comparison takes the same time whatever the length or the first differing byte.
 */
export function verifyGitlabToken(header: string | undefined, secret: string): boolean {
  if (header === undefined || secret === "") return false;
  const a = createHash("sha256").update(header, "utf8").digest();
  const b = createHash("sha256").update(secret, "utf8").digest();
  return timingSafeEqual(a, b);
}
