import { describe, expect, it } from "vitest";
import { parseReplyTrailers, parseTrailers } from "../../src/patch/trailer.js";

const MESSAGE = `dma_buf_end_cpu_access() only warns about a NULL buffer and then
dereferences it. Return -EINVAL like the begin side does.

Fixes: 0a1b2c3d4e5f ("dma-buf: add CPU access bracketing")
Link: https://lore.kernel.org/r/20261030-dmabuf-null-v1-1@example.org
Cc: stable@vger.kernel.org # 6.1+
Reported-by: Sam Reviewer <sam.reviewer@example.com>
Tested-by: Pat Tester <pat@example.net> # on an rk3588 board with the
  panthor exporter and a v4l2 importer
Acked-by: "Maintainer, Mia" <mia@example.org>
Reviewed-by: Sam Reviewer <sam.reviewer@example.com>
[jane: reworded the warning]
Signed-off-by: Jane Dev <jane.dev@example.org>
change-id: 20261030-dmabuf-null-0c4f2a`;

describe("parseTrailers", () => {
  it("reads every trailer of the last paragraph, in order, with the kernel spelling of the key", () => {
    const t = parseTrailers(MESSAGE);
    expect(t.map((x) => x.key)).toEqual([
      "Fixes",
      "Link",
      "Cc",
      "Reported-by",
      "Tested-by",
      "Acked-by",
      "Reviewed-by",
      "Signed-off-by",
      "change-id",
    ]);
  });

  it("splits person trailers into name and address", () => {
    const t = parseTrailers(MESSAGE);
    expect(t.find((x) => x.key === "Signed-off-by")).toEqual({
      key: "Signed-off-by",
      value: "Jane Dev <jane.dev@example.org>",
      type: "person",
      name: "Jane Dev",
      email: "jane.dev@example.org",
    });
    expect(t.find((x) => x.key === "Acked-by")).toMatchObject({ name: "Maintainer, Mia", email: "mia@example.org" });
  });

  it("takes the address alone from a Cc with a backport note", () => {
    const cc = parseTrailers(MESSAGE).find((x) => x.key === "Cc");
    expect(cc).toMatchObject({ type: "person", email: "stable@vger.kernel.org", value: "stable@vger.kernel.org # 6.1+" });
    expect(cc?.name).toBeUndefined();
  });

  it("keeps utility trailers as references", () => {
    const t = parseTrailers(MESSAGE);
    expect(t.find((x) => x.key === "Fixes")).toEqual({ key: "Fixes", value: '0a1b2c3d4e5f ("dma-buf: add CPU access bracketing")', type: "utility" });
    expect(t.find((x) => x.key === "Link")?.value).toBe("https://lore.kernel.org/r/20261030-dmabuf-null-v1-1@example.org");
    expect(t.find((x) => x.key === "change-id")).toEqual({ key: "change-id", value: "20261030-dmabuf-null-0c4f2a", type: "utility" });
  });

  it("joins an indented continuation line onto its trailer", () => {
    const tested = parseTrailers(MESSAGE).find((x) => x.key === "Tested-by");
    expect(tested).toMatchObject({
      value: "Pat Tester <pat@example.net> # on an rk3588 board with the panthor exporter and a v4l2 importer",
      email: "pat@example.net",
    });
  });

  it("normalises the spelling of keys written in other cases", () => {
    const t = parseTrailers("x\n\nSIGNED-OFF-BY: A Dev <a@example.org>\nreviewed-by: B Dev <b@example.org>\nChange-Id: 20261030-x-1");
    expect(t.map((x) => x.key)).toEqual(["Signed-off-by", "Reviewed-by", "change-id"]);
  });

  it("finds nothing when the last paragraph is prose", () => {
    const msg = `dma-buf: explain the flag

Signed-off-by: Jane Dev <jane.dev@example.org>

The flag is only a hint: exporters that clean and invalidate for
every attachment may still accept non-coherent importers.`;
    expect(parseTrailers(msg)).toEqual([]);
  });

  it("finds nothing in a paragraph of Key: value lines none of which the kernel knows", () => {
    expect(parseTrailers("x\n\nNote: the heaps are fine.\nAlso: the udmabuf exporter.")).toEqual([]);
  });

  it("keeps a sign-off when a forgotten blank line glued it to the prose (git's 25% rule)", () => {
    const t = parseTrailers("x\n\nThis fixes the stale reads on rk3399.\nSigned-off-by: Jane Dev <jane.dev@example.org>");
    expect(t.map((x) => x.key)).toEqual(["Signed-off-by"]);
  });

  it("does not take a prose paragraph with a lone known-looking line when nothing git wrote is in it", () => {
    const msg = "x\n\nThe exporter was changed long ago.\nThe importer never followed.\nThe docs were wrong too.\nReviewed-by: Sam <sam@example.com>";
    expect(parseTrailers(msg)).toEqual([]);
  });

  it("reads a message that is only trailers", () => {
    expect(parseTrailers("Signed-off-by: Jane Dev <jane.dev@example.org>\n")).toHaveLength(1);
  });

  it("accepts CRLF line ends", () => {
    const t = parseTrailers("x\r\n\r\nAcked-by: A <a@example.org>\r\nSigned-off-by: B <b@example.org>\r\n");
    expect(t.map((x) => x.email)).toEqual(["a@example.org", "b@example.org"]);
  });
});

describe("parseReplyTrailers", () => {
  it("takes a reviewer's own tags and ignores quoted ones and Cc", () => {
    const body = `On Mon, Jane Dev wrote:
> Signed-off-by: Jane Dev <jane.dev@example.org>
> Reviewed-by: Someone Else <else@example.org>

Looks right to me.

Reviewed-by: Sam Reviewer <sam.reviewer@example.com>
Cc: stable@vger.kernel.org
`;
    const t = parseReplyTrailers(body);
    expect(t).toEqual([
      { key: "Reviewed-by", value: "Sam Reviewer <sam.reviewer@example.com>", type: "person", name: "Sam Reviewer", email: "sam.reviewer@example.com" },
    ]);
  });

  it("ignores utility trailers a reply mentions", () => {
    expect(parseReplyTrailers("Fixes: 0123456789ab (\"x\")\nLink: https://example.org\n")).toEqual([]);
  });
});
