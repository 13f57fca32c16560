/**
 * A Map that keeps at most `limit` entries, forgetting the least recently used: the caches of a
 * process that reviews without end (kept reviews, classifications, the model's searches).
 * `set` counts as a use; `use` is `get` that counts as one too; `keep` computes what is missing.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(
    private readonly limit: number,
    from: Iterable<readonly [K, V]> = [],
  ) {
    super();
    for (const [k, v] of from) this.set(k, v);
  }

  override set(key: K, value: V): this {
    if (this.has(key)) this.delete(key);
    else if (this.size >= this.limit) this.delete(this.keys().next().value!);
    return super.set(key, value);
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
