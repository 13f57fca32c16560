import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMbox, splitMbox } from "../mbox/reader.js";
import { appendToInbox, type ArchivedMessage } from "./writer.js";

/**
 * The bundled demo inbox: our own fixtures as a list would have archived them. The 2022
 * dma_coherent series (cover letter, three patches, a reply) earns inline replies and a summary;
 * the udmabuf patch earns one reply; the network driver patch touches no dma-buf code and gets
 * none, which is half of what the demo shows.
 */
export const DEMO_FIXTURES = ["series/dma-coherent-v1.mbox", "model/udmabuf-skip-cpu-sync.patch", "out-of-scope/net-dma-sync.patch"] as const;

const DEMO_LIST = "dri-devel@lists.freedesktop.org";

/** The package's fixtures directory, from src/ or from dist/src/. */
export function fixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, "fixtures", "series"))) return join(dir, "fixtures");
    dir = dirname(dir);
  }
  throw new Error("the fixtures directory is not installed");
}

// format-patch files carry neither a Message-ID nor a list address; a list archive always has
// both. They are added as the list would, so the demo threads and addresses like real mail.
function asArchived(bytes: Buffer, name: string): Buffer {
  const end = bytes.indexOf("\n\n");
  const head = bytes.subarray(0, end < 0 ? bytes.length : end).toString("latin1");
  const add: string[] = [];
  if (!/^message-id:/im.test(head)) add.push(`Message-ID: <demo.${name}@dmabuf-review.invalid>`);
  if (!/^to:/im.test(head)) add.push(`To: ${DEMO_LIST}`);
  return add.length === 0 ? bytes : Buffer.concat([Buffer.from(`${add.join("\n")}\n`), bytes]);
}

/** Build the demo inbox at `inbox` unless it exists; true when it was built now. */
export async function ensureDemoInbox(inbox: string, fixtures = fixturesDir()): Promise<boolean> {
  if (existsSync(join(inbox, "git", "0.git"))) return false;
  const messages: ArchivedMessage[] = [];
  for (const rel of DEMO_FIXTURES) {
    const path = join(fixtures, rel);
    if (!existsSync(path)) continue; // an installed package carries fixtures/series only
    const name = basename(rel).replace(/\.\w+$/, "");
    const bytes = readFileSync(path);
    const raws = isMbox(bytes) ? splitMbox(bytes, path).map((r) => r.bytes) : [bytes];
    raws.forEach((raw, i) => messages.push({ bytes: asArchived(raw, `${name}.${i + 1}`) }));
  }
  await appendToInbox(inbox, messages);
  return true;
}
