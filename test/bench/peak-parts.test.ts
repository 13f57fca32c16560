import { describe, expect, it } from "vitest";
import { residentParts, watchPeak } from "../../bench/peak-parts.js";
import { statusMb } from "../../bench/peak-rss.js";

const linux = process.platform === "linux";
const vmRssMb = () => statusMb("VmRSS")!;

describe.skipIf(!linux)("resident memory by kind of mapping", () => {
  it("adds up to what the kernel reports resident, with V8's pages, the malloc arena and the node binary in it", () => {
    const before = vmRssMb();
    const p = residentParts()!;
    const after = vmRssMb();
    expect(p.rssMb).toBeGreaterThan(Math.min(before, after) * 0.9);
    expect(p.rssMb).toBeLessThan(Math.max(before, after) * 1.1);
    expect(p.pages + p.malloc + p.large + p.code + p.binary + p.libraries).toBeCloseTo(p.rssMb, 6);
    for (const part of [p.pages, p.malloc, p.binary, p.libraries]) expect(part).toBeGreaterThan(1);
  });

  it("keeps the parts of the highest point seen, not the last", async () => {
    // Readings as a run might give them: up, a small rise below the step, the top, then down.
    const readings = [100, 150, 152, 180, 120];
    let i = 0;
    const parts = (mb: number) => ({ rssMb: mb, pages: mb / 2, malloc: 0, large: 0, code: 0, binary: mb / 2, libraries: 0 });
    const read = { rss: () => readings[Math.min(i++, readings.length - 1)]!, parts: () => parts(readings[Math.min(i - 1, readings.length - 1)]!) };
    const stop = watchPeak(5, 4, read);
    while (i < readings.length) await new Promise((r) => setTimeout(r, 5));
    expect(stop()?.rssMb).toBe(180);
  });
});
