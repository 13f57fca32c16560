import type { ChannelContext, Running } from "./context.js";

/** The mailing-list channel: follow public-inbox mirrors, review series, reply by mail. */
export async function startMailChannel(ctx: ChannelContext): Promise<Running> {
  ctx.log.warn({ channel: "mail" }, "mail channel off: not implemented in this build");
  return { name: "mail", stop: async () => {} };
}
