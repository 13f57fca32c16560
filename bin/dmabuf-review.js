#!/usr/bin/env node
// The CLI runs from the compiled tree; `npm install` builds it (the `prepare` script).
import { existsSync, readFileSync, statSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("dmabuf-review: not built yet; run `npm run build` in the package directory\n");
  process.exit(2);
}
// A review or check is one short run: optimising tree-sitter's WebAssembly (its lexer above all)
// costs more than it saves there, so it stays on V8's baseline compiler. Set before any module is compiled.
const command = process.argv[2];
const oneShot = command === "review" || command === "check";
if (oneShot) setFlagsFromString("--liftoff-only");
// A long run (backfill, track, the service) keeps its young generation small from the start (src/heap.ts).
else (await import(new URL("../dist/src/heap.js", import.meta.url).href)).boundYoungGeneration();
// A reader that stops early (`| head`): end quietly, with the status a shell gives a process
// that SIGPIPE ended (the review's own status is not known yet, so not 0).
process.stdout.on("error", (err) => {
  if (err.code !== "EPIPE") throw err;
  process.exit(141);
});
const { main } = await import((oneShot && bundled()) || entry.href);
process.exitCode = await main(process.argv.slice(2));

/**
 * The same CLI bundled into one module (scripts/bundle.ts), loaded faster than the compiled tree's
 * files; only while none of the files it was made from is newer, so a tree rebuilt without it runs as built.
 */
function bundled() {
  const bundle = new URL("../dist/cli-review.mjs", import.meta.url);
  try {
    // The entry loads the CommonJS bundle beside it: both must be there and newer than their inputs.
    const made = Math.min(statSync(bundle).mtimeMs, statSync(new URL("../dist/cli-review.cjs", import.meta.url)).mtimeMs);
    const inputs = JSON.parse(readFileSync(new URL("../dist/cli-review.inputs.json", import.meta.url), "utf8"));
    return inputs.every((f) => statSync(new URL(f, bundle)).mtimeMs <= made) ? bundle.href : undefined;
  } catch {
    return undefined;
  }
}
