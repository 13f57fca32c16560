/**
 * `dist/cli-review.mjs`: the CLI's review and check path, bundled from the compiled tree
 * (dist/src) into one module so that a one-patch run does not resolve and load some seventy
 * files. scripts/build.sh runs it after tsc; bin/dmabuf-review.js uses it for review and check.
 *
 * - Packages stay external: they are loaded lazily where the sources say so (mailparser, the
 *   YAML parser, the schema compiler, the C++ grammar), and web-tree-sitter finds its own .wasm.
 * - The other commands (watch, backfill, track) stay in dist/src, imported from there.
 * - Each bundled file's `import.meta.url` becomes the URL it has in dist/src, so everything read
 *   relative to a module (rules/, package.json, the model's code hashed for kept searches, the
 *   readers hashed by the document cache, grammars resolved through node_modules) resolves as in
 *   the compiled tree.
 */
import { readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";

/** The commands the bundle leaves to the compiled tree (main.ts imports each when it runs). */
const ELSEWHERE = new Set(["watch.js", "backfill.js", "track.js"]);

/** Where the bundle goes, relative to the directory holding the compiled tree's src/. */
export const BUNDLE_NAME = "cli-review.mjs";

/**
 * Bundles `<dist>/src/cli/main.js` into `<out>` (default `<dist>/cli-review.mjs`), and lists the
 * files it took in `<out minus .mjs>.inputs.json` (relative to it): the bin runs the bundle only
 * while none of them is newer, so a tree rebuilt without bundling runs as built.
 */
export async function bundleCli(dist: string, out = join(dist, BUNDLE_NAME)): Promise<void> {
  const src = join(dist, "src");
  const outDir = dirname(resolve(out));
  // A relative specifier from the bundle to a file of the compiled tree.
  const fromBundle = (file: string) => {
    const rel = relative(outDir, file).split(sep).join("/");
    return rel.startsWith(".") ? rel : `./${rel}`;
  };
  const layout: Plugin = {
    name: "compiled-tree-layout",
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        const target = resolve(args.resolveDir, args.path);
        if (args.kind === "dynamic-import" && dirname(target) === join(src, "cli") && ELSEWHERE.has(args.path.slice(2))) {
          return { path: fromBundle(target), external: true };
        }
        return undefined;
      });
      b.onLoad({ filter: /\.js$/ }, async (args) => {
        if (!args.path.startsWith(src + sep)) return undefined;
        const text = await readFile(args.path, "utf8");
        const url = `new URL(${JSON.stringify(fromBundle(args.path))}, import.meta.url).href`;
        return { contents: text.replaceAll("import.meta.url", `(${url})`), loader: "js", resolveDir: dirname(args.path) };
      });
    },
  };
  const result = await build({
    entryPoints: [join(src, "cli", "main.js")],
    outfile: out,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    plugins: [layout],
    logLevel: "warning",
    legalComments: "none",
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs).map((f) => fromBundle(resolve(f)));
  await writeFile(out.replace(/\.mjs$/, ".inputs.json"), `${JSON.stringify(inputs, null, 1)}\n`);
}

// `node dist/scripts/bundle.js`: build.sh, after tsc.
if (process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await bundleCli(fileURLToPath(new URL("../", import.meta.url)));
}
