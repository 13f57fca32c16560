import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig, SCHEMA } from "../../src/config/config.js";

const EXAMPLE = join(import.meta.dirname, "..", "..", "deploy", "config.example.yaml");

interface SchemaNode {
  readonly properties?: Record<string, SchemaNode>;
  readonly items?: SchemaNode;
}

/** Every key path the schema allows: "mail.mirrors.name", "http.port", ... */
function schemaKeys(node: SchemaNode, prefix = ""): string[] {
  const inner = node.items ?? node;
  return Object.entries(inner.properties ?? {}).flatMap(([k, child]) => [`${prefix}${k}`, ...schemaKeys(child, `${prefix}${k}.`)]);
}

function exampleKeys(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => exampleKeys(v, prefix));
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => [`${prefix}${k}`, ...exampleKeys(v, `${prefix}${k}.`)]);
}

describe("deploy/config.example.yaml", () => {
  it("loads with the bot's own loader, and says what it says", async () => {
    const config = await loadConfig(EXAMPLE, {});
    expect(config.dataDir).toBe("/var/lib/dmabuf-review");
    expect(config.mail.mirrors[0]).toMatchObject({ name: "dri-devel", pollSeconds: 300, policy: "all", history: "record" });
    expect(config.mail.delivery).toBe("outbox");
    expect(config.mail.smtp).toMatchObject({ host: "smtp.example.org", port: 587, user: "dmabuf-review" });
    expect(config.mail.seriesWaitSeconds).toBe(1800);
  });

  it("has every key the schema defines, and no other", () => {
    const inExample = new Set(exampleKeys(parse(readFileSync(EXAMPLE, "utf8"))));
    const inSchema = new Set(schemaKeys(SCHEMA as SchemaNode));
    expect([...inSchema].filter((k) => !inExample.has(k))).toEqual([]);
    expect([...inExample].filter((k) => !inSchema.has(k))).toEqual([]);
  });

  it("comments every key, on its line or the line above", () => {
    const lines = readFileSync(EXAMPLE, "utf8").split("\n");
    const bare = lines.filter((line, i) => /^\s*(- )?[\w-]+:/.test(line) && !line.includes(" # ") && !/^\s*#/.test(lines[i - 1] ?? ""));
    expect(bare).toEqual([]);
  });
});
