import { generateKeyPairSync } from "node:crypto";
import { Writable } from "node:stream";
import { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { logSettings, makeLogger } from "../../src/channels/context.js";
import { InputError } from "../../src/errors.js";
import { repeated, topLevelKeys } from "../helpers/log.js";

function sink(tty: boolean): Writable & { isTTY?: boolean; lines: () => string[] } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as Writable & { isTTY?: boolean; lines: () => string[] };
  if (tty) w.isTTY = true;
  w.lines = () => chunks.join("").split("\n").filter((l) => l !== "");
  return w;
}


describe("the process logger", () => {
  it("writes JSON lines when its stream is not a terminal, human lines on a terminal", () => {
    const pipe = sink(false);
    makeLogger({ env: {}, stream: pipe }).child({ channel: "mail" }).info({ mirror: "dri-devel" }, "pass done");
    expect(JSON.parse(pipe.lines()[0]!)).toMatchObject({ level: 30, channel: "mail", mirror: "dri-devel", msg: "pass done" });
    const tty = sink(true);
    makeLogger({ env: {}, stream: tty }).child({ channel: "mail" }).info({ mirror: "dri-devel" }, "pass done");
    const line = tty.lines()[0]!;
    expect(line).toMatch(/^\S*\[\d\d:\d\d:\d\d\]\S* \S*INFO\S*: \S*pass done/);
    expect(line).toContain("dri-devel");
    expect(() => JSON.parse(line)).toThrow();
  });

  it("takes LOG_FORMAT and LOG_LEVEL from the environment, and names the allowed values of a wrong one", () => {
    const tty = sink(true);
    const log = makeLogger({ env: { LOG_FORMAT: "json", LOG_LEVEL: "debug" }, stream: tty });
    log.debug("detail");
    expect(JSON.parse(tty.lines()[0]!)).toMatchObject({ level: 20, msg: "detail" });
    const pipe = sink(false);
    makeLogger({ env: { LOG_FORMAT: "pretty", LOG_LEVEL: "error" }, stream: pipe }).warn("not shown");
    expect(pipe.lines()).toEqual([]);
    expect(logSettings({ env: {}, stream: pipe, level: "warn" })).toEqual({ level: "warn", format: "json" });
    // Probot types LOG_LEVEL and LOG_FORMAT in process.env; what a person types is any string.
    const bad = (env: Record<string, string>) => {
      try {
        logSettings({ env: env as NodeJS.ProcessEnv, stream: pipe });
      } catch (err) {
        return err as InputError;
      }
      throw new Error("accepted");
    };
    expect(bad({ LOG_LEVEL: "verbose" }).message).toBe("bad-config: LOG_LEVEL=verbose is not a level; use one of fatal, error, warn, info, debug, trace, silent");
    expect(bad({ LOG_FORMAT: "xml" }).message).toBe("bad-config: LOG_FORMAT=xml is not a format; use one of json, pretty");
  });

  it("writes each key once when children bind it again", () => {
    const pipe = sink(false);
    makeLogger({ env: {}, stream: pipe }).child({ name: "probot" }).child({ name: "probot" }).child({ name: "event", id: "1" }).info("received");
    const line = pipe.lines()[0]!;
    expect(repeated(topLevelKeys(line))).toEqual([]);
    expect(JSON.parse(line)).toMatchObject({ name: "event", id: "1", msg: "received" });
  });

  it("writes a call's field once, with the call's value, when a binding has the same name", () => {
    const pipe = sink(false);
    // As the review pool logs through the HTTP server's child.
    const http = makeLogger({ env: {}, stream: pipe }).child({ component: "http" });
    http.info({ component: "review-pool", workers: 1 }, "review pool: 1 worker thread");
    http.warn({ channel: "github" }, "github channel off");
    const [pool, github] = pipe.lines();
    expect(topLevelKeys(pool!)).toEqual(["level", "time", "component", "workers", "msg"]);
    expect(JSON.parse(pool!)).toMatchObject({ component: "review-pool", workers: 1 });
    expect(JSON.parse(github!)).toMatchObject({ component: "http", channel: "github" });
  });

  it("gives Probot a logger whose lines never carry a key twice (Probot binds name on every child)", async () => {
    const pipe = sink(false);
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048, privateKeyEncoding: { type: "pkcs8", format: "pem" }, publicKeyEncoding: { type: "spki", format: "pem" } });
    // As src/channels/server.ts hands it over: a child already named "probot".
    const log = makeLogger({ env: { LOG_LEVEL: "trace" }, stream: pipe }).child({ name: "probot" });
    const probot = new Probot({ appId: 1, privateKey, secret: "s", log });
    await probot.load((app) => {
      app.on("issues.opened", async (context) => {
        context.log.info({ issue: context.payload.issue.number }, "handler ran");
      });
    });
    const payload = { action: "opened", issue: { number: 7 }, repository: { name: "r", owner: { login: "o" } }, installation: { id: 3 } };
    await probot.receive({ id: "delivery-1", name: "issues", payload } as never);
    const lines = pipe.lines();
    const handler = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l["msg"] === "handler ran");
    expect(handler).toMatchObject({ name: "event", id: "delivery-1", issue: 7 });
    for (const l of lines) expect(repeated(topLevelKeys(l)), l).toEqual([]);
  });
});

describe("topLevelKeys", () => {
  it("reads repeats, and nothing from nested objects, arrays or strings", () => {
    expect(topLevelKeys('{"a":1,"b":{"a":2},"c":["a",{"d":1}],"e":"x,\\"f\\":1","a":3}')).toEqual(["a", "b", "c", "e", "a"]);
  });
});
