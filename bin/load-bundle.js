// Loads the bundled CLI (scripts/bundle.ts) as a script compiled with V8's code cache: parsing and
// compiling it is a good part of a one-patch review, and Node 20 keeps no compile cache for ES modules.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";

/** The bundle's exports; `main` keeps the code it compiled once it has run, if none was kept or V8 refused it. */
export async function loadBundle(url) {
  const filename = fileURLToPath(url);
  const code = readFileSync(filename, "utf8");
  // V8 checks its version and flags itself and refuses a cache that does not fit them; the path is
  // part of the key because a cached script keeps the file name its stack traces print.
  const kept = keptFile(createHash("sha256").update(process.version).update(process.arch).update(filename).update("\0").update(code).digest("hex").slice(0, 32));
  let cachedData;
  try {
    if (kept) cachedData = readFileSync(kept.file);
  } catch {
    // none kept yet
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname, __import) {${code}\n})`, {
    filename,
    cachedData,
  });
  const module = { exports: {} };
  // The bundle's import() (scripts/bundle.ts): from the compiled tree's file that wrote it; packages
  // resolve alike from here, in the same package.
  const load = (from, specifier) => import(specifier.startsWith(".") ? new URL(specifier, from).href : specifier);
  script.runInThisContext()(module.exports, createRequire(filename), module, filename, dirname(filename), load);
  const exports = module.exports;
  if (!kept || (cachedData && !script.cachedDataRejected)) return exports;
  let keep = () => {
    keep = () => {};
    store(kept, script.createCachedData());
  };
  // After the first run, so that the functions it compiled are in the cache too.
  const main = async (...args) => {
    try {
      return await exports.main(...args);
    } finally {
      keep();
    }
  };
  return { ...exports, main };
}

/** `DMABUF_REVIEW_CACHE`: a directory, or `off`; by default the user's cache directory (as src/analysis/doc-cache.ts). */
function keptFile(digest) {
  const env = process.env["DMABUF_REVIEW_CACHE"];
  if (env === "off") return undefined;
  const dir = env || join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "dmabuf-review");
  return { dir, file: join(dir, `bundle-${digest}.v8`) };
}

/** Written aside and renamed, older bundles' entries dropped; a cache that cannot be written is no error. */
function store({ dir, file }, data) {
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    renameSync(tmp, file);
    for (const n of readdirSync(dir)) {
      if (n.startsWith("bundle-") && n.endsWith(".v8") && join(dir, n) !== file) rmSync(join(dir, n), { force: true });
    }
  } catch {
    // read-only home, full disk: the next run compiles again
  }
}
