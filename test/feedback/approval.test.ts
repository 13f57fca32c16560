import { describe, expect, it } from "vitest";
import { trackSeries } from "../../src/feedback/track.js";
import { groupSeries } from "../../src/patch/series.js";
import { mail, type MailSpec } from "./build.js";
import { trackDeps } from "./fixture.js";

const SAM = { name: "Sam Okafor", email: "sam@example.net" };
const CORE = "drivers/dma-buf/dma-buf.c";

const V1: MailSpec[] = [
  { id: "a1", subject: "[PATCH] dma-buf: gate", changes: [{ path: CORE, line: "int gate;" }] },
  // An approval in words, without a tag: what a forge review says far more often than a trailer.
  { id: "r1", subject: "Re: [PATCH] dma-buf: gate", parent: "a1", from: SAM, day: 1, body: "Looks good to me.\n" },
];

async function verdicts(lines: readonly string[]): Promise<string[]> {
  const v2: MailSpec = { id: "a2", subject: "[PATCH v2] dma-buf: gate", day: 5, changes: lines.map((line) => ({ path: CORE, line })) };
  const all = groupSeries([...V1, v2].map(mail)).series;
  const r = trackSeries(all.find((s) => s.revision === 2)!, all, await trackDeps());
  if (r.kind !== "tracked") throw new Error(r.reason);
  return r.tracker.items.map((i) => `${i.id} ${i.kind} ${i.verdict}: ${i.evidence.join(" | ")}`);
}

describe("an approval without a tag", () => {
  it("still holds on an unchanged patch", async () => {
    expect(await verdicts(["int gate;"])).toEqual(["1.1 ack addressed: approval given in <r1> on v1 1/1; v2 1/1 is unchanged"]);
  });

  it("needs a fresh look once the patch changed substantially", async () => {
    const [line] = await verdicts(["bool gate;", "int a;", "int b;", "int c;"]);
    expect(line).toMatch(/^1\.1 ack unclear: approval given in <r1> on v1 1\/1; the patch changed substantially since \| interdiff v1 1\/1 → v2 1\/1: 4 lines only in the new patch, 1 only in the old/);
  });
});
