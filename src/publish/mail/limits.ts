import type { Person } from "../../patch/message.js";

/*
 * The hard limits of outgoing mail. They are constants on purpose: the sending policy in the
 * configuration may ask for less, never for more, so no setting can turn the bot into a mass
 * mailer by mistake. What a cap holds back stays pending in the ledger and goes out later.
 */

/** Addresses on one mail, To and Cc together (the list counts as one). */
export const MAX_RECIPIENTS = 25;
/** Mails delivered in one pass over a mirror (one run of the CLI). */
export const MAX_MAILS_PER_PASS = 50;
/** Mails delivered in any hour, counted from the store, so a restart does not reset it. */
export const MAX_MAILS_PER_HOUR = 100;

/** `people` in order, each address once (case aside), without those in `drop` or empty ones. */
export function distinct(people: readonly Person[], drop: readonly string[]): Person[] {
  const seen = new Set(drop.map((e) => e.toLowerCase()));
  const out: Person[] = [];
  for (const p of people) {
    const k = p.email.toLowerCase();
    if (!k || seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out;
}

/**
 * The recipients a mail may have: never the bot itself, each address once, at most
 * MAX_RECIPIENTS, To first, then Cc in the order given (the caller puts the list and the
 * people most concerned first). `leftOut` says how many the cap removed.
 */
export function capRecipients(
  to: readonly Person[],
  cc: readonly Person[],
  bot: string,
): { to: Person[]; cc: Person[]; leftOut: number } {
  const all = distinct([...to, ...cc], [bot]);
  const kept = all.slice(0, MAX_RECIPIENTS);
  const wasTo = new Set(to.map((p) => p.email.toLowerCase()));
  const inTo = kept.filter((p) => wasTo.has(p.email.toLowerCase()));
  return { to: inTo, cc: kept.filter((p) => !inTo.includes(p)), leftOut: all.length - kept.length };
}
