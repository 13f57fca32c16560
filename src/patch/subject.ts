import { MAX_SERIES_PATCHES } from "../errors.js";
/**
 * A subject parsed the way kernel tooling reads it: list tags, reply prefixes and the
 * bracketed `[PATCH v2 3/5]` part, so `[Linaro-mm-sig] Re: [RFC PATCH drm-misc-next v3 2/7] x`
 * gives revision 3, index 2 of 7, rfc, tree prefix "drm-misc-next", reply.
 */
export interface Subject {
  readonly raw: string;
  /** The subject without list tags and reply prefixes: what `Re: ` is put in front of. */
  readonly clean: string;
  /** The title after the patch brackets, e.g. "dma-buf: add dma_coherent flag". */
  readonly title: string;
  readonly isReply: boolean;
  readonly isPatch: boolean;
  readonly rfc: boolean;
  readonly resend: boolean;
  readonly revision: number;
  readonly index: number | undefined;
  readonly total: number | undefined;
  /** Other words inside the patch brackets: tree names such as "drm-misc-next", "net-next". */
  readonly prefixes: readonly string[];
  readonly listTags: readonly string[];
  /** Set when an `n/m` was ignored: its count is past MAX_SERIES_PATCHES (a series gets a slot per patch). */
  readonly outOfRange?: string;
}

// The limit lives with the others in errors.ts; re-exported where subjects are read.
export { MAX_SERIES_PATCHES };

const REPLY_PREFIX = /^(re|aw|sv|vs|antw|fwd?|odp)\s*(\[\d+\])?\s*:\s*/i;
const BRACKET = /^\[([^\]]*)\]\s*/;
const PATCH_WORDS = /^(patch|rfc|resend|patchv\d+)$/i;

// Whitespace other than a lone space: where collapsing would change anything.
const UNEVEN_SPACE = /[^\S ]|\s\s|^\s|\s$/;

/**
 * Runs of whitespace made one space, ends trimmed. Subjects are nearly always so already and
 * are then returned as they are: this runs on every message of an archive.
 */
export function oneLine(s: string): string {
  return UNEVEN_SPACE.test(s) ? s.replace(/\s+/g, " ").trim() : s;
}

export function parseSubject(raw: string): Subject {
  let rest = oneLine(raw);
  let isReply = false;
  const listTags: string[] = [];
  const prefixes: string[] = [];
  let isPatch = false;
  let rfc = false;
  let resend = false;
  let revision = 1;
  let index: number | undefined;
  let total: number | undefined;
  let clean: string | undefined;
  let outOfRange: string | undefined;

  // Reply prefixes and list tags interleave freely in real archives:
  // "[Linaro-mm-sig] Re: [PATCH 1/3] ..." and "Re: [Linaro-mm-sig] [PATCH] ...".
  for (;;) {
    const reply = REPLY_PREFIX.exec(rest);
    if (reply) {
      if (!/^fwd?/i.test(reply[1] ?? "")) isReply = true;
      rest = rest.slice(reply[0].length);
      continue;
    }
    const bracket = BRACKET.exec(rest);
    if (!bracket) break;
    const words = (bracket[1] ?? "").trim().split(/[\s,]+/).filter(Boolean);
    const patchish = words.some((w) => PATCH_WORDS.test(w));
    if (!patchish) {
      // A tag before any patch bracket is a list tag; after one, a tree or topic word
      // written in its own brackets ("[PATCH][next]").
      if (isPatch) prefixes.push(...words);
      else listTags.push(bracket[1] ?? "");
      rest = rest.slice(bracket[0].length);
      continue;
    }
    if (!isPatch) clean = rest;
    isPatch = true;
    for (const word of words) {
      const num = /^(\d+)\/(\d+)$/.exec(word);
      const ver = /^(?:patch)?v(\d+)$/i.exec(word);
      if (num && Number(num[2]) > MAX_SERIES_PATCHES) outOfRange = `numbered ${word}: more than ${MAX_SERIES_PATCHES} patches`;
      else if (num) {
        index = Number(num[1]);
        total = Number(num[2]);
      } else if (ver) revision = Number(ver[1]);
      else if (/^rfc$/i.test(word)) rfc = true;
      else if (/^resend$/i.test(word)) resend = true;
      else if (/^patch$/i.test(word)) continue;
      else prefixes.push(word);
    }
    rest = rest.slice(bracket[0].length);
  }
  const title = rest.trim();
  return {
    raw,
    clean: (clean ?? title).trim(),
    title,
    isReply,
    isPatch,
    rfc,
    resend,
    revision,
    index,
    total,
    prefixes,
    listTags,
    ...(outOfRange ? { outOfRange } : {}),
  };
}
