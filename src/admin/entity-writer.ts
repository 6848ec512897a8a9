/**
 * Admin writes through the DAO, with Kong's DB-less refusal: when there is no database the
 * write is still prepared (so a bad payload gets its schema error or 404 first, as in Kong),
 * then refused with code 12 / 405 `cannot create 'services' entities when not using a database`.
 *
 * @module
 */
import type { Dao, WriteOptions } from '../dao/index.js'
import { operationUnsupported } from '../dao/index.js'
import { isUuid } from '../ids/uuid.js'
import type { Row } from '../store/index.js'

/** Creates, updates and deletes rows on behalf of Admin API handlers. */
export class EntityWriter {
  readonly #dao: Dao
  readonly #readOnly: boolean

  constructor(dao: Dao, readOnly: boolean) {
    this.#dao = dao
    this.#readOnly = readOnly
  }

  #options(ttl: number | undefined): WriteOptions {
    return { ...(ttl === undefined ? {} : { ttl }), dryRun: this.#readOnly }
  }

  #byField(entity: string, key: string): string | undefined {
    return isUuid(key) ? undefined : this.#dao.schema(entity).endpoint_key
  }

  async insert(entity: string, input: Record<string, unknown>, ttl?: number): Promise<Row> {
    const row = await this.#dao.insert(entity, input, this.#options(ttl))
    if (this.#readOnly) throw operationUnsupported('create', entity)
    return row
  }

  async update(entity: string, key: string, patch: Record<string, unknown>, ttl?: number): Promise<Row> {
    const row = await this.#dao.update(entity, key, patch, this.#options(ttl))
    if (this.#readOnly) throw operationUnsupported('update', entity, this.#byField(entity, key))
    return row
  }

  async upsert(entity: string, key: string, input: Record<string, unknown>, ttl?: number): Promise<Row> {
    const row = await this.#dao.upsert(entity, key, input, this.#options(ttl))
    if (this.#readOnly) throw operationUnsupported('create or update', entity, this.#byField(entity, key))
    return row
  }

  /** Creates `entity` and points `other.field` at it, both or neither (see Dao.upsertAndAssociate). */
  async upsertAndAssociate(
    entity: string,
    key: string,
    input: Record<string, unknown>,
    other: { readonly entity: string; readonly id: string; readonly field: string },
  ): Promise<Row> {
    if (this.#readOnly) return this.upsert(entity, key, input)
    return this.#dao.upsertAndAssociate(entity, key, input, other)
  }

  /** Deletes; a missing row is not an error (Kong answers 204), even without a database. */
  async delete(entity: string, key: string): Promise<void> {
    const row = await this.#dao.delete(entity, key, { dryRun: this.#readOnly })
    if (this.#readOnly && row !== null) throw operationUnsupported('remove', entity, this.#byField(entity, key))
  }
}
