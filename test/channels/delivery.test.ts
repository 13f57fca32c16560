import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChannelStats, DeliveryEnvelope, DeliveryGate, Serial, type Outcome, type Work } from "../../src/channels/delivery.js";
import { Store } from "../../src/state/store.js";

/** The envelope on its own: a real store, a channel that only says what to do. */
describe("the delivery envelope every forge channel goes through", () => {
  let store: Store;
  let counters: ChannelStats;
  let envelope: DeliveryEnvelope;
  let lines: Record<string, unknown>[];

  beforeEach(() => {
    store = Store.open(":memory:");
    counters = new ChannelStats();
    lines = [];
    const log = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    envelope = new DeliveryEnvelope("forge", { log, counters, serial: new Serial(), deliveries: new DeliveryGate(store) });
  });
  afterEach(() => store.close());

  const outcomeOf = (id: string) => (store.db.prepare("SELECT outcome FROM deliveries WHERE delivery_id = ?").pluck().get(id) as string | null | undefined) ?? undefined;
  const work = (what: Work["what"], run: () => Promise<Outcome>, thread = "o/r#1"): Work => ({ thread, what, run });

  it("runs a delivery once, records its outcome, and answers a re-delivery as a duplicate", async () => {
    let runs = 0;
    const w = work("review", async () => (runs++, { kind: "posted", detail: "1 posted" }));
    expect(await envelope.deliver("d1", () => ({ kind: "work", work: w }))).toMatchObject({ kind: "posted", what: "review", thread: "o/r#1" });
    expect(await envelope.deliver("d1", () => ({ kind: "work", work: w }))).toMatchObject({ kind: "duplicate", detail: "d1" });
    expect(runs).toBe(1);
    expect(outcomeOf("d1")).toBe("posted: 1 posted");
    expect(counters).toMatchObject({ reviewed: 1, duplicates: 1, inFlight: 0 });
    expect(lines.map((l) => [l["msg"], l["delivery"]])).toEqual([
      ["forge: reviewed", "d1"],
      ["forge: delivery already handled, nothing posted", "d1"],
    ]);
  });

  it("records a throw as failed, and lets the re-delivery of a failed delivery run again", async () => {
    let fail = true;
    const w = work("review", async () => {
      if (fail) throw new Error("forge away");
      return { kind: "posted", detail: "done" };
    });
    expect(await envelope.deliver("d2", () => ({ kind: "work", work: w }))).toMatchObject({ kind: "failed", detail: "forge away" });
    expect(outcomeOf("d2")).toBe("failed: forge away");
    fail = false;
    expect(await envelope.deliver("d2", () => ({ kind: "work", work: w }))).toMatchObject({ kind: "posted" });
    expect(counters).toMatchObject({ failed: 1, reviewed: 1, duplicates: 0 });
  });

  it("claims nothing for a malformed, ignored or skipped delivery, and says why", async () => {
    expect(await envelope.deliver("m", () => ({ kind: "malformed", reason: "unknown-event", detail: "number missing" }))).toEqual({ kind: "malformed", reason: "unknown-event", detail: "number missing" });
    expect(await envelope.deliver("i", () => ({ kind: "ignore", reason: "ping is not reviewed", fields: { event: "ping" } }))).toEqual({ kind: "ignored", detail: "ping is not reviewed" });
    expect(await envelope.deliver("s", () => ({ kind: "skip", detail: "no installation", say: "delivery without an installation, skipped" }))).toEqual({ kind: "skipped", detail: "no installation" });
    expect(store.db.prepare("SELECT COUNT(*) FROM deliveries").pluck().get()).toBe(0);
    expect(counters).toMatchObject({ malformed: 1, ignored: 1, skipped: 1 });
    expect(lines.find((l) => l["msg"] === "forge: event not reviewed, skipped")).toMatchObject({ event: "ping", reason: "ping is not reviewed" });
  });

  it("reviews one at a time per thread, and folds tracker refreshes that wait into one", async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const review = work("review", async () => {
      order.push("review start");
      await gate;
      order.push("review end");
      return { kind: "posted", detail: "r" };
    });
    let refreshes = 0;
    const refresh = work("tracker", async () => (refreshes++, order.push("refresh"), { kind: "posted", detail: "t" }));
    const all = [
      envelope.deliver("r1", () => ({ kind: "work", work: review })),
      envelope.deliver("c1", () => ({ kind: "work", work: refresh })),
      envelope.deliver("c2", () => ({ kind: "work", work: refresh })),
      envelope.deliver("c3", () => ({ kind: "work", work: refresh })),
    ];
    await new Promise((r) => setImmediate(r));
    expect(counters.inFlight).toBe(4);
    release();
    const done = await Promise.all(all);
    expect(order).toEqual(["review start", "review end", "refresh"]);
    expect(refreshes).toBe(1);
    expect(done.map((d) => d.kind)).toEqual(["posted", "posted", "posted", "posted"]);
    // Each comment delivery is recorded with the outcome of the refresh that read it.
    expect(["c1", "c2", "c3"].map(outcomeOf)).toEqual(["posted: t", "posted: t", "posted: t"]);
    expect(lines.filter((l) => l["msg"] === "forge: a tracker refresh is already waiting; this event is read by it")).toHaveLength(2);
  });
});
