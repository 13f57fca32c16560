import fc from "fast-check";
import { diffOf, patchBody, writeFile } from "./diff.js";
import { editedFixtureFile } from "./fixture-hunks.js";
import { utf8Bytes } from "./mime.js";
import { title } from "./subject.js";

/**
 * A posted series as the raw mails a list delivers: a cover letter or not, patches `[PATCH n/m]`
 * with C diffs around the dma-buf surface, threaded to the first mail, each sent 8bit,
 * quoted-printable or base64; sometimes a reply. What the reviewer of a whole series is fed.
 */

/** Quoted-printable as mail clients write it: `=XX` for `=` and 8-bit bytes, soft breaks at 76. */
function quotedPrintable(bytes: string): string {
  return bytes
    .split("\n")
    .map((line) => {
      const enc = line.replace(/[=\u0080-\u00ff]|[ \t]$/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
      const out: string[] = [];
      let rest = enc;
      while (rest.length > 76) {
        let cut = 75;
        // Never split an =XX escape.
        if (rest[cut - 1] === "=") cut -= 1;
        else if (rest[cut - 2] === "=") cut -= 2;
        out.push(`${rest.slice(0, cut)}=`);
        rest = rest.slice(cut);
      }
      out.push(rest);
      return out.join("\n");
    })
    .join("\n");
}

type Encoding = "8bit" | "quoted-printable" | "base64";

function mail(headers: Record<string, string | undefined>, text: string, encoding: Encoding): string {
  const bytes = utf8Bytes(text);
  const body = encoding === "base64" ? (Buffer.from(bytes, "latin1").toString("base64").match(/.{1,76}/g) ?? []).join("\n") : encoding === "quoted-printable" ? quotedPrintable(bytes) : bytes;
  const head = Object.entries(headers).flatMap(([k, v]) => (v === undefined ? [] : [`${k}: ${v}`]));
  head.push("MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", `Content-Transfer-Encoding: ${encoding}`);
  return `${head.join("\n")}\n\n${body}\n`;
}

export const seriesMails: fc.Arbitrary<string[]> = fc
  .record({
    title,
    version: fc.integer({ min: 1, max: 3 }),
    cover: fc.boolean(),
    patches: fc.array(fc.record({ diff: fc.oneof(diffOf(2, 2, 20).map((d) => d.text), editedFixtureFile.map((f) => writeFile(f).text)), encoding: fc.constantFrom<Encoding>("8bit", "8bit", "quoted-printable", "base64") }), { minLength: 1, maxLength: 3 }),
    reply: fc.option(fc.record({ to: fc.nat(), text: fc.constantFrom("Reviewed-by: Sam Reviewer <sam@example.org>\n", "> quoted\nWhy not per attachment?\n") }), { nil: undefined }),
    day: fc.nat({ max: 27 }),
  })
  .map(({ title: t, version, cover, patches, reply, day }) => {
    const total = patches.length;
    const v = version > 1 ? ` v${version}` : "";
    const first = cover ? 0 : 1;
    const id = (n: number) => `<series-${version}-${n}@example.org>`;
    const common = (n: number) => ({
      From: "Jane Dev <jane.dev@example.org>",
      Date: `Mon, ${day + 1} Nov 2026 10:${String(n).padStart(2, "0")}:00 +0000`,
      "Message-ID": id(n),
      "In-Reply-To": n === first ? undefined : id(first),
      References: n === first ? undefined : id(first),
    });
    const out: string[] = [];
    if (cover) out.push(mail({ ...common(0), Subject: `[PATCH${v} 0/${total}] ${t}` }, "The cover letter.\n", "8bit"));
    patches.forEach((p, i) => {
      const n = i + 1;
      out.push(mail({ ...common(n), Subject: `[PATCH${v} ${n}/${total}] ${t}` }, patchBody(p.diff), p.encoding));
    });
    if (reply) {
      const to = first + (reply.to % (total + (cover ? 1 : 0)));
      out.push(mail({ ...common(99), "Message-ID": "<reply@example.org>", "In-Reply-To": id(to), References: `${id(first)} ${id(to)}`, Subject: `Re: [PATCH${v} ${to}/${total}] ${t}` }, reply.text, "8bit"));
    }
    return out;
  });
