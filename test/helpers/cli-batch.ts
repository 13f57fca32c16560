/**
 * Several CLI runs in one process of the built CLI: `node dist/test/helpers/cli-batch.js` reads
 * the cases as JSON on stdin and prints one `{code, stdout, stderr}` per case as JSON. What
 * every start of the bin pays (loading the modules, the rules, the C grammar) is paid once.
 */
import { text } from "node:stream/consumers";
import { main } from "../../src/cli/main.js";
import { captureIo } from "./io.js";

const cases = JSON.parse(await text(process.stdin)) as { args: string[]; stdin?: string }[];
const results = [];
for (const c of cases) {
  const io = captureIo(c.stdin === undefined ? "" : Buffer.from(c.stdin, "base64"));
  const code = await main(c.args, io);
  results.push({ code, stdout: io.out(), stderr: io.err() });
}
process.stdout.write(JSON.stringify(results));
