import { createRequire } from "node:module";
import type { SingleBar } from "cli-progress";

/** How far a long command is: `done` of `total` (0 when not known yet), in a named phase. */
export interface Step {
  readonly done: number;
  readonly total: number;
  /** "reading", "reviewing", "epoch 3", ...; a new phase starts the rate and the ETA afresh. */
  readonly phase?: string;
  /** What is counted, when it is not the reporter's unit ("series" while reviewing messages). */
  readonly unit?: string;
}

export interface Progress {
  update(step: Step): void;
  /** Stops the bar or the timer; a lines reporter that printed anything closes with a line. */
  done(): void;
}

export type ProgressMode = "bar" | "lines" | "off";

export interface ProgressOptions {
  /** Start of every line: "backfill dri-devel". */
  readonly label: string;
  readonly unit: string;
  /** Progress never goes to stdout: that is the command's result. */
  readonly stream?: NodeJS.WritableStream & { readonly isTTY?: boolean };
  readonly env?: NodeJS.ProcessEnv;
}

const MODES: readonly ProgressMode[] = ["bar", "lines", "off"];
// A command done within this never shows a bar: it would only flash.
const BAR_DELAY_MS = 1000;
const LINES_EVERY_S = 5;

/** DMABUF_REVIEW_PROGRESS=bar|lines|off, else a bar on a terminal and lines elsewhere. */
export function progressMode(stream: { readonly isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): ProgressMode {
  const asked = env["DMABUF_REVIEW_PROGRESS"];
  if (asked && (MODES as readonly string[]).includes(asked)) return asked as ProgressMode;
  return stream.isTTY ? "bar" : "lines";
}

const count = (n: number) => Math.round(n).toLocaleString("en-US");

/** "7 s", "3 min 05 s", "1 h 02 min". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** Rate and ETA over the phase so far, measured to its last step: a silence does not slow it. */
class Meter {
  private phase: string | undefined;
  private since = Date.now();
  step: Step = { done: 0, total: 0 };
  readonly started = Date.now();
  lastStepAt = Date.now();

  update(step: Step): void {
    const now = Date.now();
    // A phase begins where the last one ended (or at the start), counting from nothing.
    if (step.phase !== this.phase || step.done < this.step.done) {
      this.phase = step.phase;
      this.since = this.lastStepAt;
    }
    this.step = step;
    this.lastStepAt = now;
  }

  /** Units a second in this phase, once there is something to measure. */
  rate(): number | undefined {
    const seconds = (this.lastStepAt - this.since) / 1000;
    return seconds > 0 && this.step.done > 0 ? this.step.done / seconds : undefined;
  }

  eta(): number | undefined {
    const r = this.rate();
    return r && this.step.total > this.step.done ? (this.step.total - this.step.done) / r : undefined;
  }
}

/** A plain line now and then, for logs and pipes: nothing for a command done within the interval. */
class Lines implements Progress {
  private readonly meter = new Meter();
  private printed = 0;
  private finished = false;
  private lastPrint = Date.now();
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly opts: ProgressOptions & { stream: NodeJS.WritableStream },
    private readonly everyMs: number,
  ) {
    // Also when no step comes: a review tail or a slow git must not look like a hang.
    // Every 0 s is a line per step, with no timer.
    this.timer = everyMs > 0 ? setInterval(() => this.tick(), everyMs).unref() : undefined;
  }

  update(step: Step): void {
    this.meter.update(step);
    // Work done synchronously between two steps never lets the timer run; the steps do.
    if (Date.now() - this.lastPrint >= this.everyMs) this.print();
  }

  done(): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.timer);
    if (this.printed > 0) this.opts.stream.write(`${this.opts.label}: done in ${duration((Date.now() - this.meter.started) / 1000)}\n`);
  }

  private tick(): void {
    if (Date.now() - this.lastPrint >= this.everyMs) this.print();
  }

  private print(): void {
    const m = this.meter;
    const s = m.step;
    const unit = s.unit ?? this.opts.unit;
    const parts = [`${this.opts.label}:${s.phase ? ` ${s.phase}:` : ""} ${count(s.done)}${s.total > 0 ? `/${count(s.total)}` : ""} ${unit}`];
    if (s.total > 0) parts[0] += ` (${Math.floor((100 * s.done) / s.total)}%)`;
    const rate = m.rate();
    if (rate !== undefined) parts.push(`${count(rate)} ${unit}/s`);
    const eta = m.eta();
    if (eta !== undefined) parts.push(`ETA ${duration(eta)}`);
    parts.push(`${duration((Date.now() - m.started) / 1000)} elapsed`);
    const quiet = (Date.now() - m.lastStepAt) / 1000;
    if (this.everyMs > 0 && quiet >= this.everyMs / 1000) parts.push(`still working, last step ${duration(quiet)} ago`);
    this.opts.stream.write(`${parts.join(", ")}\n`);
    this.printed++;
    this.lastPrint = Date.now();
  }
}

