import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadReviewDeps, type ChannelContext } from "../../src/channels/context.js";
import { startMailChannel } from "../../src/channels/mail.js";
import { loadConfig, type MirrorConfig } from "../../src/config/config.js";
import { postMessageId } from "../../src/publish/mail/compose.js";
import { Store } from "../../src/state/store.js";
import { assertBuilt } from "../helpers/cli.js";
import { PeerInbox } from "../peers/public-inbox.js";
import { startSmtpPeer, type SmtpPeer } from "../peers/smtp.js";
import { BOT, fixtureMessages, LIST, NO_AGE_LIMIT } from "./mail-setup.js";

let peer: SmtpPeer;
beforeAll(async () => {
  assertBuilt(); // the review worker runs the compiled channel code
  peer = await startSmtpPeer();
});
afterAll(async () => {
  await peer.close();
});

const until = async (cond: () => boolean, what: string) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("the running mail channel, delivering over SMTP", () => {
  it("replies to what is in the archive, then to what arrives while it watches, each once", async () => {
    const inbox = new PeerInbox();
    for (const m of fixtureMessages("series/dma-coherent-v1.mbox")) inbox.add(m);
    const dir = mkdtempSync(join(tmpdir(), "dmabuf-review-smtpch-"));
    const config = await loadConfig(undefined, {});
    const mirror: MirrorConfig = { name: "dri-devel", inbox: inbox.dir, remote: undefined, pollSeconds: 1, policy: "all", threshold: "warning", list: LIST, history: "reply", mode: "send", sending: NO_AGE_LIMIT };
    const store = Store.open(join(dir, "state.db"));
    const ctx: ChannelContext = {
      config: {
        ...config,
        dataDir: dir,
        mail: { ...config.mail, mirrors: [mirror], demo: false, delivery: "smtp", smtp: { host: "127.0.0.1", port: peer.port, secure: false, user: undefined, password: undefined }, from: `${BOT.name} <${BOT.email}>` },
      },
      store,
      review: await loadReviewDeps(),
      log: pino({ level: "silent" }),
    };
    const running = await startMailChannel(ctx);
    try {
      await until(() => peer.received.length >= 3, "the series' replies");
      const patch1 = "20221020121316.3946-2-christian.koenig@amd.com";
      const r = peer.received.find((m) => m.raw.includes(`In-Reply-To: <${patch1}>`))!;
      expect(r.from).toBe(BOT.email);
      // Lucas Stach replied to patch 1 before it was reviewed: he takes part in its thread (Cc).
      expect(r.to).toEqual(["christian.koenig@amd.com", LIST, "l.stach@pengutronix.de", "linaro-mm-sig@lists.linaro.org", "linux-media@vger.kernel.org", "sumit.semwal@linaro.org"]);
      const patch2 = peer.received.find((m) => m.raw.includes("In-Reply-To: <20221020121316.3946-3-christian.koenig@amd.com>"))!;
      expect(patch2.to).not.toContain("l.stach@pengutronix.de");
      const parsed = await simpleParser(r.raw);
      expect(parsed.subject).toBe("Re: [PATCH 1/3] dma-buf: add dma_coherent flag");
      expect(parsed.references).toEqual(["<20221020121316.3946-1-christian.koenig@amd.com>", `<${patch1}>`]);
      expect(parsed.text).toContain("> +\tif (dmabuf->dma_coherent && !dev_is_dma_coherent(dev))\n> +\t\treturn ERR_PTR(-EINVAL);\n\ndma_buf_dynamic_attach() gains a new failure");
      // Each reply goes under the id its ledger key gives it; no summary that repeats the replies.
      expect(r.messageId).toBe(postMessageId({ channel: "mail", thread: patch1, what: "reply" }, BOT));
      const summaryId = postMessageId({ channel: "mail", thread: "20221020121316.3946-1-christian.koenig@amd.com", what: "summary" }, BOT);
      expect(peer.received.map((m) => m.messageId)).not.toContain(summaryId);

      // A patch arriving while the channel watches is answered at the next poll.
      const udmabuf = fixtureMessages("model/udmabuf-skip-cpu-sync.patch")[0]!;
      inbox.add(Buffer.concat([Buffer.from(`Message-ID: <udmabuf-live@example.org>\nTo: ${LIST}\n`), udmabuf]), { time: new Date(Date.now() + 1000) });
      await until(() => peer.received.length >= 4, "the reply to the new patch");
      expect(peer.received[3]!.raw).toContain("In-Reply-To: <udmabuf-live@example.org>");
      await new Promise((r) => setTimeout(r, 2500)); // two more polls: nothing more
      expect(peer.received).toHaveLength(4);
      expect(new Set(peer.received.map((m) => m.messageId)).size).toBe(4);
    } finally {
      await running.stop();
      store.close();
    }
  });
});
