import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { errnoText, InputError, MAX_INPUT_BYTES } from "../../errors.js";

/** One message's bytes and where they came from, before any MIME parsing. */
export interface RawMessage {
  readonly bytes: Buffer;
  /** "path", "path#3" for the third message of an mbox, or "stdin#3". */
  readonly source: string;
}

const FROM_LINE = /^From \S+/;
// Inside an mbox a separator is `From <sender> <asctime>` ("From mboxrd@z Thu Jan  1 00:00:00
// 1970", "From 6e3af7fc... Mon Sep 17 00:00:00 2001"): in an mboxo file that did not escape its
// bodies, a paragraph opening "From the datasheet, ..." must not start a new message.
const SEPARATOR = /\r?\n\r?\n(?=From \S+ +(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) +(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} +\d{1,2}:\d\d)/g;

/** An mbox starts with a `From ` separator line; a lone message starts with a header. */
export function isMbox(bytes: Buffer): boolean {
  return FROM_LINE.test(bytes.subarray(0, 200).toString("latin1"));
}

/**
 * Split an mbox (mboxrd or mboxo) into messages: a `From ` line after a blank line starts a new
 * message; `>From ` quoting is undone (mboxrd: one `>` less on every `>+From ` line).
 * Works on latin1 so that bytes survive untouched whatever the charset.
 */
export function splitMbox(bytes: Buffer, source: string): RawMessage[] {
  const text = bytes.toString("latin1");
  const out: RawMessage[] = [];
  const starts: number[] = [];
  if (FROM_LINE.test(text)) starts.push(0);
  const re = new RegExp(SEPARATOR.source, "g");
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index + m[0].length);
  for (let i = 0; i < starts.length; i++) {
    const begin = starts[i]!;
    const end = i + 1 < starts.length ? starts[i + 1]! : text.length;
    const chunk = text.slice(begin, end);
    const firstNl = chunk.indexOf("\n");
    const message = (firstNl < 0 ? "" : chunk.slice(firstNl + 1)).replace(/^>(>*From )/gm, "$1");
    out.push({ bytes: Buffer.from(message, "latin1"), source: `${source}#${i + 1}` });
  }
  return out;
}

// gzip's magic number: lore serves a thread as t.mbox.gz, and people keep archives compressed.
const GZIP = Buffer.from([0x1f, 0x8b]);

/**
 * The bytes of a gzip file, refused past `limit` while inflating: a small file can hold
 * gigabytes of zeros, so the size on disk says nothing.
 */
export function gunzipLimited(bytes: Buffer, source: string, limit = MAX_INPUT_BYTES): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: limit });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === "ERR_BUFFER_TOO_LARGE") throw new InputError("too-large", `more than ${limit} bytes once uncompressed`, source);
    throw new InputError("unreadable", `not a readable gzip file: ${e.message}`, source);
  }
}

function fromBuffer(compressed: Buffer, source: string): RawMessage[] {
  const gzipped = compressed.subarray(0, 2).equals(GZIP);
  const bytes = gzipped ? gunzipLimited(compressed, source) : compressed;
  if (gzipped && bytes.toString("latin1").trim() === "") throw new InputError("empty-input", "nothing in the gzip file", source);
  if (!isMbox(bytes)) return [{ bytes, source }];
  const split = splitMbox(bytes, source);
  // A `git format-patch` file is a one-message mbox; "#1" would only be noise in its name.
  return split.length === 1 ? [{ bytes: split[0]!.bytes, source }] : split;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += b.length;
    if (size > MAX_INPUT_BYTES) throw new InputError("too-large", `input exceeds ${MAX_INPUT_BYTES} bytes`, "stdin");
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/**
 * Names in the order a person numbers them: "patch-2.eml" before "patch-10.eml", and a series'
 * files ("v2-0001-...", "v2-0002-...") together, after the revision before it.
 */
export function byNaturalName(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const nx = /^\d/.test(x) ? Number(x) : Number.NaN;
    const ny = /^\d/.test(y) ? Number(y) : Number.NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny) && nx !== ny) return nx - ny;
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * Read a path (a message, an mbox, either gzipped, or a directory of them) or `-` for stdin
 * into raw messages. An empty input is an error of its own: there is nothing to review.
 */
export async function readMessages(path: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<RawMessage[]> {
  if (path === "-") {
    const bytes = await readStream(stdin);
    if (bytes.length === 0 || bytes.toString("latin1").trim() === "") throw new InputError("empty-input", "nothing on stdin", "stdin");
    return fromBuffer(bytes, "stdin");
  }
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new InputError("unreadable", errnoText((err as NodeJS.ErrnoException).code), path);
  }
  if (info.isDirectory()) {
    const names = (await readdir(path, { withFileTypes: true }))
      .filter((d) => d.isFile() && !d.name.startsWith("."))
      .map((d) => d.name)
      .sort(byNaturalName);
    const out: RawMessage[] = [];
    for (const name of names) {
      const file = join(path, name);
      const bytes = await readFile(file);
      if (bytes.toString("latin1").trim() === "") continue;
      out.push(...fromBuffer(bytes, file));
    }
    if (out.length === 0) throw new InputError("empty-input", "no messages in directory", path);
    return out;
  }
  if (info.size > MAX_INPUT_BYTES) throw new InputError("too-large", `${info.size} bytes, limit ${MAX_INPUT_BYTES}`, path);
  const bytes = await readFile(path);
  if (bytes.toString("latin1").trim() === "") throw new InputError("empty-input", "the file is empty", path);
  return fromBuffer(bytes, path);
}
