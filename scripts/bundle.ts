/**
 * `dist/cli-review.mjs`: the CLI's review and check path, bundled from the compiled tree
 * (dist/src) into one module so that a one-patch run does not resolve and load some seventy
 * files. scripts/build.sh runs it after tsc; bin/dmabuf-review.js uses it for review and check.
 *
 * - Packages stay external, loaded lazily where the sources say so (mailparser, the YAML parser,
 *   the schema compiler, the C++ grammar), and web-tree-sitter finds its own .wasm; only the small
 *   ones of plain JavaScript every review runs (commander, picomatch, diff) are bundled.
 * - The other commands (watch, backfill, track) stay in dist/src, imported from there: every
 *   import() is left to the compiled tree, as the file that wrote it would import.
 * - Each bundled file's `import.meta.url` becomes the URL it has in dist/src, so everything read
 *   relative to a module (rules/, package.json, the model's code hashed for kept searches, the
 *   readers hashed by the document cache, grammars resolved through node_modules) resolves as in
 *   the compiled tree.
 * - The code is CommonJS (`cli-review.cjs`) so that bin/load-bundle.js can compile it as a script
 *   with V8's code cache, which Node 20 offers for scripts and not for ES modules; `cli-review.mjs`
 *   is the ES module entry that loads it, for the bin and the tests alike.
 */
import { readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

/** Where the bundle goes, relative to the directory holding the compiled tree's src/. */
export const BUNDLE_NAME = "cli-review.mjs";

/** The commands the bundle leaves to the compiled tree (main.ts imports each when it runs). */
const ELSEWHERE = new Set(["watch.js", "backfill.js", "track.js"]);

/** Small packages of plain JavaScript taken into the bundle, so that their code is cached with it. */
const INLINE = ["commander", "picomatch", "diff"];

/** The bundled code's own URL, which stands for each file's `import.meta.url`. */
const BUNDLE_URL = "__bundleUrl";

/** `(from, specifier) => import(...)`, given by bin/load-bundle.js: each import() of the compiled tree. */
const IMPORT = "__import";

/**
 * Bundles `<dist>/src/cli/main.js` into `<out minus .mjs>.cjs` with its entry `<out>` (default
 * `<dist>/cli-review.mjs`), and lists the files it took in `<out minus .mjs>.inputs.json` (relative
 * to it): the bin runs the bundle only while none of them is newer, so a tree rebuilt without
 * bundling runs as built.
 */
export async function bundleCli(dist: string, out = join(dist, BUNDLE_NAME)): Promise<void> {
  const src = join(dist, "src");
  const outDir = dirname(resolve(out));
  const code = out.replace(/\.mjs$/, ".cjs");
  // A relative specifier from the bundle to a file of the compiled tree.
  const fromBundle = (file: string) => {
    const rel = relative(outDir, file).split(sep).join("/");
    return rel.startsWith(".") ? rel : `./${rel}`;
  };
  const layout: Plugin = {
    name: "compiled-tree-layout",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => (INLINE.some((p) => args.path === p || args.path.startsWith(`${p}/`)) ? undefined : { path: args.path, external: true }));
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        if (!args.path.startsWith(src + sep)) return undefined;
        const text = await readFile(args.path, "utf8");
        const url = `new URL(${JSON.stringify(fromBundle(args.path))}, ${BUNDLE_URL}).href`;
        // What stays out of the bundle is imported through the loader, as from this file: V8 loses a
        // script's own import() callback when its code comes from the code cache.
        const outside = (specifier: string) =>
          !specifier.startsWith(".") || (dirname(args.path) === join(src, "cli") && ELSEWHERE.has(specifier.slice(2)));
        const contents = text
          .replaceAll("import.meta.url", `(${url})`)
          .replace(/\bimport\((["'])([^"']+)\1\)/g, (call, _q: string, specifier: string) => (outside(specifier) ? `${IMPORT}(${url}, ${JSON.stringify(specifier)})` : call));
        return { contents, loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
  const result = await build({
    entryPoints: [join(src, "cli", "main.js")],
    outfile: code,
    bundle: true,
    format: "cjs",
    // Strict as the ES modules it was made from; esbuild's own directive would come after the banner.
    banner: { js: `"use strict";\nconst ${BUNDLE_URL} = require("node:url").pathToFileURL(__filename).href;` },
    platform: "node",
    target: "node20",
    plugins: [layout],
    logLevel: "warning",
    legalComments: "none",
    metafile: true,
  });
  if (/\bimport\s*\(/.test(await readFile(code, "utf8"))) throw new Error(`${code}: an import() the bundling did not route through ${IMPORT}`);
  // The package's bin/ beside dist/.
  const loader = fromBundle(join(dist, "..", "bin", "load-bundle.js"));
  await writeFile(
    out,
    `// The bundled CLI (${basename(code)}), compiled with V8's code cache kept between runs.\n` +
      `import { loadBundle } from ${JSON.stringify(loader)};\n` +
      `export const { main } = await loadBundle(new URL(${JSON.stringify(`./${basename(code)}`)}, import.meta.url));\n`,
  );
  const inputs = Object.keys(result.metafile.inputs).map((f) => fromBundle(resolve(f)));
  await writeFile(out.replace(/\.mjs$/, ".inputs.json"), `${JSON.stringify(inputs, null, 1)}\n`);
}

// `node dist/scripts/bundle.js`: build.sh, after tsc.
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await bundleCli(fileURLToPath(new URL("../", import.meta.url)));
}
