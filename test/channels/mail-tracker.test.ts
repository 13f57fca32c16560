import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, type MirrorConfig } from "../../src/config/config.js";
import { loadReviewDeps, type ChannelContext } from "../../src/channels/context.js";
import { MailMirror, mailTarget } from "../../src/channels/mail.js";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { appendToInbox } from "../../src/ingest/public-inbox/writer.js";
import { postMessageId } from "../../src/publish/mail/compose.js";
import { FeedbackStore } from "../../src/state/feedback.js";
import { Store } from "../../src/state/store.js";
import { MBOX, V1_COVER, V2_COVER } from "../feedback/fixture.js";

const ANSWER = "YWxleC1hbnN3ZXItam9uYXM@example.com";
const BOT = { name: "dmabuf-review", email: "bot@dmabuf-review.example" };

/** The fixture's messages as raw bytes with their Message-ID and Date, archive order. */
function raws(): { id: string; bytes: Buffer; time: Date }[] {
  return splitMbox(readFileSync(MBOX), "fixture").map((r) => {
    const text = r.bytes.toString("latin1");
    const id = /^Message-ID: <([^>]+)>/im.exec(text)![1]!;
    const date = new Date(/^Date: (.*)$/im.exec(text)![1]!);
    return { id, bytes: r.bytes, time: date };
  });
}

function header(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf("\n\n")).replace(/\r/g, "").replace(/\n[ \t]+/g, " ");
  return new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1]?.trim();
}

function body(raw: string): string {
  return raw.replace(/\r/g, "").slice(raw.replace(/\r/g, "").indexOf("\n\n") + 2);
}

describe("mail channel: the review tracker on the v2 cover letter", () => {
  const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-mail-tracker-"));
  const inbox = join(dir, "inbox");
  const outbox = join(dir, "outbox");
  let store: Store;
  let engine: MailMirror;
  const mails = () =>
    readdirSync(outbox)
      .filter((f) => f.endsWith(".eml"))
      .sort()
      .map((f) => readFileSync(join(outbox, f), "utf8"));
  const trackerMails = () => mails().filter((m) => /^tracker/.test(header(m, "X-Dmabuf-Review") ?? ""));

  beforeAll(async () => {
    const all = raws();
    await appendToInbox(
      inbox,
      all.filter((r) => r.id !== ANSWER),
    );
    const config = await loadConfig(undefined, {});
    const mirror: MirrorConfig = { name: "dri-devel", inbox, remote: undefined, pollSeconds: 300, policy: "all", threshold: "warning", list: "dri-devel@lists.freedesktop.org", history: "reply" };
    store = Store.open(join(dir, "state.db"));
    const ctx: ChannelContext = {
      config: { ...config, dataDir: dir, mail: { ...config.mail, mirrors: [mirror], outbox, demo: false, from: `${BOT.name} <${BOT.email}>` } },
      store,
      review: await loadReviewDeps(),
      log: pino({ level: "silent" }),
    };
    engine = new MailMirror(ctx, mirror, mailTarget(ctx));
  });

  afterAll(async () => {
    await engine.close();
    store.close();
  });

  it("posts one tracker, in reply to the v2 cover letter, once v2 is reviewed", async () => {
    await engine.pass({ reply: "all" });
    const t = trackerMails();
    expect(t).toHaveLength(1);
    const m = t[0]!;
    expect(header(m, "X-Dmabuf-Review")).toBe("tracker");
    expect(header(m, "In-Reply-To")).toBe(`<${V2_COVER}>`);
    expect(header(m, "Subject")).toBe("Re: [PATCH v2 0/3] dma-buf: coherency flag with an exporter override");
    expect(header(m, "To")).toBe("Alex Moreau <alex.moreau@example.com>");
    expect(header(m, "Message-ID")).toBe(`<${postMessageId({ channel: "mail", thread: V2_COVER, what: "tracker" }, BOT)}>`);
    const text = body(m);
    expect(text.startsWith("Tracker: dma-buf: coherency flag with an exporter override (v2)\n")).toBe(true);
    expect(text).toContain(`  v1 <${V1_COVER}>, 2022-10-20\n`);
    expect(text).toContain("  1.4  not addressed  objection         1/3   Jonas Weber\n");
    expect(text).toContain("\n-- \ndmabuf-review: an automated review");
    // The bot's own review replies are in the outbox too, but are not the tracker.
    expect(mails().length).toBeGreaterThan(1);
  });

  it("a later reply that changes a verdict is answered on the tracker with the change, not a second tracker", async () => {
    await appendToInbox(inbox, raws().filter((r) => r.id === ANSWER));
    await engine.pass({ reply: "all" });
    const t = trackerMails();
    expect(t).toHaveLength(2);
    const update = t.find((m) => header(m, "X-Dmabuf-Review") !== "tracker")!;
    expect(header(update, "X-Dmabuf-Review")).toMatch(/^tracker:[0-9a-f]{16}$/);
    expect(header(update, "In-Reply-To")).toBe(`<${postMessageId({ channel: "mail", thread: V2_COVER, what: "tracker" }, BOT)}>`);
    expect(body(update).split("\n").slice(0, 4)).toEqual([
      "Since the last tracker for v2:",
      "",
      "  1.4  not addressed -> answered: Jonas Weber, objection on v1 1/3",
      "    - reply <YWxleC1hbnN3ZXItam9uYXM@example.com> from Alex Moreau,",
    ]);
    expect(body(update)).toContain("  1.4  answered       objection         1/3   Jonas Weber\n");
    expect(new FeedbackStore(store.db).items(V2_COVER).map((i) => i.verdict)).toEqual([
      "not addressed",
      "addressed",
      "unclear",
      "answered",
      "addressed",
      "obsolete",
      "obsolete",
      "not addressed",
      "unclear",
    ]);
    expect(store.ledger.get({ channel: "mail", thread: V2_COVER, what: "tracker" })).toMatchObject({ state: "posted" });
  });

  it("a pass with nothing new sends nothing", async () => {
    const before = mails().length;
    await engine.pass({ reply: "all" });
    expect(mails().length).toBe(before);
  });
});
