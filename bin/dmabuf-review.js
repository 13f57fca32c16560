#!/usr/bin/env node
// The CLI runs from the compiled tree; `npm install` builds it (the `prepare` script).
import { existsSync } from "node:fs";
const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write("dmabuf-review: not built yet; run `npm run build` in the package directory\n");
  process.exit(2);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
