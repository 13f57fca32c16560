import fc from "fast-check";

/**
 * Subjects as lists and tools write them, with the parts kept so a property can say what
 * parseSubject must find: reply prefixes, list tags, the patch bracket (RFC, RESEND, vN, tree
 * names, n/m in any magnitude), then the title.
 */
export interface SubjectSpec {
  readonly replies: readonly string[];
  readonly listTags: readonly string[];
  readonly patchWord: string;
  readonly rfc: boolean;
  readonly resend: boolean;
  readonly version: number | undefined;
  readonly versionForm: "vN" | "PATCHvN";
  readonly numbers: { readonly index: string; readonly total: string } | undefined;
  readonly tree: string | undefined;
  readonly title: string;
  readonly spaces: string;
}

/** Digits of every size: 0, small, a series' usual sizes, 2^32 - 1 and past it, leading zeros. */
export const numberText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 30 }).map(String) },
  { weight: 1, arbitrary: fc.nat({ max: 100_000 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom("0", "00", "007", "4294967295", "4294967296", "9007199254740993", "99999999999999999999", "1e3") },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String) },
);

const word = fc.constantFrom("dma-buf", "drm/prime", "udmabuf", "heaps", "add", "drop", "the", "dma_coherent", "flag", "fix", "v4l2:", "[not", "a]", "Re:", "PATCH", "1/2");
const titleWord = fc.stringMatching(/^[A-Za-z0-9_.:\/-]{1,12}$/);

/** A title that cannot be read as one more prefix: it starts with a word, not a bracket or a `Re:`. */
export const title: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom("dma-buf:", "drm/prime:", "udmabuf:", "media: vb2:", "heaps:"), fc.array(fc.oneof(word, titleWord), { maxLength: 8 }))
  .map(([first, rest]) => [first, ...rest].join(" "));

export const subjectSpec: fc.Arbitrary<SubjectSpec> = fc.record({
  replies: fc.array(fc.constantFrom("Re: ", "RE: ", "re:", "Aw: ", "Fwd: ", "SV: ", "Re[2]: ", "Antw: "), { maxLength: 3 }),
  listTags: fc.array(fc.constantFrom("[Linaro-mm-sig] ", "[dri-devel]", "[Intel-gfx] ", "[ANNOUNCE] "), { maxLength: 2 }),
  patchWord: fc.constantFrom("PATCH", "patch", "Patch"),
  rfc: fc.boolean(),
  resend: fc.boolean(),
  version: fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
  versionForm: fc.constantFrom<"vN" | "PATCHvN">("vN", "PATCHvN"),
  numbers: fc.option(fc.record({ index: numberText, total: numberText }), { nil: undefined }),
  tree: fc.option(fc.constantFrom("drm-misc-next", "net-next", "for-6.9", "next"), { nil: undefined }),
  title,
  spaces: fc.constantFrom(" ", "  ", "\t", " \n "),
});

export function writeSubject(s: SubjectSpec): string {
  const words: string[] = [];
  if (s.rfc) words.push("RFC");
  if (s.resend) words.push("RESEND");
  if (s.version !== undefined && s.versionForm === "PATCHvN") words.push(`${s.patchWord}v${s.version}`);
  else {
    words.push(s.patchWord);
    if (s.version !== undefined) words.push(`v${s.version}`);
  }
  if (s.tree) words.push(s.tree);
  if (s.numbers) words.push(`${s.numbers.index}/${s.numbers.total}`);
  return `${s.replies.join("")}${s.listTags.join("")}[${words.join(s.spaces.trim() === "" ? s.spaces : " ")}] ${s.title}`;
}

/** Anything a Subject header can hold after decoding, weighted toward bracket and number soup. */
export const rawSubject: fc.Arbitrary<string> = fc.oneof(
  subjectSpec.map(writeSubject),
  fc.array(fc.oneof(fc.constantFrom("[", "]", "PATCH", "RFC", "v2", "v", "/", "Re:", " ", ",", "\t", "\n", "-1", "0/0"), numberText, fc.string({ maxLength: 6 })), { maxLength: 20 }).map((p) => p.join("")),
  fc.string({ maxLength: 80, unit: "grapheme" }),
);
