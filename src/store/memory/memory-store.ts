/**
 * The in-memory store (Kong's `database = off`): DB-less mode loads a declarative file into it.
 *
 * @module
 */
import { GatedStore } from '../shared/gated-store.js'
import { MemoryCore } from './memory-core.js'

/** Options of {@link MemoryStore}. */
export interface MemoryStoreOptions {
  /** Clock in epoch milliseconds, for TTL expiry (tests may inject one). */
  readonly now?: () => number
}

/** An in-memory `Store`. Data lives as long as the process. */
export class MemoryStore extends GatedStore {
  constructor(options: MemoryStoreOptions = {}) {
    super('memory', new MemoryCore(options.now))
  }
}

/** Creates an empty in-memory store; call `init(entities)` before use. */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  return new MemoryStore(options)
}
