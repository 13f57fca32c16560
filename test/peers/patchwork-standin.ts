import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Recorded } from "./gitlab-standin.js";

export type { Recorded };

export interface StoredCheck {
  readonly id: number;
  readonly patch: number;
  readonly user: string;
  readonly state: string;
  readonly context: string;
  readonly description: string | null;
  readonly target_url: string | null;
}

export interface PatchworkStandin {
  readonly url: string;
  readonly requests: Recorded[];
  readonly checks: StoredCheck[];
  /** A patch appears, as when patchwork has parsed its mail; returns its id. */
  addPatch(msgid: string, project?: string): number;
  /** The next `n` requests get `status` (a 5xx, or "drop": the check is stored but the answer is lost). */
  fail(n: number, status: number | "drop", onlyPosts?: boolean): void;
  /** The newest check per context of a patch, as patchwork shows it. */
  newest(msgid: string, context: string): StoredCheck | undefined;
  close(): Promise<void>;
}

const STATES = ["pending", "success", "warning", "fail"];
const VERSIONS = ["1.0", "1.1", "1.2", "1.3"];

/**
 * A loopback stand-in for patchwork's REST API, for the calls a CI bot makes, checked as
 * patchwork's source defines them: the msgid filter of /patches/ exists from API 1.2 (an older
 * version ignores it and lists every patch); it takes the Message-ID without angle brackets;
 * a check is created only with "Authorization: Token <key>" of a user who may edit the patch
 * (401 for a bad token, 403 for another user), as JSON or a form, with a state among pending,
 * success, warning, fail, a slug context, and target_url a URL; 404 for a patch it does not
 * hold. Checks are kept, never edited; `newest` is what patchwork's page shows per context.
 */
export async function startPatchworkStandin(opts: { project: string; tokens: Record<string, string>; maintainers: readonly string[] }): Promise<PatchworkStandin> {
  const patches: { id: number; msgid: string; project: string }[] = [];
  const checks: StoredCheck[] = [];
  const requests: Recorded[] = [];
  let failures: { n: number; status: number | "drop"; onlyPosts: boolean } = { n: 0, status: 500, onlyPosts: false };
  let url = "";

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify(body));
  };
  const checkJson = (c: StoredCheck, version: string) => ({
    id: c.id,
    url: `${url}/api/${version}/patches/${c.patch}/checks/${c.id}/`,
    user: { username: c.user },
    date: "2026-12-05T00:00:00",
    state: c.state,
    target_url: c.target_url,
    context: c.context,
    description: c.description,
  });

  const handle = (req: IncomingMessage, raw: string, res: ServerResponse) => {
    const u = new URL(req.url ?? "/", "http://x");
    const query = Object.fromEntries(u.searchParams);
    const type = String(req.headers["content-type"] ?? "").split(";")[0]!.trim();
    let body: any = raw;
    if (type === "application/json" && raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        return send(res, 400, { detail: "JSON parse error" });
      }
    } else if (type === "application/x-www-form-urlencoded") body = Object.fromEntries(new URLSearchParams(raw));
    requests.push({ method: req.method ?? "", path: u.pathname, query, headers: req.headers, body, at: Date.now() });
    const m = /^\/api\/(?:(\d+\.\d+)\/)?(.*)$/.exec(u.pathname);
    if (!m || (m[1] && !VERSIONS.includes(m[1]))) return send(res, 404, { detail: "Not found." });
    const version = m[1] ?? "1.3";
    const rest = m[2]!;
    const auth = String(req.headers["authorization"] ?? "");
    const token = /^Token (\S+)$/.exec(auth)?.[1];
    const user = token !== undefined ? opts.tokens[token] : undefined;
    if (auth && !user) return send(res, 401, { detail: "Invalid token." });

    let dropping = false;
    if (failures.n > 0 && (!failures.onlyPosts || req.method === "POST")) {
      if (failures.status !== "drop") {
        failures.n--;
        return send(res, failures.status, { detail: "Server Error" });
      }
      // A drop hits the POST that stores a check: patchwork did the work, the bot never heard.
      if (req.method === "POST") {
        failures.n--;
        dropping = true;
      }
    }

    if (req.method === "GET" && rest === "patches/") {
      const wanted = patches.filter((p) => !query["project"] || p.project === query["project"]);
      // Before 1.2 the msgid filter does not exist and is ignored, as django-filter does.
      const byMsgid = version >= "1.2" && query["msgid"] !== undefined ? wanted.filter((p) => p.msgid === `<${query["msgid"]}>`) : wanted;
      return send(res, 200, byMsgid.map((p) => ({ id: p.id, url: `${url}/api/${version}/patches/${p.id}/`, msgid: p.msgid, project: { link_name: p.project } })));
    }
    const c = /^patches\/(\d+)\/checks\/$/.exec(rest);
    if (c) {
      const patch = patches.find((p) => p.id === Number(c[1]));
      if (!patch) return send(res, 404, { detail: "Not found." });
      if (req.method === "GET") {
        const list = checks.filter((k) => k.patch === patch.id && (!query["context"] || k.context === query["context"]));
        return send(res, 200, list.map((k) => checkJson(k, version)));
      }
      if (req.method !== "POST") return send(res, 405, { detail: `Method "${req.method}" not allowed.` });
      if (!user) return send(res, 401, { detail: "Authentication credentials were not provided." });
      if (!opts.maintainers.includes(user)) return send(res, 403, { detail: "You do not have permission to perform this action." });
      if (type !== "application/json" && type !== "application/x-www-form-urlencoded") return send(res, 415, { detail: `Unsupported media type "${type}" in request.` });
      const errors: Record<string, string[]> = {};
      if (!body || !STATES.includes(body.state)) errors["state"] = ["A check must have a state."];
      if (typeof body?.context !== "string" || !/^[-a-zA-Z0-9_]+$/.test(body.context)) errors["context"] = ["Enter a valid slug."];
      if (body?.target_url !== undefined && body.target_url !== null && !/^https?:\/\/\S+$/.test(body.target_url)) errors["target_url"] = ["Enter a valid URL."];
      if (Object.keys(errors).length > 0) return send(res, 400, errors);
      const stored: StoredCheck = {
        id: checks.length + 1,
        patch: patch.id,
        user,
        state: body.state,
        context: body.context,
        description: body.description ?? null,
        target_url: body.target_url ?? null,
      };
      checks.push(stored);
      if (dropping) return res.socket?.destroy();
      return send(res, 201, checkJson(stored, version));
    }
    return send(res, 404, { detail: "Not found." });
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (b: Buffer) => chunks.push(b));
    req.on("end", () => handle(req, Buffer.concat(chunks).toString("utf8"), res));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    checks,
    addPatch(msgid, project = opts.project) {
      const id = 1000 + patches.length;
      patches.push({ id, msgid: `<${msgid}>`, project });
      return id;
    },
    fail(n, status, onlyPosts = false) {
      failures = { n, status, onlyPosts };
    },
    newest(msgid, context) {
      const p = patches.find((x) => x.msgid === `<${msgid}>`);
      return checks.filter((k) => k.patch === p?.id && k.context === context).at(-1);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
