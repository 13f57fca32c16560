import type { Db } from "../state/db.js";

/*
 * What a list's maintainers read before enabling the bot: every mail it would send over an
 * archive, counted by kind, month and thread, with its recipients, subject and first finding.
 */

/** One mail as the report reads it: its bytes and the SMTP recipients. */
export interface ReportedMail {
  readonly raw: string;
  readonly recipients: number;
}

export interface MailFacts {
  readonly kind: "reply" | "summary" | "tracker" | "tracker follow-up";
  readonly subject: string;
  readonly recipients: number;
  /** The thread (its root's Message-ID) and the month (YYYY-MM) of the message it answers. */
  readonly thread: string;
  readonly month: string;
  /** YYYY-MM-DD of the message it answers: the day the daily cap counts it on. */
  readonly day: string;
  readonly first: string;
}

function header(raw: string, name: string): string {
  const head = raw.slice(0, raw.indexOf("\n\n")).replace(/\r/g, "").replace(/\n[ \t]+/g, " ");
  return new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1]?.trim() ?? "";
}

/** The first line the bot wrote: past the attribution, the quotes and the elisions. */
function firstSaid(raw: string): string {
  const body = raw.slice(raw.indexOf("\n\n") + 2).replace(/\r/g, "");
  const lines = body.split("\n");
  const at = /wrote:$/.test(lines[0] ?? "") ? 1 : 0;
  for (const l of lines.slice(at)) {
    const t = l.trim();
    if (t === "" || t.startsWith(">") || t === "[...]") continue;
    return t.length > 100 ? `${t.slice(0, 97)}...` : t;
  }
  return "";
}

/** Facts of each mail, its thread and month looked up in the store by the message it answers. */
export function mailFacts(mails: readonly ReportedMail[], db: Db): MailFacts[] {
  const row = db.prepare("SELECT thread, date, arrived_at FROM messages WHERE message_id = ?");
  return mails.map((m) => {
    const what = header(m.raw, "X-Dmabuf-Review").split(";")[0]!;
    const kind = what === "summary" ? "summary" : what === "tracker" ? "tracker" : what.startsWith("tracker:") ? "tracker follow-up" : "reply";
    const parent = header(m.raw, "In-Reply-To").replace(/^<|>$/g, "");
    const r = row.get(parent) as { thread: string | null; date: string | null; arrived_at: number | null } | undefined;
    const when = r?.date ?? (r?.arrived_at ? new Date(r.arrived_at * 1000).toISOString() : "");
    return { kind, subject: header(m.raw, "Subject"), recipients: m.recipients, thread: r?.thread ?? parent, month: when.slice(0, 7) || "unknown", day: when.slice(0, 10) || "unknown", first: firstSaid(m.raw) };
  });
}

function count<T>(xs: readonly T[], key: (x: T) => string): [string, number][] {
  const by = new Map<string, number>();
  for (const x of xs) by.set(key(x), (by.get(key(x)) ?? 0) + 1);
  return [...by];
}

/** Mails past a daily cap, had each gone out on the day of the message it answers: they wait a day or more. */
export function pastDailyCap(facts: readonly MailFacts[], perDay: number): { mails: number; days: number } {
  const over = count(facts, (f) => f.day).filter(([, n]) => n > perDay);
  return { mails: over.reduce((n, [, k]) => n + k - perDay, 0), days: over.length };
}

/** The report as text: totals, kinds, months, recipients, the largest threads, then every mail. */
export function renderReport(title: string, facts: readonly MailFacts[], notes: readonly string[]): string {
  const out = [title, ...notes.map((n) => `  ${n}`), "", `mails: ${facts.length}`];
  out.push("by kind:", ...count(facts, (f) => f.kind).sort((a, b) => b[1] - a[1]).map(([k, n]) => `  ${k.padEnd(18)} ${n}`));
  const r = facts.map((f) => f.recipients).sort((a, b) => a - b);
  const q = (p: number) => (r.length === 0 ? 0 : r[Math.min(r.length - 1, Math.floor(p * r.length))]!);
  out.push(`recipients per mail: median ${q(0.5)}, 90th percentile ${q(0.9)}, max ${r[r.length - 1] ?? 0}`);
  out.push("  distribution:", ...count(facts, (f) => String(f.recipients)).sort((a, b) => Number(a[0]) - Number(b[0])).map(([k, n]) => `    ${k.padStart(3)} recipients: ${n}`));
  out.push("by month:", ...count(facts, (f) => f.month).sort().map(([k, n]) => `  ${k} ${n}`));
  const threads = count(facts, (f) => f.thread).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  out.push(`threads mailed: ${threads.length}; the largest:`, ...threads.slice(0, 10).map(([t, n]) => `  ${String(n).padStart(3)} <${t}>`));
  out.push("", "every mail (kind, recipients, subject, first finding):");
  for (const f of facts) out.push(`  [${f.kind}, ${f.recipients}] ${f.subject}`, `      ${f.first}`);
  return `${out.join("\n")}\n`;
}
