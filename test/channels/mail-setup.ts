import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { loadReviewDeps, type ChannelContext, type ReviewDeps } from "../../src/channels/context.js";
import { MailMirror, mailTarget } from "../../src/channels/mail.js";
import { loadConfig, type Config, type MirrorConfig } from "../../src/config/config.js";
import { splitMbox } from "../../src/ingest/mbox/reader.js";
import { Store } from "../../src/state/store.js";
import { fixture } from "../helpers/mail.js";

export const BOT = { name: "dmabuf-review", email: "bot@dmabuf-review.example" };
export const LIST = "dri-devel@lists.freedesktop.org";
/** The fixtures are dated (2022, or the peer inbox's 2026-11): no max-age unless a test sets one. */
export const NO_AGE_LIMIT = { maxAgeSeconds: Number.MAX_SAFE_INTEGER } as const;

let deps: Promise<ReviewDeps> | undefined;

/** The messages of a fixture file, raw. */
export function fixtureMessages(rel: string): Buffer[] {
  return splitMbox(readFileSync(fixture(rel)), rel).map((r) => r.bytes);
}

export function idOf(raw: Buffer | string): string {
  return /^Message-ID:\s*<([^>]+)>/im.exec(raw.toString())![1]!;
}

export interface Env {
  readonly dir: string;
  readonly outbox: string;
  readonly store: Store;
  readonly ctx: ChannelContext;
  readonly mirror: MirrorConfig;
  engine: MailMirror;
  /** The mails in the outbox, sorted by file name. */
  mails(): string[];
  /** A new store handle and engine on the same files: what a restart gets. */
  restart(): Promise<Env>;
  close(): Promise<void>;
}

/** A mirror of `inbox` with a fresh store and outbox, the channel's engine on it (reviews inline). */
export async function mailEnv(inbox: string, over: { mirror?: Partial<MirrorConfig>; mail?: Partial<Config["mail"]>; dir?: string } = {}): Promise<Env> {
  deps ??= loadReviewDeps();
  const dir = over.dir ?? mkdtempSync(join(tmpdir(), "dmabuf-review-mailch-"));
  const outbox = join(dir, "outbox");
  const config = await loadConfig(undefined, {});
  const mirror: MirrorConfig = { name: "dri-devel", inbox, remote: undefined, pollSeconds: 300, policy: "all", threshold: "warning", list: LIST, history: "reply", mode: "send", sending: NO_AGE_LIMIT, ...over.mirror };
  const store = Store.open(join(dir, "state.db"));
  const ctx: ChannelContext = {
    config: { ...config, dataDir: dir, mail: { ...config.mail, mirrors: [mirror], outbox, demo: false, from: `${BOT.name} <${BOT.email}>`, ...over.mail } },
    store,
    review: await deps,
    log: pino({ level: "silent" }),
  };
  const env: Env = {
    dir,
    outbox,
    store,
    ctx,
    mirror,
    engine: new MailMirror(ctx, mirror, mailTarget(ctx)),
    mails() {
      let files: string[] = [];
      try {
        files = readdirSync(outbox).filter((f) => f.endsWith(".eml"));
      } catch {
        return [];
      }
      return files.sort().map((f) => readFileSync(join(outbox, f), "utf8"));
    },
    async restart() {
      await env.close();
      return mailEnv(inbox, { ...over, dir });
    },
    async close() {
      await env.engine.close();
      store.close();
    },
  };
  return env;
}

export function header(raw: string, name: string): string | undefined {
  const head = raw.slice(0, raw.indexOf("\n\n")).replace(/\r/g, "").replace(/\n[ \t]+/g, " ");
  return new RegExp(`^${name}: (.*)$`, "im").exec(head)?.[1]?.trim();
}
