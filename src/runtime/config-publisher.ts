/**
 * Turns committed Admin API writes into configurations for the workers, cheaply.
 *
 * The control plane keeps every entity row in memory, updated from the DAO's change events, so
 * that publishing a new configuration reads nothing from the store; a burst of writes (an Ansible
 * playbook, a sync) is coalesced into one publication: one runs at a time, and one more follows
 * if anything changed meanwhile. Replacing the whole configuration (DB-less `/config`, imports)
 * asks for a full reload from the store instead.
 */
import { type ConfigPayload, payloadFromRows } from '../snapshot/snapshot.js'
import { completeRow } from '../schema/index.js'
import type { EntitySchema } from '../schema/index.js'
import type { Row, Store } from '../store/index.js'

export interface EntityChange {
  readonly entity: string
  readonly op: 'create' | 'update' | 'delete'
  readonly row: Readonly<Record<string, unknown>>
}

export interface ConfigPublisherOptions {
  readonly store: Store
  /** Every entity the proxy needs (services, routes, plugins, consumers, credentials…). */
  readonly entities: readonly string[]
  /**
   * The entities' schemas: a row read from the store that lacks a field (written before the field
   * existed) gets its default (`completeRow`). Rows from change events come from the DAO, complete.
   */
  readonly schemas?: Readonly<Record<string, EntitySchema>>
  /** Entities whose rows may expire (`ttl`): read from the store with their expiry, never from events. */
  readonly expiring?: readonly string[]
  /** Milliseconds to wait for more writes before publishing (small: visibility stays well under 100 ms). */
  readonly coalesceMs: number
  /** Hands a new configuration over (to the workers, the health checker…). */
  readonly publish: (payload: ConfigPayload) => void
  readonly onError: (err: Error) => void
}

export class ConfigPublisher {
  readonly #o: ConfigPublisherOptions
  readonly #rows = new Map<string, Map<string, Row>>()
  #version = 0
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #dirty = false
  #full = true
  /** Expiring entities changed since the last publication: re-read with their expiry. */
  readonly #stale = new Set<string>()
  #current: ConfigPayload = { version: 0, services: [], routes: [] }
  #failures = 0

  constructor(options: ConfigPublisherOptions) {
    this.#o = options
    for (const e of options.entities) this.#rows.set(e, new Map())
  }

  /** The configuration last published. */
  get current(): ConfigPayload {
    return this.#current
  }

  /** How many publications failed to read the store (a caller compares it before and after `settled()`). */
  get failures(): number {
    return this.#failures
  }

  /** A publication is pending or running. */
  get busy(): boolean {
    return this.#timer !== null || this.#running !== null
  }

  /** Loads everything from the store and builds the first configuration (not published). */
  async load(): Promise<ConfigPayload> {
    await this.#reload()
    this.#full = false
    this.#current = this.#build()
    return this.#current
  }

  /** A committed write: applied to the in-memory copy, published soon. */
  change(e: EntityChange): void {
    const table = this.#rows.get(e.entity)
    if (table === undefined) return
    if (this.#o.expiring?.includes(e.entity) === true) {
      // A change event does not carry the expiry: read the entity again from the store.
      this.#stale.add(e.entity)
      this.#schedule()
      return
    }
    const id = String(e.row['id'])
    if (e.op === 'delete') table.delete(id)
    else table.set(id, e.row as Row)
    this.#schedule()
  }

  /** Another node changed rows of these entities: read them again from the store, published soon. */
  reloadEntities(entities: readonly string[]): void {
    for (const e of entities) if (this.#rows.has(e)) this.#stale.add(e)
    this.#schedule()
  }

  /** The store was changed behind the DAO (a whole configuration replaced): reload it all. */
  reloadAll(): Promise<void> {
    this.#full = true
    this.#schedule()
    return this.settled()
  }

  /** Resolves when nothing is pending. */
  async settled(): Promise<void> {
    while (this.busy) {
      if (this.#running !== null) await this.#running
      else await new Promise((r) => setTimeout(r, this.#o.coalesceMs))
    }
  }

  #schedule(): void {
    if (this.#running !== null) {
      this.#dirty = true
      return
    }
    if (this.#timer !== null) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.#running = this.#run().finally(() => {
        this.#running = null
        if (this.#dirty) {
          this.#dirty = false
          this.#schedule()
        }
      })
    }, this.#o.coalesceMs)
  }

  async #run(): Promise<void> {
    try {
      if (this.#full) {
        this.#full = false
        this.#stale.clear()
        await this.#reload()
      } else if (this.#stale.size > 0) {
        const entities = [...this.#stale]
        this.#stale.clear()
        await this.#reload(entities)
      }
      this.#current = this.#build()
      this.#o.publish(this.#current)
    } catch (err) {
      this.#failures++
      this.#o.onError(err as Error)
    }
  }

  async #reload(only?: readonly string[]): Promise<void> {
    for (const [entity, table] of this.#rows) {
      if (only !== undefined && !only.includes(entity)) continue
      const rows = await this.#o.store.all(entity, { withExpiry: this.#o.expiring?.includes(entity) === true })
      table.clear()
      const schema = this.#o.schemas?.[entity]
      for (const row of rows) table.set(row.id, schema === undefined ? row : completeRow(schema, row))
    }
  }

  #build(): ConfigPayload {
    const rows = new Map<string, Row[]>()
    for (const [e, table] of this.#rows) rows.set(e, [...table.values()])
    return payloadFromRows(++this.#version, rows)
  }
}
