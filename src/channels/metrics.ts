import type { ChannelStats } from "./delivery.js";
import type { MailReport } from "./mail-health.js";

/** Review durations in seconds: a small patch takes well under a second, a large series a minute. */
export const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120] as const;

/** A Prometheus histogram: cumulative bucket counts, sum and count. */
export class Histogram {
  private readonly counts = DURATION_BUCKETS.map(() => 0);
  private sum = 0;
  private count = 0;

  observe(seconds: number): void {
    DURATION_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.counts[i]!++;
    });
    this.sum += seconds;
    this.count++;
  }

  lines(name: string): string[] {
    return [
      ...DURATION_BUCKETS.map((le, i) => `${name}_bucket{le="${le}"} ${this.counts[i]}`),
      `${name}_bucket{le="+Inf"} ${this.count}`,
      `${name}_sum ${this.sum}`,
      `${name}_count ${this.count}`,
    ];
  }
}

/** What the server knows at the time of a scrape; the same facts /healthz reports, as numbers. */
export interface MetricsInput {
  readonly counters: Readonly<Record<string, ChannelStats>>;
  readonly channelsOn: Readonly<Record<string, boolean>>;
  readonly storeOk: boolean;
  readonly reviewWorkers: number;
  readonly reviewDurations: Histogram;
  /** Reviews asked of the pool and not yet done: waiting for a worker or running. */
  readonly reviewsQueued: number;
  readonly deliveriesInHand: number;
  readonly uptimeSeconds: number;
  readonly mail: MailReport | undefined;
}

const PREFIX = "dmabuf_review";

/** The Prometheus text exposition format (version 0.0.4). */
export function renderMetrics(m: MetricsInput): string {
  const out: string[] = [];
  const metric = (name: string, type: "counter" | "gauge" | "histogram", help: string, lines: readonly string[]) => {
    out.push(`# HELP ${PREFIX}_${name} ${help}`, `# TYPE ${PREFIX}_${name} ${type}`, ...lines);
  };
  const label = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  const channels = Object.entries(m.counters);
  metric("up", "gauge", "1 while the service answers; store_ok says whether its store does.", ["dmabuf_review_up 1"]);
  metric("store_ok", "gauge", "1 when the store answers a query.", [`${PREFIX}_store_ok ${m.storeOk ? 1 : 0}`]);
  metric("uptime_seconds", "gauge", "Seconds since the HTTP server started.", [`${PREFIX}_uptime_seconds ${m.uptimeSeconds}`]);
  metric("channel_on", "gauge", "1 when the forge channel has its credentials and runs.", Object.entries(m.channelsOn).map(([c, on]) => `${PREFIX}_channel_on{channel="${label(c)}"} ${on ? 1 : 0}`));
  const events = channels.flatMap(([c, s]) =>
    Object.entries(s.toJSON())
      .filter(([k]) => k !== "inFlight")
      .map(([k, v]) => `${PREFIX}_channel_events_total{channel="${label(c)}",event="${label(snake(k))}"} ${v}`),
  );
  metric("channel_events_total", "counter", "Deliveries and what came of them, per forge channel (the /healthz counters).", events);
  metric("deliveries_in_flight", "gauge", "Deliveries claimed and not yet done, per forge channel.", channels.map(([c, s]) => `${PREFIX}_deliveries_in_flight{channel="${label(c)}"} ${s.inFlight}`));
  metric("deliveries_in_hand", "gauge", "Webhook requests being handled by the HTTP server.", [`${PREFIX}_deliveries_in_hand ${m.deliveriesInHand}`]);
  metric("review_workers", "gauge", "Worker threads reviewing series (0: on the HTTP thread).", [`${PREFIX}_review_workers ${m.reviewWorkers}`]);
  metric("review_queue_length", "gauge", "Series reviews asked for and not done: waiting for a worker or running.", [`${PREFIX}_review_queue_length ${m.reviewsQueued}`]);
  metric("review_duration_seconds", "histogram", "Time to review one series for a forge channel, queueing included.", m.reviewDurations.lines(`${PREFIX}_review_duration_seconds`));
  if (m.mail?.on) {
    const mirrors = m.mail.mirrors;
    metric("mail_waiting_threads", "gauge", "Threads with a patch or cover letter awaiting review, per mirror.", mirrors.map((x) => `${PREFIX}_mail_waiting_threads{mirror="${label(x.name)}"} ${x.waitingThreads}`));
    metric(
      "mail_last_pass_seconds",
      "gauge",
      "Duration of the mirror's last pass over its archive.",
      mirrors.flatMap((x) => (x.lastPass?.ok ? [`${PREFIX}_mail_last_pass_seconds{mirror="${label(x.name)}"} ${x.lastPass.seconds}`] : [])),
    );
    const p = m.mail.pendingMail;
    metric(
      "mail_outgoing",
      "gauge",
      "Mail recorded and not yet delivered, by state (pending includes queued, temporary and configuration).",
      (["pending", "queued", "temporary", "configuration", "failed"] as const).map((k) => `${PREFIX}_mail_outgoing{state="${k}"} ${p[k]}`),
    );
  }
  return `${out.join("\n")}\n`;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
