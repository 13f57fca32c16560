/**
 * When a post that could not be delivered is tried again, for every publisher that keeps its
 * posts in a ledger (mail, patchwork checks): a minute after the first failure, doubling with
 * each attempt up to an hour. The same for a server that is away and for a configuration the
 * operator must fix: neither ever makes a post final by itself.
 */
export const FIRST_RETRY_SECONDS = 60;
export const MAX_RETRY_SECONDS = 3600;

export function retryDelaySeconds(attempts: number): number {
  const n = Math.max(1, attempts);
  return Math.min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** Math.min(n - 1, 20));
}
