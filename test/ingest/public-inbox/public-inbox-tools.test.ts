import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { loadReviewDeps, type ChannelContext } from "../../../src/channels/context.js";
import { MailMirror, mailTarget } from "../../../src/channels/mail.js";
import { loadConfig, type MirrorConfig } from "../../../src/config/config.js";
import { splitMbox } from "../../../src/ingest/mbox/reader.js";
import { EpochReader, listEpochs, type ArchiveEntry } from "../../../src/ingest/public-inbox/reader.js";
import { triage } from "../../../src/ingest/public-inbox/triage.js";
import { Store } from "../../../src/state/store.js";
import { fixture } from "../../helpers/mail.js";

/**
 * The reader against an inbox written by public-inbox itself (Debian's package: .ci/run installs
 * it when apt-get can). Where the tools are missing the test is skipped, and says why.
 */
function has(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const TOOLS = ["public-inbox-init", "public-inbox-mda", "public-inbox-learn"];
const missing = TOOLS.filter((t) => !has(t));
if (missing.length > 0) {
  console.log(`skipped: public-inbox's own tools are not installed (${missing.join(", ")}); install Debian's public-inbox package to read an inbox it wrote`);
}

const ADDRESS = "dri-devel@lists.freedesktop.org";

describe.skipIf(missing.length > 0)("an inbox written by public-inbox's own tools (public-inbox-init -V2, -mda, -learn rm)", () => {
  // public-inbox's Perl tools start a process per message: slow when the whole suite runs at once.
  it("is read message by message in delivery order, the removal skipped, and reviewed end to end", async () => {
    const home = mkdtempSync(join(tmpdir(), "dmabuf-review-pi-"));
    const inbox = join(home, "inbox");
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, PI_CONFIG: join(home, "pi-config"), ORIGINAL_RECIPIENT: ADDRESS };
    execFileSync("public-inbox-init", ["-V2", "dri-devel", inbox, "http://example.org/dri-devel", ADDRESS], { env, stdio: "pipe" });
    // No SpamAssassin here: deliver what we give it.
    execFileSync("git", ["config", "-f", env["PI_CONFIG"]!, "publicinboxmda.spamcheck", "none"], { env });
    const series = splitMbox(readFileSync(fixture("series/dma-coherent-v1.mbox")), "fixture").map((r) => r.bytes);
    const spam = Buffer.from(`From: Prize <prize@spam.example>\nTo: ${ADDRESS}\nSubject: you won\nMessage-ID: <won@spam.example>\nDate: Tue, 01 Nov 2022 00:00:00 +0000\n\nclaim it\n`);
    for (const m of [...series.slice(0, 3), spam, ...series.slice(3)]) execFileSync("public-inbox-mda", ["--no-precheck"], { env, input: m, stdio: ["pipe", "pipe", "pipe"] });
    execFileSync("public-inbox-learn", ["rm"], { env, input: spam, stdio: ["pipe", "pipe", "pipe"] });

    const epochs = listEpochs(inbox);
    expect(epochs.map((e) => e.name)).toEqual(["0"]);
    const reader = new EpochReader(epochs[0]!);
    const entries: ArchiveEntry[] = [];
    try {
      const list = await reader.list(undefined);
      for await (const e of reader.read(list.next(100))) entries.push(e);
    } finally {
      await reader.close();
    }
    const ids = entries.map((e) => (e.kind === "message" ? (triage(e.bytes) as { ok: true; value: { messageId: string } }).value.messageId : e.kind));
    const expected = series.map((b) => /^Message-ID: <([^>]+)>/im.exec(b.toString("utf8"))![1]!);
    expect(ids).toEqual([...expected.slice(0, 3), "won@spam.example", ...expected.slice(3), "deleted"]);

    // And the channel on top of it: the same replies as from our own test archives.
    const config = await loadConfig(undefined, {});
    const mirror: MirrorConfig = { name: "dri-devel", inbox, remote: undefined, pollSeconds: 300, policy: "all", threshold: "warning", list: ADDRESS, history: "reply", mode: "send", sending: { maxAgeSeconds: Number.MAX_SAFE_INTEGER } };
    const store = Store.open(join(home, "state.db"));
    const outbox = join(home, "outbox");
    const ctx: ChannelContext = { config: { ...config, dataDir: home, mail: { ...config.mail, outbox, demo: false } }, store, review: await loadReviewDeps(), log: pino({ level: "silent" }) };
    const engine = new MailMirror(ctx, mirror, mailTarget(ctx));
    try {
      const stats = await engine.pass({ reply: "new" });
      expect(stats).toMatchObject({ messages: 7, deleted: 1, reviewed: 1 });
      const subjects = readdirSync(outbox)
        .map((f) => /^Subject: (.*)$/m.exec(readFileSync(join(outbox, f), "utf8").replace(/\n[ \t]+/g, " "))![1])
        .sort();
      // No reply to the cover letter: the patch replies carry all the model's summary would say.
      expect(subjects).toEqual([
        "Re: [PATCH 1/3] dma-buf: add dma_coherent flag",
        "Re: [PATCH 2/3] drm/prime: set the dma_coherent flag for export",
        "Re: [PATCH 3/3] media: videobuf2: set dma_coherent flag for DMA-buf",
      ]);
    } finally {
      await engine.close();
      store.close();
    }
  }, 120_000);
});
