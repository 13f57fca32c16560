import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { duration, mirrorProgress, progressMode, startProgress } from "../../src/cli/progress.js";

/** A stderr stand-in: a terminal (isTTY, 120 columns) or a pipe, keeping what was written. */
function sink(tty: boolean): Writable & { isTTY?: boolean; columns?: number; text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; text: () => string };
  if (tty) {
    w.isTTY = true;
    w.columns = 160;
  }
  w.text = () => chunks.join("");
  return w;
}

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

beforeEach(() => {
  vi.useFakeTimers({ now: new Date("2026-12-01T10:00:00Z") });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("progress when stderr is not a terminal: a plain line every few seconds", () => {
  it("says nothing for a command done within the interval", () => {
    const err = sink(false);
    const p = startProgress({ label: "review x.mbox", unit: "messages", stream: err, env: {} });
    p.update({ phase: "reading", done: 10, total: 20 });
    vi.advanceTimersByTime(4000);
    p.update({ phase: "reading", done: 20, total: 20 });
    p.done();
    expect(err.text()).toBe("");
  });

  it("prints done/total, percentage, rate and ETA every 5 s, keeps going through a silence, and closes", () => {
    const err = sink(false);
    const p = startProgress({ label: "backfill lms", unit: "messages", stream: err, env: {} });
    vi.advanceTimersByTime(1000);
    p.update({ phase: "epoch 0", done: 1000, total: 4000 });
    vi.advanceTimersByTime(4000); // 5 s in: the timer prints
    expect(lines(err.text())).toEqual(["backfill lms: epoch 0: 1,000/4,000 messages (25%), 1,000 messages/s, ETA 3 s, 5 s elapsed"]);
    vi.advanceTimersByTime(1000);
    p.update({ phase: "epoch 0", done: 4000, total: 4000 });
    // The reviews after the last message send no step: the timer still says the command lives.
    vi.advanceTimersByTime(14_000);
    expect(lines(err.text()).slice(1)).toEqual([
      "backfill lms: epoch 0: 4,000/4,000 messages (100%), 667 messages/s, 10 s elapsed",
      "backfill lms: epoch 0: 4,000/4,000 messages (100%), 667 messages/s, 15 s elapsed, still working, last step 9 s ago",
      "backfill lms: epoch 0: 4,000/4,000 messages (100%), 667 messages/s, 20 s elapsed, still working, last step 14 s ago",
    ]);
    p.done();
    p.done();
    expect(lines(err.text()).at(-1)).toBe("backfill lms: done in 20 s");
    expect(lines(err.text())).toHaveLength(5);
    vi.advanceTimersByTime(60_000);
    expect(lines(err.text())).toHaveLength(5);
  });

  it("prints from the steps themselves when synchronous work keeps the timer from running", () => {
    const err = sink(false);
    const p = startProgress({ label: "review big.mbox", unit: "messages", stream: err, env: {} });
    // Date moves, timers do not fire: what a synchronous review loop looks like to the event loop.
    for (let i = 1; i <= 12; i++) {
      vi.setSystemTime(Date.now() + 1000);
      p.update({ phase: "reviewing", done: i, total: 12, unit: "series" });
    }
    expect(lines(err.text())).toEqual([
      "review big.mbox: reviewing: 5/12 series (41%), 1 series/s, ETA 7 s, 5 s elapsed",
      "review big.mbox: reviewing: 10/12 series (83%), 1 series/s, ETA 2 s, 10 s elapsed",
    ]);
    p.done();
  });

  it("starts rate and ETA afresh in a new phase, and shows an unknown total as a count", () => {
    const err = sink(false);
    const p = startProgress({ label: "track lms", unit: "messages", stream: err, env: { DMABUF_REVIEW_PROGRESS_SECONDS: "0" } });
    vi.advanceTimersByTime(2000);
    p.update({ phase: "reading", done: 2000, total: 2000 });
    vi.advanceTimersByTime(10_000);
    p.update({ phase: "tracking", done: 5, total: 0, unit: "series" });
    p.done();
    expect(lines(err.text())).toEqual([
      "track lms: reading: 2,000/2,000 messages (100%), 1,000 messages/s, 2 s elapsed",
      "track lms: tracking: 5 series, 1 series/s, 12 s elapsed",
      "track lms: done in 12 s",
    ]);
  });

  it("shows a mail pass's epoch while reading, and the reviews once the reading is done", () => {
    const err = sink(false);
    const p = mirrorProgress("watch dri-devel", err, {});
    vi.setSystemTime(Date.now() + 6000);
    p.update({ phase: "read", epoch: "1", done: 10, total: 20 });
    vi.setSystemTime(Date.now() + 6000);
    // Reviews beside an unfinished reading do not take the line over.
    p.update({ phase: "review", epoch: "1", done: 1, total: 4 });
    p.update({ phase: "read", epoch: "1", done: 20, total: 20 });
    vi.setSystemTime(Date.now() + 6000);
    p.update({ phase: "review", epoch: "1", done: 3, total: 4 });
    vi.setSystemTime(Date.now() + 6000);
    p.update({ phase: "track", epoch: "-", done: 2, total: 8 });
    p.done();
    expect(lines(err.text()).map((l) => l.split(",")[0])).toEqual([
      "watch dri-devel: epoch 1: 10/20 messages (50%)",
      "watch dri-devel: epoch 1: 20/20 messages (100%)",
      "watch dri-devel: reviewing: 3/4 threads (75%)",
      "watch dri-devel: tracking: 2/8 series (25%)",
      "watch dri-devel: done in 24 s",
    ]);
  });
});

describe("progress on a terminal: a cli-progress bar", () => {
  it("shows nothing for the first second, then a bar with rate and ETA, and clears it at the end", () => {
    const err = sink(true);
    const p = startProgress({ label: "review t.mbox.gz", unit: "messages", stream: err, env: {} });
    p.update({ phase: "reading", done: 100, total: 1000 });
    vi.advanceTimersByTime(500);
    expect(err.text()).toBe("");
    vi.advanceTimersByTime(1500);
    p.update({ phase: "reading", done: 500, total: 1000 });
    vi.advanceTimersByTime(300); // the bar redraws on its own clock
    const screen = err.text();
    expect(screen).toContain("\x1B[?25l"); // cursor hidden while the bar runs
    expect(screen).toMatch(/review t\.mbox\.gz reading \[[=-]{24}\] 50% 500\/1,000 messages \| 250 messages\/s \| ETA 2 s \| \ds/);
    p.done();
    const after = err.text().slice(screen.length);
    expect(after).toContain("\x1B[?25h"); // cursor back
    expect(after).toContain("\x1B[2K"); // the line cleared: the result below starts clean
  });

  it("appears during synchronous work, from a step, once the delay has passed", () => {
    const err = sink(true);
    const p = startProgress({ label: "review big.mbox", unit: "messages", stream: err, env: {} });
    vi.setSystemTime(Date.now() + 1500);
    p.update({ phase: "reviewing", done: 3, total: 9, unit: "series" });
    expect(err.text()).toMatch(/review big\.mbox reviewing \[.*\] 33% 3\/9 series/);
    p.done();
  });
});

describe("choosing the display", () => {
  it("is a bar on a terminal, lines elsewhere, and what DMABUF_REVIEW_PROGRESS says when set", () => {
    expect(progressMode({ isTTY: true }, {})).toBe("bar");
    expect(progressMode({}, {})).toBe("lines");
    expect(progressMode({ isTTY: true }, { DMABUF_REVIEW_PROGRESS: "lines" })).toBe("lines");
    expect(progressMode({}, { DMABUF_REVIEW_PROGRESS: "off" })).toBe("off");
    expect(progressMode({}, { DMABUF_REVIEW_PROGRESS: "sometimes" })).toBe("lines");
  });

  it("writes nothing when off", () => {
    const err = sink(true);
    const p = startProgress({ label: "x", unit: "messages", stream: err, env: { DMABUF_REVIEW_PROGRESS: "off" } });
    vi.advanceTimersByTime(10_000);
    p.update({ done: 1, total: 2 });
    vi.advanceTimersByTime(10_000);
    p.done();
    expect(err.text()).toBe("");
  });

  it("says durations as a person does", () => {
    expect([duration(0.4), duration(59), duration(61), duration(3725)]).toEqual(["0 s", "59 s", "1 min 01 s", "1 h 02 min"]);
  });
});
