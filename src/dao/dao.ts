/**
 * The generic DAO: one implementation for every entity in the registry. It fills auto fields,
 * resolves and checks foreign references, validates against the schema, applies `on_delete`,
 * maps store failures to Kong's DAO errors, runs each write in one store transaction, and
 * reports changes to listeners after commit.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { randomString } from './random-string.js'
import { DbError, schemaViolation } from '../errors/db-errors.js'
import { splitTransient, validateEntity, validateField } from '../schema/index.js'
import type { DaoHookContext, EntitySchema, Field, FieldErrors } from '../schema/index.js'
import { StoreError, type Page, type Row, type Store, type TagFilter } from '../store/index.js'
import { deleteWithReferences, type PendingEvent, rowsReferencing } from './cascade.js'
import {
  invalidOffset,
  invalidOptions,
  invalidPrimaryKey,
  invalidUnique,
  notFoundByField,
  notFoundById,
  primaryKeyViolation,
  uniqueViolation,
} from './dao-errors.js'
import { checkForeignRefs, checkIdListRefs, checkNotListed, resolveForeignRefs } from './foreign-refs.js'
import { checkPageSize } from './page-options.js'
import { isUuid } from '../ids/uuid.js'
import { WriteLock } from './write-lock.js'

/** A committed change, as seen by `onChange` listeners (the runtime rebuilds config on them). */
export interface ChangeEvent {
  readonly entity: string
  readonly op: 'create' | 'update' | 'delete'
  /** The row after the change; for `delete`, the row that was removed. */
  readonly row: Row
  /** The row before an `update`; null for `create` and `delete`. */
  readonly old: Row | null
}

export type ChangeListener = (event: ChangeEvent) => void

export interface WriteOptions {
  /** Seconds until the row expires (entities whose schema has `ttl: true`). */
  readonly ttl?: number
  /**
   * Prepare and check the row (validation, not references) without writing it. DB-less mode uses
   * this so that a bad payload still gets its schema error before the 405, as in Kong.
   */
  readonly dryRun?: boolean
}

export interface DaoPageQuery {
  /** 1–1000, default 100. */
  readonly size?: number
  readonly offset?: string
  readonly tags?: TagFilter
  readonly where?: { readonly field: string; readonly value: unknown }
}

/** Kong's TTL bound (a bit over three years). */
const MAX_TTL = 100_000_000

function nowFor(field: Field | undefined): number {
  // Integer timestamps are seconds; `number` ones (targets) keep millisecond precision.
  return field?.type === 'number' ? Math.round(Date.now()) / 1000 : Math.floor(Date.now() / 1000)
}

/** The generic DAO over a {@link Store}. */
export class Dao {
  readonly store: Store
  readonly entities: Readonly<Record<string, EntitySchema>>
  readonly #lock = new WriteLock()
  readonly #listeners = new Set<ChangeListener>()

  /**
   * @param store an initialised store
   * @param entities the entity registry (name → schema); everything here is generic over it
   */
  constructor(store: Store, entities: Readonly<Record<string, EntitySchema>>) {
    this.store = store
    this.entities = entities
  }

  /** The schema of `entity`; throws a plain Error for names outside the registry (a bug). */
  schema(entity: string): EntitySchema {
    const schema = this.entities[entity]
    if (schema === undefined) throw new Error(`unknown entity '${entity}'`)
    return schema
  }

  /** Subscribes to committed changes; returns the unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /**
   * Validates input as a create would (`POST /schemas/{entity}/validate`), auto fields filled
   * in first, without touching the store. Returns the field errors, or null when valid.
   */
  validateInput(entity: string, input: Readonly<Record<string, unknown>>): FieldErrors | null {
    const schema = this.schema(entity)
    const candidate: Record<string, unknown> = { ...input }
    this.#fillCreateFields(schema, candidate)
    const result = validateEntity(schema, candidate, { mode: 'insert', schemas: this.entities })
    return result.ok ? null : subschemaErrors(schema, result.errors)
  }

