#!/usr/bin/env node
// The CLI runs from the compiled tree; `npm install` builds it (the `prepare` script).
import { existsSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("dmabuf-review: not built yet; run `npm run build` in the package directory\n");
  process.exit(2);
}
// A review or check is one short run: optimising tree-sitter's WebAssembly (its lexer above all)
// costs more than it saves there, so it stays on V8's baseline compiler. Set before any module is compiled.
const command = process.argv[2];
if (command === "review" || command === "check") setFlagsFromString("--liftoff-only");
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
