import { PassThrough, Readable, Writable } from "node:stream";
import type { Io } from "../../src/cli/review.js";

// Commands run in-process here are checked for an exact stderr; a progress line after 5 s on a
// loaded machine is not what they test (test/cli/progress.test.ts does, with its own env).
process.env["DMABUF_REVIEW_PROGRESS"] ??= "off";

/** In-process CLI streams: what the command printed, and an optional stdin. */
export function captureIo(stdin: string | Buffer = ""): Io & { out: () => string; err: () => string } {
  const chunks = { out: [] as string[], err: [] as string[] };
  const sink = (key: "out" | "err") =>
    new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        chunks[key].push(chunk.toString());
        cb();
      },
    });
  const input = stdin.length > 0 ? Readable.from([Buffer.from(stdin)]) : new PassThrough().end();
  return {
    stdin: input,
    stdout: sink("out"),
    stderr: sink("err"),
    out: () => chunks.out.join(""),
    err: () => chunks.err.join(""),
  };
}
