/**
 * In-memory indexes over the configuration's entities (consumers, credentials…), built once per
 * configuration change, so that plugins look up a key or a consumer with a map access instead of
 * a store query.
 */
import type { Consumer, EntityRow, PdkEntities } from '../pdk/types.js'
import type { StoreEntity } from '../store/index.js'

interface Table {
  readonly byId: Map<string, EntityRow>
  readonly unique: Map<string, Map<unknown, EntityRow>>
  readonly foreign: Map<string, Map<string, EntityRow[]>>
}

const EMPTY: readonly EntityRow[] = []

export class EntityIndex implements PdkEntities {
  readonly #tables = new Map<string, Table>()

  /**
   * @param entities what to index (unique and foreign fields come from each entity's store layout)
   * @param rows entity name → rows
   */
  constructor(entities: readonly StoreEntity[], rows: Readonly<Record<string, readonly Readonly<Record<string, unknown>>[] | undefined>>) {
    const now = Date.now() / 1000
    for (const e of entities) {
      const t: Table = { byId: new Map(), unique: new Map(), foreign: new Map() }
      for (const f of e.unique) t.unique.set(f, new Map())
      for (const f of e.foreign) t.foreign.set(f, new Map())
      for (const raw of rows[e.name] ?? []) {
        const row = raw as EntityRow
        // TTL'd rows (key-auth keys with `ttl`) carry their expiry; an expired row is gone.
        const expires = row['_expires_at']
        if (typeof expires === 'number' && expires <= now) continue
        t.byId.set(row.id, row)
        for (const [f, m] of t.unique) {
          const v = row[f]
          if (v !== null && v !== undefined) m.set(v, row)
        }
        for (const [f, m] of t.foreign) {
          const ref = row[f] as { id?: string } | null | undefined
          if (ref?.id === undefined) continue
          const list = m.get(ref.id)
          if (list === undefined) m.set(ref.id, [row])
          else list.push(row)
        }
      }
      this.#tables.set(e.name, t)
    }
  }

  select(entity: string, id: string): EntityRow | null {
    return this.#tables.get(entity)?.byId.get(id) ?? null
  }

  selectByUnique(entity: string, field: string, value: unknown): EntityRow | null {
    const row = this.#tables.get(entity)?.unique.get(field)?.get(value)
    if (row === undefined) return null
    const expires = row['_expires_at']
    return typeof expires === 'number' && expires <= Date.now() / 1000 ? null : row
  }

  listByForeign(entity: string, field: string, id: string): readonly EntityRow[] {
    return this.#tables.get(entity)?.foreign.get(field)?.get(id) ?? EMPTY
  }

  consumer(idOrUsername: string): Consumer | null {
    return (this.select('consumers', idOrUsername) ?? this.selectByUnique('consumers', 'username', idOrUsername)) as Consumer | null
  }

  count(entity: string): number {
    return this.#tables.get(entity)?.byId.size ?? 0
  }
}
