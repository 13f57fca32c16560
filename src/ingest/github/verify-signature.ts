import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * GitHub signs each delivery with HMAC-SHA256 of the raw body under the webhook secret, in
 * `X-Hub-Signature-256: sha256=<hex>`. Checked on the raw bytes, before any parsing, in
 * constant time; a missing or malformed header is a wrong signature.
 */
export function verifyGithubSignature(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  if (!header || !/^sha256=[0-9a-f]{64}$/i.test(header)) return false;
  const expected = createHmac("sha256", secret).update(rawBody).digest();
  const given = Buffer.from(header.slice("sha256=".length), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
