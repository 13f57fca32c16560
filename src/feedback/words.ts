/**
 * Words for comparing what people wrote: a reviewer's point, a summary restating it, a
 * changelog line answering it. Short function words carry nothing; kernel identifiers
 * (dma_coherent, dev_is_dma_coherent) are kept whole because they name the code.
 */

import { BoundedMap } from "../review/bounded-map.js";

const STOP = new Set(
  "about above after again against also although among because been before being below between both cannot could does doing down during each either else even every from further have having here into itself just like more most much must need needs only other ought over same should some such than that their them then there these they this those through under until upon very what when where which while whom whose will with would your yours youre dont isnt wont cant thats theres".split(
    " ",
  ),
);

// The same bodies, quotes and changelog lines are compared again for every item, step and
// reply of a chain: their words are read once. Shared sets, hence readonly.
// Keyed by whole texts: bounded by their bytes too.
const KEPT = 1024;
const byBytes = { bytes: 1 << 20, weigh: (text: string, words: ReadonlySet<string>) => text.length + 48 * words.size };
const keptWords = new BoundedMap<string, ReadonlySet<string>>(KEPT, [], byBytes);
const keptIdentifiers = new BoundedMap<string, ReadonlySet<string>>(KEPT, [], byBytes);

/** Lower-case content words of at least four letters, light plural stripping; identifiers whole. */
export function contentWords(text: string): ReadonlySet<string> {
  return keptWords.keep(text, readWords);
}

function readWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.toLowerCase().match(/[a-z_][a-z0-9_]*(?:-[a-z0-9_]+)*/g) ?? []) {
    // Only a word ending in "s" can lose a plural ending.
    const w = raw.includes("_") || !raw.endsWith("s") ? raw : raw.replace(/(?<=[a-z]{3})(es|s)$/, "");
    if (w.length < 4 && !w.includes("_")) continue;
    if (STOP.has(w)) continue;
    out.add(w);
  }
  return out;
}

/** Identifiers as code spells them: with an underscore, or called. */
export function identifiers(text: string): ReadonlySet<string> {
  return keptIdentifiers.keep(text, readIdentifiers);
}

/** A character of \w: an ASCII letter, digit or underscore. */
const isWordChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95 || (c >= 97 && c <= 122);
const CALLED = /\s*\(/y;

/**
 * Words of letters, digits and underscores not starting with a digit, read whole (a word never
 * starts inside another): those with an underscore or followed by `(`, lower-cased.
 */
function readIdentifiers(text: string): Set<string> {
  const out = new Set<string>();
  let i = 0;
  while (i < text.length) {
    if (!isWordChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    let j = i + 1;
    while (j < text.length && isWordChar(text.charCodeAt(j))) j++;
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) {
      const id = text.slice(i, j);
      CALLED.lastIndex = j;
      if (id.includes("_") || CALLED.test(text)) out.add(id.toLowerCase());
    }
    i = j;
  }
  return out;
}

export function overlap(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let n = 0;
  for (const w of a) if (b.has(w)) n++;
  return n;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  const inter = overlap(a, b);
  const union = a.size + b.size - inter;
  return union === 0 ? 0 : inter / union;
}

/** Sentences of a paragraph; "i.MX", "e.g." and "dma_buf.dma_coherent" do not end one. */
export function sentences(text: string): string[] {
  const flat = text.replace(/\s*\n\s*/g, " ").trim();
  if (flat === "") return [];
  return flat
    .split(/(?<=[.?!])\s+(?=[A-Z0-9"'(`])/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

// One name is looked for in many texts: its patterns are built once.
const namePatterns = new BoundedMap<string, readonly RegExp[]>(1024);

/** A name as people write it in a summary: "Priya", "Raman", "Priya Raman". */
export function mentions(text: string, person: { readonly name: string }): boolean {
  const patterns = namePatterns.keep(person.name, (name) =>
    name
      .split(/\s+/)
      .filter((p) => p.length >= 3)
      .map((p) => new RegExp(`\\b${p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`, "i")),
  );
  return patterns.some((re) => re.test(text));
}
