import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { parse as parseYaml } from "yaml";
import { errnoText, InputError } from "../errors.js";
import type { Severity } from "../analysis/rules/schema.js";

/**
 * One configuration file for the whole bot (YAML), validated with clear errors. Secrets never
 * live in it: they come from the environment (SMTP password, GitLab token, GitHub App key).
 */
export interface Config {
  /** Where the SQLite store, the demo inbox and the outbox live by default. */
  readonly dataDir: string;
  readonly mail: MailConfig;
  readonly github: GithubConfig;
  readonly gitlab: GitlabConfig;
  readonly http: HttpConfig;
  /** The service's public base URL (`public-url`, or DMABUF_REVIEW_URL): links to review pages start with it. */
  readonly publicUrl?: string;
  /** How long one review may run in a worker before it is abandoned (`review-budget`); the pool's default when unset. */
  readonly reviewBudgetMs?: number;
}

export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  /** Where the port and host were set, said the way an operator changes them ("PORT", "http.port in FILE"). */
  readonly portSetting: string;
  readonly hostSetting: string;
  /** At SIGTERM, deliveries in hand get this long to finish before they are recorded as failed (default 10 s). */
  readonly shutdownGraceSeconds: number | undefined;
}

export type ReplyPolicy = "all" | "author" | "none";

export interface MirrorConfig {
  readonly name: string;
  /** A public-inbox v2 inbox directory (git/0.git, ...), a single epoch repository, or an mbox file. */
  readonly inbox: string;
  /** Fetched on every poll when set (simple-git). */
  readonly remote: string | undefined;
  readonly pollSeconds: number;
  /** Who gets the reply: author and Cc's and the list, the author only, or nobody. */
  readonly policy: ReplyPolicy;
  readonly threshold: Severity;
  /** The list address put in Cc when the policy is "all". */
  readonly list: string | undefined;
  /**
   * What the archive held when the bot first read it: "record" reviews it without replying
   * (the default: a new mirror of dri-devel must not answer years of mail), "reply" answers it.
   */
  readonly history: "record" | "reply";
  /**
   * "shadow" (the default, also when left out): the mirror is read, reviewed, recorded and shown,
   * and nothing is mailed. "send": mail goes out under the sending policy. A list opts in.
   */
  readonly mode?: MirrorMode;
  /** The sending policy's settings (src/publish/mail/policy.ts); each left out takes its default. */
  readonly sending?: Partial<SendingSettings>;
  /** The list's patchwork project: a check per reviewed patch is posted there, whatever the mail mode. */
  readonly patchwork?: PatchworkConfig;
}

export interface PatchworkConfig {
  /** The instance, e.g. https://patchwork.freedesktop.org. */
  readonly url: string;
  /** The project's link name, e.g. dri-devel. */
  readonly project: string;
  /** The check's context (a slug), the name patchwork keeps our newest result under. */
  readonly context: string;
  /** DMABUF_REVIEW_PATCHWORK_TOKEN: a token of a user allowed to post checks on the project; without it checks wait. */
  readonly token: string | undefined;
}

export type MirrorMode = "shadow" | "send";

/** Per-list settings of the sending policy; the defaults are in src/publish/mail/policy.ts. */
export interface SendingSettings {
  /** Where a review tracker goes: the author alone (when a verdict is definite), or nowhere. */
  readonly trackers: "author" | "none";
  /** At most this many addresses in Cc (the list and the thread's people). */
  readonly maxCc: number;
  /** Whether catch-all lists (LKML, stable@) may be in Cc. */
  readonly ccCatchAll: boolean;
  /** Mails to this list in any 24 hours; the rest wait in the queue. */
  readonly perDay: number;
  /** A thread whose newest message is older than this (seconds) is never mailed, even by backfill --reply. */
  readonly maxAgeSeconds: number;
  /** Threads (Message-ID of any message in them) the list's maintainers muted. */
  readonly muteThreads: readonly string[];
}

export interface MailConfig {
  readonly mirrors: readonly MirrorConfig[];
  readonly delivery: "outbox" | "smtp";
  readonly outbox: string;
  readonly from: string;
  readonly smtp: { readonly host: string; readonly port: number; readonly secure: boolean; readonly user: string | undefined; readonly password: string | undefined } | undefined;
  /** A series missing patches is reviewed anyway once this long has passed since its first message. */
  readonly seriesWaitSeconds: number;
  /** Build the bundled demo inbox from the fixtures on first start when no mirror is configured. */
  readonly demo: boolean;
  /** Authors who never get a reply (lower case); replies asking to opt out add to this in the store. */
  readonly optOut: readonly string[];
  /** Messages read per batch: one transaction, one cursor move. */
  readonly batch: number;
}