/** cli-progress on a terminal: shown once the command has run a second, cleared when it ends. */
class Bar implements Progress {
  private readonly meter = new Meter();
  private bar: SingleBar | undefined;
  private shown = false;
  private finished = false;
  private readonly delay: NodeJS.Timeout;

  constructor(private readonly opts: ProgressOptions & { stream: NodeJS.WritableStream }) {
    this.delay = setTimeout(() => this.show(), BAR_DELAY_MS);
    this.delay.unref();
  }

  // cli-progress is loaded once a bar is shown: a command done within the delay never needs it.
  private makeBar(): SingleBar {
    const { SingleBar } = createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress");
    return new SingleBar({
      stream: this.opts.stream as NodeJS.WriteStream,
      format: `${this.opts.label}{phase} [{bar}] {percentage}% {value}/{total} {unit} | {speed} | ETA {left} | {duration_formatted}`,
      formatValue: (v, _o, type) => (type === "value" || type === "total" ? count(Number(v)) : String(v)),
      hideCursor: true,
      clearOnComplete: true,
      barsize: 24,
      // Our own SIGINT/SIGTERM handling finishes the batch in hand; the bar must not take them.
      gracefulExit: false,
    });
  }

  update(step: Step): void {
    this.meter.update(step);
    // Synchronous work never lets the delay's timer run: a step past the delay shows the bar.
    if (!this.shown && !this.finished && Date.now() - this.meter.started >= BAR_DELAY_MS) this.show();
    else if (this.shown && this.bar) {
      this.bar.setTotal(Math.max(step.total, step.done, 1));
      this.bar.update(step.done, this.payload());
    }
  }

  done(): void {
    clearTimeout(this.delay);
    if (this.shown) this.bar?.stop();
    this.shown = false;
    this.finished = true;
  }

  private show(): void {
    this.shown = true;
    const s = this.meter.step;
    this.bar ??= this.makeBar();
    this.bar.start(Math.max(s.total, s.done, 1), s.done, this.payload());
  }

  private payload(): Record<string, string> {
    const s = this.meter.step;
    const rate = this.meter.rate();
    const eta = this.meter.eta();
    const unit = s.unit ?? this.opts.unit;
    return {
      phase: s.phase ? ` ${s.phase}` : "",
      unit,
      // Not "rate" and "eta": cli-progress fills "eta" itself, over its own buffer of updates.
      speed: rate === undefined ? `- ${unit}/s` : `${count(rate)} ${unit}/s`,
      left: eta === undefined ? "-" : duration(eta),
    };
  }
}

const OFF: Progress = { update: () => undefined, done: () => undefined };

/**
 * Progress of a long command on stderr: a bar with rate and ETA on a terminal, a plain line
 * every DMABUF_REVIEW_PROGRESS_SECONDS (5 s) elsewhere, nothing with DMABUF_REVIEW_PROGRESS=off.
 */
export function startProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const env = opts.env ?? process.env;
  const mode = progressMode(stream, env);
  if (mode === "off") return OFF;
  if (mode === "bar") return new Bar({ ...opts, stream });
  const every = Number(env["DMABUF_REVIEW_PROGRESS_SECONDS"] ?? LINES_EVERY_S);
  return new Lines({ ...opts, stream }, Number.isFinite(every) && every >= 0 ? every * 1000 : LINES_EVERY_S * 1000);
}

/** A mail pass's progress (per epoch, with the phase the channel gives) as steps of one display. */
export function mirrorProgress(
  label: string,
  stream?: ProgressOptions["stream"],
  env?: NodeJS.ProcessEnv,
): { update(p: MirrorStep): void; done(): void } {
  const shown = startProgress({ label, unit: "messages", ...(stream ? { stream } : {}), ...(env ? { env } : {}) });
  let reading: MirrorStep | undefined;
  return {
    update: (p) => {
      if (p.phase === "read") {
        reading = p;
        shown.update({ done: p.done, total: p.total, phase: `epoch ${p.epoch}` });
      } else if (p.phase === "track") {
        // A pass that sends nothing tracks the series it owes feedback once, at its end.
        shown.update({ done: p.done, total: p.total, phase: "tracking", unit: "series" });
      } else if (!reading || reading.done >= reading.total) {
        // Reviews run beside the reading; shown alone once the reading is done, so the two
        // phases do not take turns and restart each other's rate and ETA.
        shown.update({ done: p.done, total: p.total, phase: "reviewing", unit: "threads" });
      }
    },
    done: () => shown.done(),
  };
}

/** What src/channels/mail.ts reports (its Progress), as far as the display reads it. */
export interface MirrorStep {
  readonly phase: "read" | "review" | "track";
  readonly epoch: string;
  readonly done: number;
  readonly total: number;
}
