/**
 * A size-bounded LRU map with per-entry lifetimes, for DNS answers (`dns_cache_size`).
 * An entry lives until `dropAt` (its TTL plus `dns_stale_ttl`); until then it may be served
 * stale while a refresh runs.
 *
 * @module
 */
export class LruCache<V> {
  readonly #map = new Map<string, { value: V; dropAt: number }>()
  readonly #size: number

  constructor(size: number) {
    this.#size = Math.max(1, size)
  }

  get size(): number {
    return this.#map.size
  }

  get(key: string, now = Date.now()): V | undefined {
    const slot = this.#map.get(key)
    if (slot === undefined) return undefined
    if (slot.dropAt <= now) {
      this.#map.delete(key)
      return undefined
    }
    // Most recently used goes last.
    this.#map.delete(key)
    this.#map.set(key, slot)
    return slot.value
  }

  set(key: string, value: V, dropAt = Infinity): void {
    this.#map.delete(key)
    this.#map.set(key, { value, dropAt })
    while (this.#map.size > this.#size) {
      const oldest = this.#map.keys().next()
      if (oldest.done === true) break
      this.#map.delete(oldest.value)
    }
  }

  delete(key: string): void {
    this.#map.delete(key)
  }

  clear(): void {
    this.#map.clear()
  }
}