  /** Finds a row by id, or by endpoint key when `key` is not a UUID. */
  async select(entity: string, key: string): Promise<Row | null> {
    const schema = this.schema(entity)
    const row = await this.#find(this.store, schema, key)
    return row === null ? null : this.#view(schema, row)
  }

  /** Every live row of an entity. */
  async all(entity: string): Promise<Row[]> {
    this.schema(entity)
    return this.#mapErrors(() => this.store.all(entity))
  }

  /** One page of an entity (codes 7, 9, 11 on bad options). */
  page(entity: string, query: DaoPageQuery = {}): Promise<Page> {
    return this.#page(entity, query, undefined)
  }

  /** One page of the rows of `entity` whose foreign `field` points at `foreignId`. */
  pageForForeign(entity: string, field: string, foreignId: string, query: DaoPageQuery = {}): Promise<Page> {
    return this.#page(entity, query, { field, id: foreignId })
  }

  /** Creates a row (POST). */
  async insert(entity: string, input: Readonly<Record<string, unknown>>, options: WriteOptions = {}): Promise<Row> {
    const schema = this.schema(entity)
    this.#checkTtl(schema, options.ttl)
    return this.#write(async (tx, events) => {
      const candidate: Record<string, unknown> = { ...input }
      this.#fillCreateFields(schema, candidate)
      const { row, transient } = await this.#prepare(tx, events, schema, candidate, 'insert', undefined, options.dryRun)
      if (options.dryRun === true) return row
      const saved = await tx.insert(entity, row, options.ttl === undefined ? undefined : { ttl: options.ttl })
      events.push({ entity, op: 'create', row: saved, old: null })
      return this.#afterWrite(tx, events, schema, saved, transient)
    })
  }

  /** Partially updates a row (PATCH). Throws code 6 (404) when it does not exist. */
  async update(entity: string, key: string, patch: Readonly<Record<string, unknown>>, options: WriteOptions = {}): Promise<Row> {
    const schema = this.schema(entity)
    this.#checkTtl(schema, options.ttl)
    return this.#write((tx, events) => this.#updateIn(tx, events, schema, key, patch, options))
  }

  async #updateIn(
    tx: Store,
    events: PendingEvent[],
    schema: EntitySchema,
    key: string,
    patch: Readonly<Record<string, unknown>>,
    options: WriteOptions,
  ): Promise<Row> {
    const entity = schema.name
    const existing = await this.#find(tx, schema, key)
    if (existing === null) throw this.#notFound(schema, key)
    const candidate: Record<string, unknown> = { ...patch, id: existing.id }
    if ('created_at' in schema.fields) candidate['created_at'] = existing['created_at']
    if ('updated_at' in schema.fields) candidate['updated_at'] = nowFor(schema.fields['updated_at'])
    const { row, transient } = await this.#prepare(tx, events, schema, candidate, 'update', existing, options.dryRun)
    if (options.dryRun === true) return row
    const saved = await tx.update(entity, row)
    if (saved === null) throw this.#notFound(schema, key)
    events.push({ entity, op: 'update', row: saved, old: existing })
    return this.#afterWrite(tx, events, schema, saved, transient)
  }

  /**
   * Creates or fully replaces a row (PUT). A missing row is created with the given id, or with
   * the given endpoint key (`PUT /services/my-svc` creates a service named `my-svc`); an
   * existing row keeps its id and `created_at`.
   */
  async upsert(entity: string, key: string, input: Readonly<Record<string, unknown>>, options: WriteOptions = {}): Promise<Row> {
    const schema = this.schema(entity)
    this.#checkTtl(schema, options.ttl)
    return this.#write((tx, events) => this.#upsertIn(tx, events, schema, key, input, options))
  }

  /**
   * Creates or replaces a row and points the `field` of another row at it, in one transaction
   * (`PUT /routes/{r}/service` for a route without a service). When the other row refuses the
   * reference (a plugin whose schema allows no consumer), neither write happens: Kong keeps the
   * new row in that case, a partial write behind a 400.
   */
  async upsertAndAssociate(
    entity: string,
    key: string,
    input: Readonly<Record<string, unknown>>,
    other: { readonly entity: string; readonly id: string; readonly field: string },
  ): Promise<Row> {
    const schema = this.schema(entity)
    const otherSchema = this.schema(other.entity)
    return this.#write(async (tx, events) => {
      const saved = await this.#upsertIn(tx, events, schema, key, input, {})
      await this.#updateIn(tx, events, otherSchema, other.id, { [other.field]: { id: saved.id } }, {})
      return saved
    })
  }

  async #upsertIn(
    tx: Store,
    events: PendingEvent[],
    schema: EntitySchema,
    key: string,
    input: Readonly<Record<string, unknown>>,
    options: WriteOptions,
  ): Promise<Row> {
    const entity = schema.name
    const existing = await this.#find(tx, schema, key)
    const candidate: Record<string, unknown> = { ...input }
    if (isUuid(key)) candidate['id'] = key
    else if (schema.endpoint_key !== undefined) candidate[schema.endpoint_key] = key
    if (existing !== null) {
      candidate['id'] = existing.id
      if ('created_at' in schema.fields) candidate['created_at'] = existing['created_at']
      if ('updated_at' in schema.fields) candidate['updated_at'] = nowFor(schema.fields['updated_at'])
    } else {
      this.#fillCreateFields(schema, candidate)
    }
    // PUT replaces the whole entity: auto strings absent from it are generated anew, as in Kong.
    fillAutoStrings(schema, candidate)
    const { row, transient } = await this.#prepare(tx, events, schema, candidate, 'upsert', existing ?? undefined, options.dryRun)
    if (options.dryRun === true) return row
    if (existing === null) {
      const saved = await tx.insert(entity, row, options.ttl === undefined ? undefined : { ttl: options.ttl })
      events.push({ entity, op: 'create', row: saved, old: null })
      return this.#afterWrite(tx, events, schema, saved, transient)
    }
    const saved = await tx.update(entity, row)
    if (saved === null) throw this.#notFound(schema, key)
    events.push({ entity, op: 'update', row: saved, old: existing })
    return this.#afterWrite(tx, events, schema, saved, transient)
  }

  /**
   * Deletes a row, applying `on_delete` of every reference to it. Resolves the deleted row, or
   * null when there was none (Kong answers 204 either way).
   */
  async delete(entity: string, key: string, options: Pick<WriteOptions, 'dryRun'> = {}): Promise<Row | null> {
    const schema = this.schema(entity)
    return this.#write(async (tx, events) => {
      const existing = await this.#find(tx, schema, key)
      if (existing === null || options.dryRun === true) return existing
      await checkNotListed(tx, this.entities, schema, existing)
      await schema.dao_hooks?.beforeDelete?.(this.#hookContext(tx, events), existing)
      await deleteWithReferences(tx, this.entities, schema, existing, events)
      return existing
    })
  }

  // -------------------------------------------------------------------------------------------

  async #find(db: Store, schema: EntitySchema, key: string): Promise<Row | null> {
    if (isUuid(key)) return this.#mapErrors(() => db.select(schema.name, key))
    if (schema.endpoint_key === undefined) throw invalidPrimaryKey(key)
    const field = schema.fields[schema.endpoint_key]
    const value = field !== undefined && (field.type === 'integer' || field.type === 'number') ? Number(key) : key
    if (field !== undefined) {
      // Kong's validate_unique_row_method: the key must be a valid value of its field.
      const err = validateField(field, value, { updating: false })
      if (typeof err === 'string') throw invalidUnique(schema.endpoint_key, err)
    }
    return this.#mapErrors(() => db.selectByUnique(schema.name, schema.endpoint_key as string, value))
  }

  #notFound(schema: EntitySchema, key: string): DbError {
    if (isUuid(key) || schema.endpoint_key === undefined) return notFoundById(key)
    return notFoundByField(schema.endpoint_key, key)
  }

  #fillCreateFields(schema: EntitySchema, candidate: Record<string, unknown>): void {
    const id = schema.fields['id']
    if (id !== undefined && id.auto === true && (candidate['id'] === undefined || candidate['id'] === null)) {
      candidate['id'] = randomUUID()
    }
    for (const name of ['created_at', 'updated_at']) {
      const field = schema.fields[name]
      if (field !== undefined && (candidate[name] === undefined || candidate[name] === null)) candidate[name] = nowFor(field)
    }
    fillAutoStrings(schema, candidate)
  }

  /**
   * Resolve references, validate, check references exist: Kong's order of checks. Transient
   * fields the client sent are returned apart, for the entity's `afterWrite` hook.
   */
  async #prepare(
    tx: Store,
    events: PendingEvent[],
    schema: EntitySchema,
    candidate: Record<string, unknown>,
    mode: 'insert' | 'update' | 'upsert',
    existing: Row | undefined,
    dryRun = false,
  ): Promise<{ row: Row; transient: Record<string, unknown> }> {
    // Kong's custom DAOs check their pseudo-fields before the schema does (certificates' snis).
    const refused = await schema.dao_hooks?.beforeWrite?.(
      this.#hookContext(tx, events),
      candidate,
      mode === 'insert' ? undefined : (candidate['id'] as string | undefined),
    )
    if (refused !== undefined) throw schemaViolation(refused)
    await resolveForeignRefs(tx, this.entities, schema, candidate)
    const result = validateEntity(
      schema,
      candidate,
      existing === undefined ? { mode, schemas: this.entities } : { mode, existing, schemas: this.entities },
    )
    if (!result.ok) throw schemaViolation(subschemaErrors(schema, result.errors))
    const split = splitTransient(schema, result.row as Row, candidate)
    let row = split.row
    // `ttl` is an option, never a stored field (validation lets it through for ttl entities).
    delete row['ttl']
    if (schema.transform !== undefined) row = { ...schema.transform(row, { op: mode, input: candidate, existing }), id: row.id }
    // Kong checks references in the database itself: without one (DB-less), the write is refused
    // with 405 before they are looked at (15-off_spec.lua: a route naming an unknown service).
    if (!dryRun) {
      await checkForeignRefs(tx, this.entities, schema, row)
      await checkIdListRefs(tx, schema, row)
    }
    return { row, transient: split.transient }
  }

  #hookContext(tx: Store, events: PendingEvent[]): DaoHookContext {
    return {
      tx,
      children: (entity, field, id) => rowsReferencing(tx, entity, field, id),
      insert: async (entity, row) => {
        const saved = await tx.insert(entity, row)
        events.push({ entity, op: 'create', row: saved, old: null })
        return saved
      },
      delete: async (entity, row) => {
        if (await tx.delete(entity, row.id)) events.push({ entity, op: 'delete', row, old: null })
      },
    }
  }

  /** The stored row as the Admin API answers a write (the entity's `afterWrite` hook). */
  async #afterWrite(tx: Store, events: PendingEvent[], schema: EntitySchema, saved: Row, transient: Record<string, unknown>): Promise<Row> {
    const hook = schema.dao_hooks?.afterWrite
    return hook === undefined ? saved : hook(this.#hookContext(tx, events), saved, transient)
  }

  /** A stored row as the Admin API shows it (the entity's `view` hook). */
  async #view(schema: EntitySchema, row: Row): Promise<Row> {
    const view = schema.dao_hooks?.view
    if (view === undefined) return row
    const store = this.store
    return this.#mapErrors(() => view({ tx: store, children: (entity, field, id) => rowsReferencing(store, entity, field, id) }, row))
  }

  #checkTtl(schema: EntitySchema, ttl: number | undefined): void {
    if (ttl === undefined) return
    if (schema.ttl !== true) throw invalidOptions({ ttl: `cannot be used with '${schema.name}'` })
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) {
      throw invalidOptions({ ttl: `must be an integer between 0 and ${MAX_TTL}` })
    }
  }

  async #page(entity: string, query: DaoPageQuery, foreign: { field: string; id: string } | undefined): Promise<Page> {
    const schema = this.schema(entity)
    const page = await this.#rawPage(schema, query, foreign)
    if (schema.dao_hooks?.view === undefined) return page
    const data: Row[] = []
    for (const row of page.data) data.push(await this.#view(schema, row))
    return { ...page, data }
  }

  async #rawPage(schema: EntitySchema, query: DaoPageQuery, foreign: { field: string; id: string } | undefined): Promise<Page> {
    const entity = schema.name
    const size = checkPageSize(query.size)
    if (query.tags !== undefined && !('tags' in schema.fields)) throw invalidOptions({ tags: `cannot be used with '${entity}'` })
    try {
      return await this.store.page(entity, {
        size,
        ...(query.offset === undefined ? {} : { offset: query.offset }),
        ...(query.tags === undefined ? {} : { tags: query.tags }),
        ...(query.where === undefined ? {} : { where: query.where }),
        ...(foreign === undefined ? {} : { foreign }),
      })
    } catch (err) {
      if (err instanceof StoreError && err.code === 'INVALID_OFFSET') throw invalidOffset(query.offset ?? '')
      throw toDbError(err)
    }
  }

  async #mapErrors<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw toDbError(err)
    }
  }

  /** Runs one write: serialised, in a transaction, events emitted only after commit. */
  #write<T>(fn: (tx: Store, events: PendingEvent[]) => Promise<T>): Promise<T> {
    return this.#lock.run(async () => {
      const events: PendingEvent[] = []
      let result: T
      try {
        result = await this.store.transaction((tx) => fn(tx, events))
      } catch (err) {
        throw toDbError(err)
      }
      this.#emit(events)
      return result
    })
  }

  #emit(events: readonly PendingEvent[]): void {
    for (const event of events) {
      for (const listener of this.#listeners) {
        try {
          listener(event)
        } catch {
          // A failing listener must not turn a committed write into an error response;
          // listeners own their error reporting.
        }
      }
    }
  }
}

