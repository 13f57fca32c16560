#!/usr/bin/env bash
# `npm install` runs this (prepare), and `npm run build`: the CLI, `npm start` and the bench run
# the compiled tree in dist/. Incremental: a second build with nothing changed takes seconds.
set -eu
cd "$(dirname "$0")/.."
start=$SECONDS
echo "building dist/ with tsc (the CLI runs from it)..."
node_modules/.bin/tsc -p tsconfig.json
# review and check load one bundled module instead of the tree's files (bin/dmabuf-review.js)
node dist/scripts/bundle.js
echo "built dist/ in $((SECONDS - start)) s"
