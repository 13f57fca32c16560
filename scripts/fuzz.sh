#!/usr/bin/env bash
# `npm run fuzz`: the property suite of test/fuzz at FUZZ_RUNS cases per property (default 100,000;
# a property of large inputs caps its own count), with a fresh seed unless FUZZ_SEED is given.
# Ends with one line per property: cases run, time, known bugs hit, and every new failure with
# its shrunk counterexample and the seed and path that replay it.
#   FUZZ_SEED=123 npm run fuzz -- -t "webhooks"     replays one property of an earlier run
set -u
cd "$(dirname "$0")/.."
export FUZZ_RUNS="${FUZZ_RUNS:-100000}"
export FUZZ_SEED="${FUZZ_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
export FUZZ_REPORT="${FUZZ_REPORT:-$(mktemp -t dmabuf-review-fuzz.XXXXXX.jsonl)}"
: > "$FUZZ_REPORT"
echo "fuzz: $FUZZ_RUNS cases per property, seed $FUZZ_SEED (FUZZ_SEED=$FUZZ_SEED npm run fuzz replays it); report in $FUZZ_REPORT"
# One file at a time: a property's time budget is not a contest with another file's.
node_modules/.bin/vitest run test/fuzz --no-file-parallelism --testTimeout=0 --hookTimeout=120000 "$@"
rc=$?
node scripts/fuzz-report.mjs "$FUZZ_REPORT"
exit "$rc"