/**
 * Kong fills string fields marked `auto` (and not `uuid`) with a random 32-character string
 * when they are absent: key-auth keys, jwt keys and secrets.
 */
function fillAutoStrings(schema: EntitySchema, candidate: Record<string, unknown>): void {
  for (const [name, field] of Object.entries(schema.fields)) {
    if (field.type !== 'string' || field.auto !== true || field.uuid === true) continue
    if (candidate[name] === undefined || candidate[name] === null) candidate[name] = randomString()
  }
}

/** Applies the schema's `subschema_error` to the engine's `unknown type: x` message. */
export function subschemaErrors(schema: EntitySchema, errors: FieldErrors): FieldErrors {
  const key = schema.subschema_key
  if (key === undefined || schema.subschema_error === undefined) return errors
  const message = errors[key]
  if (typeof message !== 'string' || !message.startsWith('unknown type: ')) return errors
  return { ...errors, [key]: schema.subschema_error.replace('%s', message.slice('unknown type: '.length)) }
}

/** Maps a StoreError to Kong's DAO error; DbErrors and other errors pass through. */
export function toDbError(err: unknown): unknown {
  if (!(err instanceof StoreError)) return err
  switch (err.code) {
    case 'UNIQUE_VIOLATION':
      return uniqueViolation(err.fields ?? {})
    case 'PRIMARY_KEY_VIOLATION':
      return primaryKeyViolation(err.fields ?? {})
    case 'INVALID_OFFSET':
      return new DbError('INVALID_OFFSET', err.message)
    case 'DATABASE_ERROR':
      return new DbError('DATABASE_ERROR', err.message)
  }
}
