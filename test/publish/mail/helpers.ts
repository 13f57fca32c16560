import { readFileSync } from "node:fs";
import { loadReviewDeps, type ReviewDeps } from "../../../src/channels/context.js";
import { loadMessages } from "../../../src/ingest/mbox/messages.js";
import { reviewMessages, type Review } from "../../../src/review/review.js";
import { fixture } from "../../helpers/mail.js";

let deps: Promise<ReviewDeps> | undefined;

/** A fixture reviewed as the mail channel reviews it: rules, parser and the coherency model. */
export async function reviewFixture(rel: string): Promise<Review> {
  deps ??= loadReviewDeps();
  const d = await deps;
  const loaded = await loadMessages(fixture(rel));
  return reviewMessages(loaded.messages, loaded.skipped, d.rules, d.parser, d.model);
}

export function header(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf("\n\n")).replace(/\r/g, "").replace(/\n[ \t]+/g, " ");
  return new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1]?.trim();
}

export function bodyOf(raw: string): string {
  const s = raw.replace(/\r\n/g, "\n");
  return s.slice(s.indexOf("\n\n") + 2);
}

export const read = (path: string) => readFileSync(path, "utf8");
