import type { ChannelContext, Running } from "./context.js";

/** One HTTP server: GitHub webhooks (Probot), GitLab webhooks, /healthz. */
export async function startServer(ctx: ChannelContext): Promise<Running> {
  ctx.log.warn({ channel: "http" }, "forge channels off: not implemented in this build");
  return { name: "http", stop: async () => {} };
}
