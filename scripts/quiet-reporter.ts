import { MinimalReporter, type TestModule, type TestSpecification } from "vitest/node";

const EVERY_MS = 30_000;

/**
 * `npm test`'s reporter: vitest's minimal one (nothing for what passes, each failure in full,
 * then the summary), plus one plain line every 30 s so that a long run is seen to move. No
 * redrawing: the same output in a terminal as in a CI log.
 */
export default class QuietReporter extends MinimalReporter {
  private files = 0;
  private done = 0;
  private failed = 0;
  private started = 0;
  private said = 0;

  override onTestRunStart(specifications: ReadonlyArray<TestSpecification>): void {
    super.onTestRunStart(specifications);
    this.files = specifications.length;
    this.started = this.said = performance.now();
    this.log(`running ${this.files} test files...`);
  }

  override onTestModuleEnd(module: TestModule): void {
    super.onTestModuleEnd(module);
    this.done++;
    if (module.state() === "failed") this.failed++;
    const now = performance.now();
    if (now - this.said >= EVERY_MS && this.done < this.files) {
      this.said = now;
      const failed = this.failed ? `, ${this.failed} failed` : "";
      this.log(`${this.done}/${this.files} test files done${failed} (${Math.round((now - this.started) / 1000)} s)`);
    }
  }
}