export interface GithubConfig {
  readonly appId: string | undefined;
  readonly privateKey: string | undefined;
  readonly webhookSecret: string | undefined;
  /** API base URL (GitHub Enterprise, or a loopback stand-in in tests). */
  readonly baseUrl: string | undefined;
}

export interface GitlabConfig {
  readonly url: string | undefined;
  readonly token: string | undefined;
  readonly webhookSecret: string | undefined;
}

/** The configuration file's JSON Schema (deploy/config.example.yaml shows every key of it). */
export const SCHEMA = {
  type: "object",
  additionalProperties: false,
  properties: {
    "data-dir": { type: "string", minLength: 1 },
    "review-budget": { type: "string", pattern: "^[1-9]\\d*(s|m|h)$" },
    "public-url": { type: "string", pattern: "^https?://" },
    http: {
      type: "object",
      additionalProperties: false,
      properties: {
        host: { type: "string" },
        port: { type: "integer", minimum: 0, maximum: 65535 },
        "shutdown-grace": { type: "string", pattern: "^\\d+(s|m)$" },
      },
    },
    mail: {
      type: "object",
      additionalProperties: false,
      properties: {
        mirrors: {
          type: "array",
          items: {
            type: "object",
            additionalProperties: false,
            required: ["name", "inbox"],
            properties: {
              name: { type: "string", pattern: "^[\\w.-]+$" },
              inbox: { type: "string", minLength: 1 },
              remote: { type: "string", minLength: 1 },
              poll: { type: "string", pattern: "^\\d+(s|m|h)$" },
              policy: { enum: ["all", "author", "none"] },
              threshold: { enum: ["info", "warning", "error"] },
              list: { type: "string", pattern: "^[^@\\s]+@[^@\\s]+$" },
              history: { enum: ["record", "reply"] },
              mode: { enum: ["shadow", "send"] },
              trackers: { enum: ["author", "none"] },
              "max-cc": { type: "integer", minimum: 0, maximum: 24 },
              "cc-catch-all": { type: "boolean" },
              "per-day": { type: "integer", minimum: 1, maximum: 1000 },
              "max-age": { type: "string", pattern: "^\\d+(s|m|h|d)$" },
              "mute-threads": { type: "array", items: { type: "string", minLength: 3 } },
              patchwork: {
                type: "object",
                additionalProperties: false,
                required: ["url", "project"],
                properties: {
                  url: { type: "string", pattern: "^https?://" },
                  project: { type: "string", minLength: 1 },
                  context: { type: "string", pattern: "^[-a-zA-Z0-9_]+$" },
                },
              },
            },
          },
        },
        delivery: { enum: ["outbox", "smtp"] },
        outbox: { type: "string", minLength: 1 },
        from: { type: "string", minLength: 3 },
        smtp: {
          type: "object",
          additionalProperties: false,
          required: ["host"],
          properties: { host: { type: "string" }, port: { type: "integer" }, secure: { type: "boolean" }, user: { type: "string" } },
        },
        "series-wait": { type: "string", pattern: "^\\d+(s|m|h)$" },
        demo: { type: "boolean" },
        "opt-out": { type: "array", items: { type: "string", pattern: "^[^@\\s]+@[^@\\s]+$" } },
        batch: { type: "integer", minimum: 1, maximum: 100000 },
      },
    },
    github: {
      type: "object",
      additionalProperties: false,
      properties: { "base-url": { type: "string" } },
    },
    gitlab: {
      type: "object",
      additionalProperties: false,
      properties: { url: { type: "string" } },
    },
  },
} as const;

function seconds(v: string | undefined, fallback: number): number {
  if (!v) return fallback;
  const n = Number(v.slice(0, -1));
  return v.endsWith("d") ? n * 86400 : v.endsWith("h") ? n * 3600 : v.endsWith("m") ? n * 60 : n;
}

/** The sending settings a mirror's YAML gives; those left out are not set (the policy's defaults apply). */
function sendingSettings(m: Raw): Partial<SendingSettings> {
  const out: { -readonly [K in keyof SendingSettings]?: SendingSettings[K] } = {};
  if (m["trackers"] !== undefined) out.trackers = m["trackers"];
  if (m["max-cc"] !== undefined) out.maxCc = m["max-cc"];
  if (m["cc-catch-all"] !== undefined) out.ccCatchAll = m["cc-catch-all"];
  if (m["per-day"] !== undefined) out.perDay = m["per-day"];
  if (m["max-age"] !== undefined) out.maxAgeSeconds = seconds(m["max-age"], 0);
  if (m["mute-threads"] !== undefined) out.muteThreads = (m["mute-threads"] as string[]).map((id) => id.replace(/^<|>$/g, ""));
  return out;
}

