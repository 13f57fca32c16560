/** What the forge bench's two processes tell each other (bench/forges.ts, bench/forge-load.ts). */

export const BENCH_GITHUB_SECRET = "bench-github-secret";
export const BENCH_GITLAB_SECRET = "bench-gitlab-secret";

export interface RunResult {
  readonly kind: "result";
  readonly name: string;
  readonly rate: number;
  readonly seconds: number;
  readonly sent: number;
  /** Deliveries per second actually sent, from the first send to the last. */
  readonly achieved: number;
  readonly answered: number;
  readonly posted: number;
  /** Webhook written → first comment received by the stand-in, ms. */
  readonly latencies: number[];
  /** Webhook written → HTTP answer, ms. */
  readonly http: number[];
  readonly non2xx: number;
  readonly errors: number;
  readonly findings: number;
  /** CPU the bot's process (all threads) spent per delivery during the run, ms; set by the parent. */
  cpuPerDelivery?: number;
}
