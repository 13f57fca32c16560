import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAddress } from "../../src/channels/mail.js";
import { loadConfig } from "../../src/config/config.js";
import { InputError } from "../../src/errors.js";

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-cfg-"));
  const path = join(dir, "config.yaml");
  writeFileSync(path, text);
  return path;
}

describe("the mail channel's configuration", () => {
  it("reads mirrors, delivery, opt-outs and the batch size; relative paths from the file; the SMTP password from the environment", async () => {
    const path = file(
      [
        "data-dir: state",
        "mail:",
        '  from: "dmabuf-review <bot@example.org>"',
        "  delivery: smtp",
        "  smtp: { host: smtp.example.org, port: 2525, user: bot }",
        "  series-wait: 45m",
        "  batch: 200",
        "  opt-out: [Someone@Example.org]",
        "  mirrors:",
        "    - { name: dri-devel, inbox: lore/dri-devel, remote: https://lore.kernel.org/dri-devel, poll: 2m, list: dri-devel@lists.freedesktop.org, policy: author, threshold: error, history: reply, mode: send, per-day: 5, max-age: 3d, mute-threads: [\"<t@x>\"] }",
        "    - { name: media, inbox: /srv/lore/linux-media }",
        "",
      ].join("\n"),
    );
    const c = await loadConfig(path, { DMABUF_REVIEW_SMTP_PASSWORD: "pw" });
    const dir = join(path, "..");
    expect(c.dataDir).toBe(join(dir, "state"));
    expect(c.mail).toMatchObject({ delivery: "smtp", seriesWaitSeconds: 2700, batch: 200, optOut: ["someone@example.org"], demo: false, outbox: join(dir, "state", "outbox") });
    expect(c.mail.smtp).toEqual({ host: "smtp.example.org", port: 2525, secure: false, user: "bot", password: "pw" });
    expect(c.mail.mirrors).toEqual([
      { name: "dri-devel", inbox: join(dir, "lore/dri-devel"), remote: "https://lore.kernel.org/dri-devel", pollSeconds: 120, policy: "author", threshold: "error", list: "dri-devel@lists.freedesktop.org", history: "reply", mode: "send", sending: { perDay: 5, maxAgeSeconds: 3 * 86400, muteThreads: ["t@x"] } },
      // Muted by default: a mirror that says nothing about its mode mails nothing.
      { name: "media", inbox: "/srv/lore/linux-media", remote: undefined, pollSeconds: 300, policy: "all", threshold: "warning", list: undefined, history: "record", mode: "shadow", sending: {} },
    ]);
    expect(parseAddress(c.mail.from)).toEqual({ name: "dmabuf-review", email: "bot@example.org" });
  });

  it("the embedded defaults: outbox delivery under ./data and the demo", async () => {
    const c = await loadConfig(undefined, {});
    expect(c.mail).toMatchObject({ delivery: "outbox", demo: true, batch: 2000, mirrors: [], optOut: [] });
  });

  it("refuses a setting it does not know, or a value out of its list, naming the field", async () => {
    for (const [text, field] of [
      ["mail:\n  mirrors:\n    - { name: x, inbox: y, history: sometimes }\n", /field mail\.mirrors\.0\.history/],
      ["mail:\n  batch: 0\n", /field mail\.batch/],
      ["mail:\n  opt-out: [not-an-address]\n", /field mail\.opt-out\.0/],
      ["mail:\n  delivery: smtp\n", /mail\.delivery is smtp but mail\.smtp is not set/],
    ] as const) {
      const err = await loadConfig(file(text), {}).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InputError);
      expect((err as InputError).reason).toBe("bad-config");
      expect((err as InputError).message).toMatch(field);
    }
  });
});

describe("SMTP delivery and the sender's domain", () => {
  it("refuses at start a From (and so Message-ID) domain that cannot receive mail, naming the setting", async () => {
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-from-"));
    const write = (from: string | undefined) => {
      const path = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(path, `mail:\n${from ? `  from: "${from}"\n` : ""}  delivery: smtp\n  smtp: { host: smtp.example.org }\n`);
      return path;
    };
    for (const from of [undefined, "bot <bot@localhost>", "bot@review.invalid", "bot <bot@box.local>", "bot@mailhost"]) {
      const err = await loadConfig(write(from), {}).catch((e: unknown) => e);
      expect(err, String(from)).toBeInstanceOf(InputError);
      expect((err as InputError).reason).toBe("bad-config");
      expect((err as InputError).detail).toMatch(/cannot receive mail/);
      expect((err as InputError).detail).toMatch(from === undefined ? /^the default mail\.from/ : /^mail\.from in /);
    }
    expect((await loadConfig(write("dmabuf-review <bot@example.org>"), {})).mail.from).toBe("dmabuf-review <bot@example.org>");
    // The outbox reaches nobody: the default address is fine there.
    writeFileSync(join(dir, "outbox.yaml"), "mail:\n  delivery: outbox\n");
    expect((await loadConfig(join(dir, "outbox.yaml"), {})).mail.from).toMatch(/@localhost>$/);
  });
});
