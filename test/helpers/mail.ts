import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMbox, splitMbox } from "../../src/ingest/mbox/reader.js";
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

/** Every message among our fixtures, as raw bytes: the corpus the fast readers must agree with mailparser on. */
export function fixtureCorpus(): { source: string; bytes: Buffer }[] {
  const out: { source: string; bytes: Buffer }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(eml|patch|mbox)$/.test(name)) {
        const bytes = readFileSync(path);
        if (isMbox(bytes)) out.push(...splitMbox(bytes, path).map((r) => ({ source: r.source, bytes: r.bytes })));
        else out.push({ source: path, bytes });
      }
    }
  };
  for (const d of ["messages", "series", "broken", "out-of-scope", "model", "rules", "userspace", "feedback"]) walk(fixture(d));
  return out;
}
