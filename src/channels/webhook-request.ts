import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";

/**
 * The transport side of a webhook delivery, shared by both forges: what can be refused from the
 * headers alone is refused before a byte of the body is read, the rest is read up to a cap, and
 * a refused request's connection is closed so that its body is never read either.
 */

// GitHub caps a delivery at 25 MB; GitLab's are smaller.
export const MAX_BODY_BYTES = 25 * 1024 * 1024;

export interface HttpAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
}

export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export const NOT_JSON: HttpAnswer = { status: 415, body: { error: "unknown-event", detail: "Content-Type must be application/json" } };

export function isJsonContent(h: IncomingHttpHeaders): boolean {
  return /^application\/json\b/.test(header(h, "content-type") ?? "");
}

/** A declared length over the cap is refused before reading; a chunked body is capped while read. */
export function declaredTooLarge(h: IncomingHttpHeaders, limit: number): HttpAnswer | undefined {
  const length = Number(header(h, "content-length") ?? "0");
  return length > limit ? tooLarge(limit) : undefined;
}

const tooLarge = (limit: number): HttpAnswer => ({ status: 413, body: { error: "too-large", detail: `body over ${limit} bytes` } });

export function answer(res: ServerResponse, a: HttpAnswer): void {
  if (res.headersSent) return;
  res.writeHead(a.status, { "content-type": "application/json" }).end(`${JSON.stringify(a.body)}\n`);
}

/**
 * Answer and close the connection: Node would otherwise read (and drop) the rest of the body to
 * keep the connection alive, which is the very work a refusal is meant to save.
 */
export function refuse(res: ServerResponse, a: HttpAnswer): void {
  if (res.headersSent) return;
  res.shouldKeepAlive = false;
  res.writeHead(a.status, { "content-type": "application/json", connection: "close" }).end(`${JSON.stringify(a.body)}\n`);
}

/** The body, or the 413 to answer once it passes `limit` (reading stops there). */
export function readBody(req: IncomingMessage, limit: number): Promise<{ ok: true; body: Buffer } | { ok: false; answer: HttpAnswer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= limit) return void chunks.push(c);
      req.off("data", onData);
      req.pause();
      chunks.length = 0;
      resolve({ ok: false, answer: tooLarge(limit) });
    };
    req.on("data", onData);
    req.on("end", () => resolve({ ok: true, body: Buffer.concat(chunks) }));
    req.on("error", reject);
  });
}

/** A delivery's payload is a JSON object; a scalar, an array or null is as malformed as bad JSON. */
export function parseJsonObject(body: Buffer): { ok: true; value: Record<string, unknown> } | { ok: false; answer: HttpAnswer } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return { ok: false, answer: { status: 400, body: { error: "unknown-event", detail: "body is not JSON" } } };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, answer: { status: 400, body: { error: "unknown-event", detail: "payload is not a JSON object" } } };
  }
  return { ok: true, value: value as Record<string, unknown> };
}
