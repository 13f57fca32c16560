import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { MessageFields } from "../../src/patch/message.js";

/** Absolute path of a file under fixtures/. */
export function fixture(rel: string): string {
  return fileURLToPath(new URL(`../../fixtures/${rel}`, import.meta.url));
}

/**
 * The body of an 8bit fixture mail or format-patch file, without MIME decoding: everything
 * after the first blank line. For tests of the pure patch code.
 */
export function fixtureBody(rel: string): string {
  const text = readFileSync(fixture(rel), "utf8");
  const at = text.indexOf("\n\n");
  return at < 0 ? "" : text.slice(at + 2);
}

/** MessageFields as an ingest source would deliver them, with defaults for what a test does not care about. */
export function fields(over: Partial<MessageFields> & Pick<MessageFields, "messageId" | "subject">): MessageFields {
  return {
    from: { name: "Jane Dev", email: "jane.dev@example.org" },
    to: [],
    cc: [],
    date: new Date("2026-11-09T10:00:00Z"),
    inReplyTo: undefined,
    references: [],
    body: "",
    source: "test",
    ...over,
  };
}
