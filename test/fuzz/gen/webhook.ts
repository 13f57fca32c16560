import fc from "fast-check";
import type { Push } from "../../peers/forge-series.js";
import { examples } from "../../peers/github-hooks.js";
import { mergeRequestHook, noteHook } from "../../peers/gitlab-hooks.js";
import { INSTALLATION_ID } from "../../peers/github-standin.js";
import { jsonPaths, placeOf, type Json } from "./json.js";

/**
 * Webhook deliveries that pass the signature or token check but carry anything: JSON scalars,
 * arrays, deep nesting, real event payloads with fields of the wrong type or gone, bodies that
 * are not JSON, and odd or missing event, delivery and content-type headers.
 */
export interface Delivery {
  readonly forge: "github" | "gitlab";
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

const GITHUB_EVENTS = ["pull_request", "issue_comment", "pull_request_review_comment", "pull_request_review"] as const;
const githubPayloads: { event: string; payload: Json }[] = GITHUB_EVENTS.flatMap((event) =>
  (examples.find((e) => e.name === event)?.examples ?? [])
    .filter((p: { installation?: { id?: number } }) => p.installation?.id === INSTALLATION_ID)
    .slice(0, 4)
    .map((payload: Json) => ({ event, payload })),
);

// A merge request and a note as GitLab documents them, on a head no stand-in knows.
const push = { title: "dma-buf: fuzzed", headSha: "0123456789abcdef0123456789abcdef01234567", commits: [] } as unknown as Push;
const gitlabPayloads: { event: string; payload: Json }[] = [
  { event: "Merge Request Hook", payload: mergeRequestHook("open", push) as unknown as Json },
  { event: "Merge Request Hook", payload: mergeRequestHook("update", push, { oldrev: "1".repeat(40) }) as unknown as Json },
  { event: "Note Hook", payload: noteHook({ id: 5, body: "Why?", author: { username: "r", name: "R" }, at: "2026-11-09 10:00:00 UTC", discussion: "d1" }, push) as unknown as Json },
];

const wrongValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, 0, -1, 1.5, 1e308, "", "x", "42", true, false, [], {}, [1], { id: "x" }, "0123456789abcdef0123456789abcdef01234567"),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

type Mutation = { readonly at: number; readonly drop: boolean; readonly value: Json };

function mutate(doc: Json, muts: readonly Mutation[]): Json {
  const copy = structuredClone(doc);
  for (const m of muts) {
    const all = jsonPaths(copy).slice(1);
    if (all.length === 0) break;
    const { container: parent, key: last } = placeOf(copy, all[m.at % all.length]!);
    if (m.drop && !Array.isArray(parent)) delete parent[last];
    // A copy: the constants are shared by every case, and a later mutation must not reach into one.
    else parent[last] = structuredClone(m.value);
  }
  return copy;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({ at: fc.nat(), drop: fc.boolean(), value: wrongValue });

/** Nested arrays or objects deeper than any parser's recursion was written for. */
const deep = fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.boolean()).map(([n, arrays]) => (arrays ? `${"[".repeat(n)}${"]".repeat(n)}` : `${'{"a":'.repeat(n)}1${"}".repeat(n)}`));

function bodyFor(payloads: readonly { event: string; payload: Json }[]): fc.Arbitrary<{ event: string | undefined; body: string }> {
  const real = fc.constantFrom(...payloads);
  return fc.oneof(
    { weight: 4, arbitrary: fc.tuple(real, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([p, m]) => ({ event: p.event, body: JSON.stringify(mutate(p.payload, m)) })) },
    { weight: 1, arbitrary: real.map((p) => ({ event: p.event, body: JSON.stringify(p.payload) })) },
    { weight: 2, arbitrary: fc.constantFrom("42", "-1", "0", "1e308", "true", "false", "null", '"x"', '""', "[]", "{}", "[null]", "[42]").map((body) => ({ event: undefined, body })) },
    { weight: 2, arbitrary: (fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>).map((v) => ({ event: undefined, body: JSON.stringify(v) })) },
    { weight: 1, arbitrary: deep.map((body) => ({ event: undefined, body })) },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom("", "{", "\uFEFF{}", "[1,]", "{'a':1}", "\ud800", "NaN"), fc.string({ maxLength: 40 })).map((body) => ({ event: undefined, body })) },
  );
}

const contentType = fc.constantFrom<string | undefined>("application/json", "application/json", "application/json; charset=utf-8", "text/plain", undefined, "application/jsonx", "");
const deliveryId = fc.oneof(fc.uuid(), fc.constantFrom<string | undefined>(undefined, "", "../../etc", "x".repeat(300), "\u00e9"));

/** Deliveries of one forge: its payloads, and the names of its event and delivery-id headers. */
function forgeDelivery(forge: Delivery["forge"], payloads: readonly { event: string; payload: Json }[], otherEvents: readonly (string | undefined)[], names: { event: string; id: string }): fc.Arbitrary<Delivery> {
  return fc
    .record({
      payload: bodyFor(payloads),
      event: fc.oneof({ weight: 4, arbitrary: fc.constant<string | undefined>("payload") }, { weight: 1, arbitrary: fc.constantFrom(...otherEvents) }),
      id: deliveryId,
      contentType,
    })
    .map(({ payload, event, id, contentType: ct }) => {
      const name = event === "payload" ? (payload.event ?? payloads[0]!.event) : event;
      const headers: Record<string, string> = {};
      if (name !== undefined) headers[names.event] = name;
      if (id !== undefined) headers[names.id] = id;
      if (ct !== undefined) headers["content-type"] = ct;
      return { forge, body: payload.body, headers };
    });
}

const github = forgeDelivery("github", githubPayloads, [...GITHUB_EVENTS, "ping", "installation", "push", "", "x".repeat(300), undefined], { event: "x-github-event", id: "x-github-delivery" });
const gitlab = forgeDelivery("gitlab", gitlabPayloads, ["Merge Request Hook", "Note Hook", "Push Hook", "", undefined], { event: "x-gitlab-event", id: "idempotency-key" });

export const delivery: fc.Arbitrary<Delivery> = fc.oneof(github, gitlab);
