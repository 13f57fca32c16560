import { describe, expect, it } from "vitest";
import { joinCutAddresses } from "../../src/ingest/address-fold.js";
import { parseMime } from "../../src/ingest/mime.js";
import { parsePlainMime } from "../../src/ingest/plain-mime.js";

const message = (cc: string) =>
  Buffer.from(
    [
      "From: Dev <dev@example.org>",
      "To: dri-devel@lists.freedesktop.org",
      cc,
      "Subject: [PATCH] dma-buf: x",
      "Message-ID: <fold@example.org>",
      "Date: Thu, 20 Oct 2022 12:13:14 +0000",
      "",
      "body",
      "",
    ].join("\n"),
  );

describe("address headers folded inside an address (some mailers, Mailman's rewriting)", () => {
  for (const [name, cc] of [
    ["a fold before the local part's end", "Cc: linux-media@vger.kernel.org, linux-perf-\n users@vger.kernel.org"],
    ["a fold inside the domain", "Cc: linux-media@vger.kernel.org, linux-perf-users@vger.\n kernel.org"],
    ["a fold inside an angle address", 'Cc: "Perf list" <linux-perf-\n users@vger.kernel.org>, linux-media@vger.kernel.org'],
  ] as const) {
    it(`${name}: one address, as the sender meant, by both parsers`, async () => {
      const raw = { bytes: message(cc), source: "fold" };
      for (const m of [parsePlainMime(raw)!, await parseMime(raw)]) {
        expect(m.cc.map((p) => p.email).sort()).toEqual(["linux-media@vger.kernel.org", "linux-perf-users@vger.kernel.org"]);
        expect(m.cc.map((p) => p.name)).not.toContain("linux-perf-");
      }
    });
  }

  it("leaves folds at blanks alone: a display name folded, an address list folded after a comma", () => {
    const head = 'From: Jane\n Doe <jane@example.org>\nCc: a@example.org,\n b@example.org\nSubject: linux-\n perf';
    expect(joinCutAddresses(head)).toBe(head);
  });

  it("looks only at address fields starting a line (lines end at LF), whatever else the block holds", () => {
    const cut = "linux-perf-\n users@vger.kernel.org";
    expect(joinCutAddresses(`Subject: x\nTo : ${cut}\nCc: a@example.org`)).toBe("Subject: x\nTo : linux-perf-users@vger.kernel.org\nCc: a@example.org");
    expect(joinCutAddresses(`X-Mailer: y\nCC:\t${cut}\n\tb@example.org`)).toBe("X-Mailer: y\nCC:\tlinux-perf-users@vger.kernel.org\n\tb@example.org");
    for (const head of [`Resent-To: ${cut}`, `X-Foo: a\rTo: ${cut}`, `Toast: ${cut}`, ` To: ${cut}`]) expect(joinCutAddresses(head)).toBe(head);
  });
});
