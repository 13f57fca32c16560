import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "..", "src");
const CORE = ["patch", "analysis", "model", "feedback", "review"];
const EDGES = ["ingest", "publish", "channels", "state", "cli"];
const FORBIDDEN_PACKAGES = /^(probot|@gitbeaker\/|nodemailer|better-sqlite3|libsql|smtp-server|simple-git|@octokit\/)/;
const FORBIDDEN_WORDS = /\b(merge request|pull request|webhook|SMTP)\b/i;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gms)].map((m) => m[1]!);
}

function layerOf(file: string): string {
  return relative(SRC, file).split("/")[0]!.replace(/\.ts$/, "");
}

describe("architecture", () => {
  const all = files(SRC);

  it("the core never imports the edges nor channel libraries", () => {
    const wrong: string[] = [];
    for (const file of all) {
      const layer = layerOf(file);
      if (!CORE.includes(layer)) continue;
      for (const spec of imports(file)) {
        if (FORBIDDEN_PACKAGES.test(spec)) wrong.push(`${relative(SRC, file)} imports ${spec}`);
        if (spec.startsWith(".")) {
          const target = relative(SRC, join(file, "..", spec)).split("/")[0]!;
          if (EDGES.includes(target)) wrong.push(`${relative(SRC, file)} imports ${spec}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("ingest and publish use only the core, not each other nor channels", () => {
    const wrong: string[] = [];
    for (const file of all) {
      const layer = layerOf(file);
      if (layer !== "ingest" && layer !== "publish") continue;
      for (const spec of imports(file)) {
        if (!spec.startsWith(".")) continue;
        const target = relative(SRC, join(file, "..", spec)).split("/")[0]!;
        const other = layer === "ingest" ? "publish" : "ingest";
        if (target === other || target === "channels" || target === "cli") wrong.push(`${relative(SRC, file)} imports ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("the core does not speak of forges or mail transports", () => {
    const wrong = all
      .filter((f) => CORE.includes(layerOf(f)))
      .filter((f) => FORBIDDEN_WORDS.test(readFileSync(f, "utf8")))
      .map((f) => relative(SRC, f));
    expect(wrong).toEqual([]);
  });

  it("publish/mail never writes the store: from state/ it takes types only (the mail channel owns its ledger)", () => {
    const wrong: string[] = [];
    for (const file of all.filter((f) => relative(SRC, f).startsWith("publish/mail/"))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^\s*import\s+(type\s+)?([^;]*?)from\s+["']([^"']+)["']/gms)) {
        const target = relative(SRC, join(file, "..", m[3]!)).split("/")[0]!;
        const typesOnly = m[1] !== undefined || /^\{\s*(type\s+[\w$]+\s*,?\s*)+\}\s*$/.test(m[2]!.trim());
        if (target === "state" && !typesOnly) wrong.push(`${relative(SRC, file)} imports ${m[3]}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("state depends on the core only: not on ingest, publish, channels nor cli (shared shapes live in the core)", () => {
    const wrong: string[] = [];
    for (const file of all.filter((f) => layerOf(f) === "state")) {
      for (const spec of imports(file)) {
        if (!spec.startsWith(".")) continue;
        const target = relative(SRC, join(file, "..", spec)).split("/")[0]!;
        if (EDGES.includes(target) && target !== "state") wrong.push(`${relative(SRC, file)} imports ${spec}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("the worst severity of findings is computed in one function (review/finding.ts worstOf)", () => {
    // A fold over SEVERITY_RANK that keeps the larger one, written again elsewhere, would drift.
    const fold = /SEVERITY_RANK\[[^\]]+\]\s*>\s*SEVERITY_RANK\[/;
    const wrong = all.filter((f) => fold.test(readFileSync(f, "utf8"))).map((f) => relative(SRC, f));
    expect(wrong).toEqual(["review/finding.ts"]);
  });

  it("channels do not import each other through the server: server.ts is imported by the CLI only, and channels/ has no import cycle", () => {
    const inChannels = all.filter((f) => layerOf(f) === "channels");
    const throughServer = inChannels.flatMap((f) =>
      imports(f)
        .filter((s) => s.startsWith(".") && relative(SRC, join(f, "..", s)) === "channels/server.js")
        .map((s) => `${relative(SRC, f)} imports ${s}`),
    );
    expect(throughServer).toEqual([]);
    // madge's question, type-only imports included: a cycle of imports among the channel files.
    const graph = new Map(
      inChannels.map((f) => [
        relative(SRC, f),
        imports(f)
          .filter((s) => s.startsWith("."))
          .map((s) => relative(SRC, join(f, "..", s)).replace(/\.js$/, ".ts"))
          .filter((t) => t.startsWith("channels/")),
      ]),
    );
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const stack: string[] = [];
    const visit = (n: string) => {
      state.set(n, "open");
      stack.push(n);
      for (const d of graph.get(n) ?? []) {
        if (state.get(d) === "open") cycles.push([...stack.slice(stack.indexOf(d)), d].join(" -> "));
        else if (!state.has(d)) visit(d);
      }
      stack.pop();
      state.set(n, "done");
    };
    for (const n of graph.keys()) if (!state.has(n)) visit(n);
    expect(cycles).toEqual([]);
  });

  it("the checker is really looking at files", () => {
    expect(all.length).toBeGreaterThan(10);
    expect(all.some((f) => layerOf(f) === "patch" && imports(f).length > 0)).toBe(true);
  });
});