/** A mirror's patchwork project; its token comes from the environment (the channel says when it is missing). */
function patchworkConfig(m: Raw, env: NodeJS.ProcessEnv): PatchworkConfig {
  const pw: Raw = m["patchwork"];
  return { url: pw["url"], project: pw["project"], context: pw["context"] ?? "dmabuf-review", token: env["DMABUF_REVIEW_PATCHWORK_TOKEN"] || undefined };
}

/** A secret named by path in the environment (Probot's PRIVATE_KEY_PATH), relative to the working directory. */
async function readSecretFile(path: string, variable: string): Promise<string> {
  try {
    return await readFile(resolve(path), "utf8");
  } catch (err) {
    throw new InputError("bad-config", `${variable}=${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Port and host from the file, else from PORT and HOST (Probot's names), else 127.0.0.1:3000. */
function httpConfig(http: Raw, env: NodeJS.ProcessEnv, path: string | undefined): HttpConfig {
  const envPort = env["PORT"];
  if (http["port"] === undefined && envPort !== undefined && !(/^\d+$/.test(envPort) && Number(envPort) <= 65535)) {
    throw new InputError("bad-config", `PORT=${envPort} is not a port number (0-65535)`);
  }
  return {
    host: http["host"] ?? env["HOST"] ?? "127.0.0.1",
    port: http["port"] ?? Number(envPort ?? 3000),
    portSetting: http["port"] !== undefined ? `http.port in ${path}` : "PORT",
    hostSetting: http["host"] !== undefined ? `http.host in ${path}` : "HOST",
    shutdownGraceSeconds: http["shutdown-grace"] === undefined ? undefined : seconds(http["shutdown-grace"], 0),
  };
}

/**
 * Mail sent over SMTP carries the From address and Message-IDs in its domain: one that cannot
 * receive mail (localhost, the reserved .invalid, .local and .localhost names, or a bare host
 * name) leaves nobody to answer an opt-out or a bounce, and lists drop such mail as spam.
 */
function refuseUnreachableSender(from: string, setting: string, path: string | undefined): void {
  const address = /<([^<>\s]+)>\s*$/.exec(from)?.[1] ?? from.trim();
  const domain = (address.split("@")[1] ?? "").toLowerCase().replace(/\.$/, "");
  const unreachable = domain === "" || !domain.includes(".") || /(^|\.)(localhost|invalid|local|localdomain)$/.test(domain);
  if (!unreachable) return;
  const why = `${setting} is ${JSON.stringify(from)}, but mail.delivery is smtp and ${domain || "that address"} cannot receive mail (replies, opt-outs and bounces go there; its Message-IDs use it too): set mail.from to an address of a domain you receive mail for`;
  throw new InputError("bad-config", why, path);
}

// What a pattern in the schema asks for, in words.
const PATTERN_HINTS: Readonly<Record<string, string>> = {
  "^\\d+(s|m|h)$": "a duration such as 90s, 5m or 2h",
  "^\\d+(s|m|h|d)$": "a duration such as 90s, 5m, 2h or 14d",
  "^[^@\\s]+@[^@\\s]+$": "a mail address such as name@example.org",
  "^[\\w.-]+$": "letters, digits, '.', '_' or '-'",
};

const shown = (v: unknown) => (typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v) ?? String(v));

/** Every problem ajv found (allErrors), each with its field and what the field allows. */
function describeProblems(errors: readonly ErrorObject[]): string {
  const lines = new Set<string>();
  for (const e of errors) {
    const at = e.instancePath.replace(/^\//, "").replace(/\//g, ".");
    const field = (name: string) => (at ? `${at}.${name}` : name);
    const parent = e.parentSchema as { properties?: Record<string, unknown> } | undefined;
    const p = e.params as Record<string, unknown>;
    let line: string;
    if (e.keyword === "additionalProperties") {
      const known = Object.keys(parent?.properties ?? {});
      line = `field ${field(String(p["additionalProperty"]))}: not a known setting (known here: ${known.join(", ")})`;
    } else if (e.keyword === "required") {
      line = `field ${field(String(p["missingProperty"]))}: missing, and it is required`;
    } else {
      const got = ` (got ${shown(e.data)})`;
      const what =
        e.keyword === "enum"
          ? `must be one of ${(p["allowedValues"] as unknown[]).map(String).join(", ")}`
          : e.keyword === "pattern"
            ? `must be ${PATTERN_HINTS[String(p["pattern"])] ?? `text matching ${String(p["pattern"])}`}`
            : e.keyword === "minLength"
              ? "must not be empty"
              : (e.message ?? "is invalid");
      line = `field ${at || "(top level)"}: ${what}${got}`;
    }
    lines.add(line);
  }
  const all = [...lines];
  return all.length === 1 ? all[0]! : `${all.length} problems: ${all.join("; ")}`;
}

// `any` only until the fields are read one by one below: the schema has validated them.
type Raw = Record<string, any>;

/**
 * Read the configuration (or use the embedded defaults when `path` is undefined). Relative
 * paths are relative to the file's directory (or the working directory for defaults).
 */
export async function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let raw: Raw = {};
  let base = process.cwd();
  if (path) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      throw new InputError("unreadable", errnoText((err as NodeJS.ErrnoException).code), path);
    }
    try {
      raw = (parseYaml(text) as Raw | null) ?? {};
    } catch (err) {
      throw new InputError("bad-config", `YAML does not parse: ${(err as Error).message.split("\n")[0]}`, path);
    }
    const validate = new Ajv({ allErrors: true, verbose: true }).compile(SCHEMA);
    if (!validate(raw)) throw new InputError("bad-config", describeProblems(validate.errors ?? []), path);
    base = dirname(resolve(path));
  }
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const dataDir = abs(raw["data-dir"] ?? "data");
  const mail: Raw = raw["mail"] ?? {};
  const mirrors: MirrorConfig[] = (mail["mirrors"] ?? []).map((m: Raw) => ({
    name: m["name"],
    inbox: abs(m["inbox"]),
    remote: m["remote"],
    pollSeconds: seconds(m["poll"], 300),
    policy: m["policy"] ?? "all",
    threshold: m["threshold"] ?? "warning",
    list: m["list"],
    history: m["history"] ?? "record",
    mode: m["mode"] ?? "shadow",
    sending: sendingSettings(m),
    ...(m["patchwork"] ? { patchwork: patchworkConfig(m, env) } : {}),
  }));
  const delivery = mail["delivery"] ?? "outbox";
  const smtpRaw: Raw | undefined = mail["smtp"];
  if (delivery === "smtp" && !smtpRaw) throw new InputError("bad-config", "field mail.delivery is smtp but mail.smtp is not set", path);
  const from = mail["from"] ?? env["DMABUF_REVIEW_FROM"] ?? "dmabuf-review <dmabuf-review@localhost>";
  if (delivery === "smtp") refuseUnreachableSender(from, mail["from"] !== undefined ? `mail.from in ${path}` : env["DMABUF_REVIEW_FROM"] !== undefined ? "DMABUF_REVIEW_FROM" : "the default mail.from", path);
  return {
    dataDir,
    ...(raw["public-url"] ?? env["DMABUF_REVIEW_URL"] ? { publicUrl: raw["public-url"] ?? env["DMABUF_REVIEW_URL"] } : {}),
    ...(raw["review-budget"] ? { reviewBudgetMs: seconds(raw["review-budget"], 0) * 1000 } : {}),
    http: httpConfig(raw["http"] ?? {}, env, path),
    mail: {
      mirrors,
      delivery,
      outbox: abs(mail["outbox"] ?? `${dataDir}/outbox`),
      from,
      smtp: smtpRaw
        ? {
            host: smtpRaw["host"],
            port: smtpRaw["port"] ?? 587,
            secure: smtpRaw["secure"] ?? false,
            user: smtpRaw["user"],
            password: env["DMABUF_REVIEW_SMTP_PASSWORD"],
          }
        : undefined,
      seriesWaitSeconds: seconds(mail["series-wait"], 1800),
      demo: mail["demo"] ?? mirrors.length === 0,
      optOut: ((mail["opt-out"] ?? []) as string[]).map((e) => e.toLowerCase()),
      batch: mail["batch"] ?? 2000,
    },
    github: {
      appId: env["APP_ID"],
      privateKey: env["PRIVATE_KEY"] ?? (env["PRIVATE_KEY_PATH"] ? await readSecretFile(env["PRIVATE_KEY_PATH"], "PRIVATE_KEY_PATH") : undefined),
      webhookSecret: env["WEBHOOK_SECRET"],
      baseUrl: raw["github"]?.["base-url"] ?? (env["GHE_HOST"] ? `${env["GHE_PROTOCOL"] ?? "https"}://${env["GHE_HOST"]}/api/v3` : undefined),
    },
    gitlab: {
      url: raw["gitlab"]?.["url"] ?? env["GITLAB_URL"],
      token: env["GITLAB_TOKEN"],
      webhookSecret: env["GITLAB_WEBHOOK_SECRET"],
    },
  };
}
