import type { Failure, KnownBug } from "./harness.js";

/** Every property of the fuzz suite, by the name its test and its known bugs share. */
export const PROPERTY = {
  mimeRead: "mime: parseMime and buildMessage refuse bad mail with an InputError, never a crash",
  triage: "triage: a raw archive message is triaged or skipped with a reason, never a crash",
  plainMime: "plain-mime: parsePlainMime reads a message exactly as parseMime does",
  mboxSplit: "mbox: splitMbox gives back every message an mbox was written from",
  mboxLoad: "mbox: loadMessages reads or skips every message, one bad message never stops the rest",
  subject: "subject: parseSubject reads any subject into a consistent Subject",
  subjectRoundTrip: "subject: the parts of a written [PATCH] subject are read back",
  series: "series: groupSeries places every message once, in bounded slots",
  diffRoundTrip: "diff: a well-formed unified diff is read back as written",
  diffDamaged: "diff: a damaged diff is refused with an InputError or read consistently",
  hunks: "hunks: classifyFile reports every touch inside the diff, the same way twice, in time",
  largeHunk: "hunks: a message up to the size limit is read and its hunks classified within ten seconds",
  review: "review: a whole series is reviewed in time, every finding names its rule and a line of the diff",
  webhooks: "webhooks: a verified delivery with any body or headers gets a 2xx or a 4xx naming the reason, and the server stays up",
  ruleFiles: "rules: a broken rule file is refused naming the file, a loaded one matches without throwing",
} as const;
export type PropertyName = (typeof PROPERTY)[keyof typeof PROPERTY];

/** A failure thrown from one place with a message that matches. */
export const thrownAt = (frame: RegExp, message: RegExp) => (f: Failure) => f.kind === "threw" && frame.test(f.signature) && message.test(f.signature);

interface Entry extends KnownBug<any> {
  readonly property: PropertyName;
}

/**
 * Bugs the suite finds that another change is fixing, in a file this suite does not own. While
 * an entry stands, its property counts the cases that hit it instead of failing; once the fix
 * lands, the recorded counterexample passes and the property fails until the entry is removed.
 */
export const KNOWN_BUGS: readonly Entry[] = [];

export function knownBugs(property: PropertyName): KnownBug<any>[] {
  return KNOWN_BUGS.filter((b) => b.property === property);
}
