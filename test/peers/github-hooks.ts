import { createRequire } from "node:module";
import { sign } from "@octokit/webhooks-methods";
import type { Push } from "./forge-series.js";
import { GITHUB_SECRET } from "./forge-server.js";
import { INSTALLATION_ID } from "./github-standin.js";

// The pull_request examples the octokit project publishes, as GitHub sends them.
export const examples = createRequire(import.meta.url)("@octokit/webhooks-examples/api.github.com/index.json") as { name: string; examples: any[] }[];
export const prExamples = examples.find((e) => e.name === "pull_request")!.examples;
export const example = (action: string) => structuredClone(prExamples.find((e) => e.action === action && e.installation?.id === INSTALLATION_ID)!);

export const OWNER = "Codertocat";
export const REPO = "Hello-World";
export const NUMBER = 2;

/** The example payload with its head moved to our push (the only field changed). */
export function payloadFor(action: string, push: Push) {
  const p = example(action);
  p.pull_request.head.sha = push.headSha;
  p.pull_request.base.sha = push.baseSha;
  if (action === "synchronize") p.after = push.headSha;
  return p;
}

export async function deliverGithub(url: string, payload: unknown, opts: { id?: string; event?: string; secret?: string; signature?: string; body?: string } = {}) {
  const body = opts.body ?? JSON.stringify(payload);
  const res = await fetch(`${url}/api/github/webhooks`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-github-event": opts.event ?? "pull_request",
      "x-github-delivery": opts.id ?? crypto.randomUUID(),
      "x-hub-signature-256": opts.signature ?? (await sign(opts.secret ?? GITHUB_SECRET, body)),
    },
    body,
  });
  return { status: res.status, text: await res.text() };
}


/**
 * A comment event from the octokit examples, moved onto our pull request: `pull_request_review_comment`
 * with the comment as the stand-in stores it, or `issue_comment` (the example is on an issue;
 * a pull request's conversation comment carries `issue.pull_request`).
 */
export function commentPayload(event: "pull_request_review_comment" | "issue_comment", action: "created" | "edited" | "deleted", comment: object) {
  const p = structuredClone(examples.find((e) => e.name === event)!.examples.find((e) => e.action === action && e.installation?.id === INSTALLATION_ID) ?? examples.find((e) => e.name === event)!.examples.find((e) => e.installation?.id === INSTALLATION_ID)!);
  p.action = action;
  p.comment = { ...p.comment, ...comment };
  if (event === "issue_comment") {
    p.issue.number = NUMBER;
    p.issue.pull_request = { url: `https://api.github.com/repos/${OWNER}/${REPO}/pulls/${NUMBER}`, html_url: `https://github.com/${OWNER}/${REPO}/pull/${NUMBER}` };
  } else p.pull_request.number = NUMBER;
  return p;
}
