/** A budget in bytes beside the count: `weigh` says about how much an entry holds (its key included). */
export interface ByteBound<K, V> {
  readonly bytes: number;
  readonly weigh: (key: K, value: V) => number;
}

/**
 * A Map that keeps at most `limit` entries, forgetting the least recently used: the caches of a
 * process that reviews without end (kept reviews, classifications, the model's searches).
 * `set` counts as a use; `use` is `get` that counts as one too; `keep` computes what is missing.
 * With a byte bound it also keeps the entries' weight within it, and does not keep an entry
 * heavier than all of it: a cache keyed by message text holds a 1 MB reply as easily as a line.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  private weight = 0;
  private readonly weights = new Map<K, number>();

  constructor(
    private readonly limit: number,
    from: Iterable<readonly [K, V]> = [],
    private readonly bound?: ByteBound<K, V>,
  ) {
    super();
    for (const [k, v] of from) this.set(k, v);
  }

  override set(key: K, value: V): this {
    if (this.has(key)) this.delete(key);
    else if (this.size >= this.limit) this.delete(this.keys().next().value!);
    if (!this.bound) return super.set(key, value);
    const w = this.bound.weigh(key, value);
    if (w > this.bound.bytes) return this;
    while (this.weight + w > this.bound.bytes) this.delete(this.keys().next().value!);
    this.weight += w;
    this.weights.set(key, w);
    return super.set(key, value);
  }

  override delete(key: K): boolean {
    this.weight -= this.weights.get(key) ?? 0;
    this.weights.delete(key);
    return super.delete(key);
  }

  override clear(): void {
    this.weight = 0;
    this.weights.clear();
    super.clear();
  }

  /** The weight of what is kept, by the byte bound's measure (0 without one). */
  get bytes(): number {
    return this.weight;
  }

  use(key: K): V | undefined {
    const v = this.get(key);
    if (v !== undefined) this.set(key, v);
    return v;
  }

  /** The kept value for `key`, or `compute(key)` kept: a memo of a pure function. */
  keep(key: K, compute: (key: K) => V): V {
    // Through has(), not use(): an undefined value is a kept answer too, and its hit a use.
    const v = this.has(key) ? (this.get(key) as V) : compute(key);
    this.set(key, v);
    return v;
  }
}
