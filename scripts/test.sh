#!/usr/bin/env bash
# The project's one test command (README: `npm test`; .ci/run calls it).
# Type-checks and builds, bundle included (the CLI tests run the built bin), runs vitest with a quiet reporter
# (failures in full, a line every 30 s), then prints the plain "N passed, N failed" line CI
# reads: vitest's own summary is not in that form.
set -u
cd "$(dirname "$0")/.."
rm -f .vitest.json
start=$SECONDS
echo "type-checking and building dist/ (tsc)..."
if ! node_modules/.bin/tsc -p tsconfig.json; then
  echo "type check failed"
  echo "0 passed, 1 failed"
  exit 1
fi
# the bundled review/check path the bin prefers (test/cli/bundle.test.ts compares it with the tree)
if ! node dist/scripts/bundle.js; then
  echo "bundling failed"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "type-checked and built in $((SECONDS - start)) s"
node_modules/.bin/vitest run --reporter=./scripts/quiet-reporter.ts --reporter=json --outputFile.json=.vitest.json "$@"
rc=$?
if [ -f .vitest.json ]; then
  node -e '
    const r = require("./.vitest.json");
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));'
else
  echo "0 passed, 1 failed"
  [ "$rc" -eq 0 ] && rc=1
fi
exit "$rc"
