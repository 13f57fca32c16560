/**
 * Several CLI runs in one process of the built CLI: `node dist/test/helpers/cli-batch.js` reads
 * the cases as JSON on stdin and prints one `{code, stdout, stderr}` per case as JSON. What
 * every start of the bin pays (loading the modules, the rules, the C grammar) is paid once.
 */
import { text } from "node:stream/consumers";
import { pathToFileURL } from "node:url";
import { captureIo } from "./io.js";

// A path on the command line names another module exporting the same `main` (dist/cli-review.mjs).
const entry = process.argv[2] ? pathToFileURL(process.argv[2]).href : new URL("../../src/cli/main.js", import.meta.url).href;
const { main } = (await import(entry)) as typeof import("../../src/cli/main.js");

const cases = JSON.parse(await text(process.stdin)) as { args: string[]; stdin?: string }[];
const results = [];
for (const c of cases) {
  const io = captureIo(c.stdin === undefined ? "" : Buffer.from(c.stdin, "base64"));
  const code = await main(c.args, io);
  results.push({ code, stdout: io.out(), stderr: io.err() });
}
process.stdout.write(JSON.stringify(results));
