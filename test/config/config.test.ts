import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { InputError } from "../../src/errors.js";

function file(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "dmabuf-review-config-")), "config.yaml");
  writeFileSync(path, text);
  return path;
}

async function refusal(text: string): Promise<InputError> {
  const err = await loadConfig(file(text), {}).catch((e: unknown) => e);
  if (!(err instanceof InputError)) throw new Error(`not refused: ${String(err)}`);
  return err;
}

describe("a configuration with mistakes", () => {
  it("lists every problem at once, each with its field and what the field allows", async () => {
    const err = await refusal(
      [
        "logging: { level: debug }",
        "http: { port: 70000 }",
        "mail:",
        "  delivery: pigeon",
        "  series-wait: 30 minutes",
        "  opt-out: [nobody]",
        "  mirrors:",
        '    - { name: "dri devel", inbox: /srv/lore/dri-devel, policy: everyone, threshold: high, poll: 5 }',
        "    - { inbox: /srv/lore/linux-media }",
      ].join("\n"),
    );
    expect(err.reason).toBe("bad-config");
    expect(err.detail.split("; ")).toEqual([
      "10 problems: field logging: not a known setting (known here: data-dir, review-budget, public-url, http, mail, github, gitlab)",
      "field http.port: must be <= 65535 (got 70000)",
      "field mail.mirrors.0.name: must be letters, digits, '.', '_' or '-' (got \"dri devel\")",
      "field mail.mirrors.0.poll: must be string (got 5)",
      'field mail.mirrors.0.policy: must be one of all, author, none (got "everyone")',
      'field mail.mirrors.0.threshold: must be one of info, warning, error (got "high")',
      "field mail.mirrors.1.name: missing, and it is required",
      'field mail.delivery: must be one of outbox, smtp (got "pigeon")',
      'field mail.series-wait: must be a duration such as 90s, 5m or 2h (got "30 minutes")',
      'field mail.opt-out.0: must be a mail address such as name@example.org (got "nobody")',
    ]);
  });

  it("says one problem without counting it", async () => {
    expect((await refusal("mail:\n  delivery: pigeon\n")).detail).toBe('field mail.delivery: must be one of outbox, smtp (got "pigeon")');
  });
});
