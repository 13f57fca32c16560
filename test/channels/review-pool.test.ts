import { describe, expect, it } from "vitest";
import { workerExecArgv } from "../../src/channels/review-pool.js";

describe("workerExecArgv", () => {
  it("keeps module loading and warning options, with their values, in either spelling", () => {
    expect(workerExecArgv(["--import", "tsx", "--enable-source-maps", "--require=./pre.cjs", "-r", "x.cjs", "--no-warnings"])).toEqual([
      "--import",
      "tsx",
      "--enable-source-maps",
      "--require=./pre.cjs",
      "-r",
      "x.cjs",
      "--no-warnings",
    ]);
  });

  it("drops V8 flags and --input-type, which the Worker constructor refuses", () => {
    expect(workerExecArgv(["--max-old-space-size=256", "--stack-size=2000", "--expose-gc", "--input-type=module", "--import=tsx"])).toEqual(["--import=tsx"]);
  });
});
