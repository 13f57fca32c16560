// Prints the summary of an `npm run fuzz` run from the JSON lines test/fuzz/harness.ts appends.
import { readFileSync } from "node:fs";

const file = process.argv[2];
const rows = readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
console.log(`\nfuzz summary (${rows.length} properties, base seed ${rows[0]?.baseSeed ?? "?"})`);
let failures = 0;
for (const r of rows) {
  const known = r.knownBugs.map((b) => `${b.id} ${b.cases} (${b.recheck})`).join(", ");
  console.log(`- ${r.property}\n    ${r.cases} cases in ${secs(r.ms)}, seed ${r.seed}; ${r.failures.length} new failures${known ? `; known bugs: ${known}` : ""}`);
  const outcomes = Object.entries(r.outcomes).slice(0, 6).map(([k, n]) => `${k} ${n}`).join(", ");
  if (outcomes) console.log(`    outcomes: ${outcomes}`);
  for (const f of r.failures) {
    failures++;
    console.log(`    FAIL ${f.signature}\n      counterexample: ${f.counterexample}\n      replay: seed ${r.seed}, path ${f.path ?? f.firstPath}\n      ${f.detail.split("\n")[0]}`);
  }
  for (const g of r.goneKnownBugs) console.log(`    KNOWN BUG GONE: ${g}`);
}
console.log(`${failures} new failures, ${rows.reduce((n, r) => n + r.cases, 0)} cases in all`);
