import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { fetchInbox } from "../../../src/ingest/public-inbox/fetch.js";
import { EpochReader, listEpochs } from "../../../src/ingest/public-inbox/reader.js";
import { mail, PeerInbox } from "../../peers/public-inbox.js";

async function subjects(inbox: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of listEpochs(inbox)) {
    const r = new EpochReader(e);
    try {
      const list = await r.list(undefined);
      for await (const x of r.read(list.next(1000))) if (x.kind === "message") out.push(/^Subject: (.*)$/m.exec(x.bytes.toString())![1]!);
    } finally {
      await r.close();
    }
  }
  return out;
}

describe("fetching a mirror from its remote", () => {
  it("clones a v2 inbox epoch by epoch, then fetches new messages and picks up a new epoch", async () => {
    const remote = new PeerInbox();
    remote.add(mail({ id: "a@x", subject: "a" }, "a\n"));
    const local = join(mkdtempSync(join(tmpdir(), "dmabuf-review-mirror-")), "inbox");
    expect(await fetchInbox(local, remote.dir)).toEqual({ fetched: [], cloned: ["0"] });
    expect(await subjects(local)).toEqual(["a"]);

    remote.add(mail({ id: "b@x", subject: "b" }, "b\n"));
    remote.add(mail({ id: "c@x", subject: "c" }, "c\n"), { epoch: 1 });
    expect(await fetchInbox(local, remote.dir)).toEqual({ fetched: ["0"], cloned: ["1"] });
    expect(listEpochs(local).map((e) => e.name)).toEqual(["0", "1"]);
    expect(await subjects(local)).toEqual(["a", "b", "c"]);

    expect(await fetchInbox(local, remote.dir)).toEqual({ fetched: ["0", "1"], cloned: [] });
  });

  it("mirrors a single epoch repository", async () => {
    const remote = new PeerInbox();
    remote.add(mail({ id: "s@x", subject: "s" }, "s\n"));
    const local = join(mkdtempSync(join(tmpdir(), "dmabuf-review-mirror-")), "0.git");
    expect(await fetchInbox(local, remote.epochDir(0))).toEqual({ fetched: [], cloned: ["0"] });
    remote.add(mail({ id: "t@x", subject: "t" }, "t\n"));
    expect(await fetchInbox(local, remote.epochDir(0))).toEqual({ fetched: ["0"], cloned: [] });
    expect(await subjects(local)).toEqual(["s", "t"]);
  });

  it("fails with git's reason when the remote is not there", async () => {
    const local = join(mkdtempSync(join(tmpdir(), "dmabuf-review-mirror-")), "0.git");
    await expect(fetchInbox(local, join(tmpdir(), "no-such-remote-dmabuf-review.git"))).rejects.toThrow();
  });
});
