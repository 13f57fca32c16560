import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPatchworkStandin, type PatchworkStandin } from "../peers/patchwork-standin.js";
import { PeerInbox } from "../peers/public-inbox.js";
import { startSmtpPeer, type SmtpPeer } from "../peers/smtp.js";
import { fixtureMessages, idOf, mailEnv } from "./mail-setup.js";

const TOKEN = "0123abcd";

let smtp: SmtpPeer;
let pw: PatchworkStandin;
beforeAll(async () => {
  smtp = await startSmtpPeer();
  pw = await startPatchworkStandin({ project: "dri-devel", tokens: { [TOKEN]: "bot" }, maintainers: ["bot"] });
});
afterAll(async () => {
  await smtp.close();
  await pw.close();
});

/*
 * `git send-email --compose` sends the cover letter first, but a list archive may hold it after
 * its patches (moderation, a slow relay): the patches are reviewed and answered before the
 * cover letter is read. Reading it later must not review and answer the series a second time.
 */
describe("an untagged cover letter archived after its patches were reviewed and answered", () => {
  it("adds no mail, no patchwork check and no second series", async () => {
    const [cover, ...rest] = fixtureMessages("series/untagged-cover-3.mbox");
    const patches = rest.slice(0, 3);
    const [p1, p2, p3] = patches.map(idOf);
    for (const id of [p1!, p2!, p3!]) pw.addPatch(id);
    const inbox = new PeerInbox();
    for (const m of patches) inbox.add(m);
    const patchwork = { url: pw.url, project: "dri-devel", context: "dmabuf-review", token: TOKEN };
    const smtpConfig = { host: "127.0.0.1", port: smtp.port, secure: false, user: undefined, password: undefined };
    let e = await mailEnv(inbox.dir, { mirror: { patchwork }, mail: { delivery: "smtp", smtp: smtpConfig } });
    const db = () => e.store.db;
    const seriesRows = () => db().prepare("SELECT id, total FROM series ORDER BY id").all();
    const pageRows = () => db().prepare("SELECT series_id FROM review_pages ORDER BY series_id").all();
    const findingRows = () => db().prepare("SELECT series_id, patch_id, fingerprint FROM findings ORDER BY patch_id, fingerprint").all();
    try {
      // The first run: the three patches, complete, reviewed and answered.
      await e.engine.pass({ reply: "new" });
      const mailed = smtp.received.map((m) => m.messageId);
      const answered = smtp.received.map((m) => /^In-Reply-To: <([^>]+)>/im.exec(m.raw)?.[1]);
      const checks = pw.checks.map((c) => ({ ...c }));
      const series = seriesRows();
      const pages = pageRows();
      const findings = findingRows();
      // The fixture earns mail and checks, or this test would prove nothing.
      expect(mailed.length).toBeGreaterThan(0);
      expect(answered.every((id) => id === p1 || id === p2 || id === p3)).toBe(true);
      expect(checks.length).toBeGreaterThan(0);
      expect(series).toEqual([{ id: p1, total: 3 }]);
      expect(pages).toEqual([{ series_id: p1 }]);
      expect(findings.length).toBeGreaterThan(0);

      // A later run: the cover letter is the newest commit of the inbox.
      inbox.add(cover!);
      e = await e.restart();
      const posted = pw.requests.filter((r) => r.method === "POST").length;
      await e.engine.pass({ reply: "new" });
      expect(smtp.received.map((m) => m.messageId)).toEqual(mailed);
      expect(pw.requests.filter((r) => r.method === "POST")).toHaveLength(posted);
      expect(pw.checks).toEqual(checks);
      expect(seriesRows()).toEqual(series);
      expect(pageRows()).toEqual(pages);
      expect(findingRows()).toEqual(findings);
      // The cover letter is read as the series' cover, and as reviewed: the thread waits no more.
      const row = db().prepare("SELECT kind, status, series_id FROM messages WHERE message_id = ?").get(idOf(cover!));
      expect(row).toEqual({ kind: "cover", status: "reviewed", series_id: p1 });
      expect(db().prepare("SELECT COUNT(*) FROM mail_threads WHERE waiting = 1").pluck().get()).toBe(0);

      // And a third run reads nothing new and sends nothing.
      e = await e.restart();
      await e.engine.pass({ reply: "new" });
      expect(smtp.received.map((m) => m.messageId)).toEqual(mailed);
      expect(pw.requests.filter((r) => r.method === "POST")).toHaveLength(posted);
    } finally {
      await e.close();
    }
  }, 120_000);
});
