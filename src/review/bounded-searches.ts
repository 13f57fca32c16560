import type { ExploreCache } from "../model/evaluate.js";
import type { Outcome } from "../model/explore.js";

/**
 * The model's search cache for a process that reviews without end (the service's workers):
 * past `limit` searches the oldest is forgotten and, if asked again, searched again. The
 * matrix without patches is kept apart, per catalog (model/compare.ts).
 */
export class BoundedSearches extends Map<string, Outcome> implements ExploreCache {
  constructor(
    private readonly limit: number,
    from: Iterable<readonly [string, Outcome]> = [],
  ) {
    super();
    for (const [k, v] of from) this.set(k, v);
  }

  override set(key: string, value: Outcome): this {
    if (!this.has(key) && this.size >= this.limit) this.delete(this.keys().next().value!);
    return super.set(key, value);
  }
}
