/**
 * The PostgreSQL store: Kong's traditional database, for several gateway nodes on one database.
 * A `pg` Pool runs the queries (a second pool on the read-only replica serves lookups and pages
 * when `pg_ro_host` is set); writes outside a transaction run in their own short transaction so a row
 * and its tags change together, and are issued one at a time so that the last write of this node
 * wins, as with the embedded stores. Transactions hold one connection; nested ones are savepoints.
 *
 * Every committed write also sends a change event (NOTIFY) that other nodes `listen()` to
 * (pg-events.ts). Later: outage handling builds on {@link PostgresStore.lastError}.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import pg from 'pg'
import {
  StoreError,
  type InsertOptions,
  type Page,
  type PageQuery,
  type RateLimitMetrics,
  type Row,
  type Store,
  type StoreEntity,
} from '../types.js'
import type { TagPage, TagQuery } from '../shared/sync-core.js'
import { TxGate } from '../shared/tx-gate.js'
import { PgCore } from './pg-core.js'
import { migrateLayout, type Queryable } from './pg-layout.js'
import { ChangeListener, type ChangeEvent } from './pg-events.js'
import { PgRateLimitMetrics } from './pg-ratelimiting.js'

/** Where and how to connect (Kong's `pg_*` settings, or the `pg_ro_*` ones merged over them). */
export interface PostgresConnection {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password?: string | undefined
  readonly database: string
  /** Schema the tables live in (`search_path`); empty: the server's default (`public`). */
  readonly schema?: string | undefined
  readonly ssl?: boolean | undefined
  /** With `ssl`: verify the server certificate. */
  readonly sslVerify?: boolean | undefined
  /** Connect and query timeout, ms (`pg_timeout`). */
  readonly timeoutMs?: number | undefined
  /** Most connections open at once; further queries wait (`pg_max_concurrent_queries` / `pg_pool_size`). */
  readonly maxConnections?: number | undefined
  /** Idle connections close after this many ms (`pg_keepalive_timeout`). */
  readonly idleTimeoutMs?: number | undefined
  /** Most queries waiting for a connection; more fail at once (`pg_backlog`). */
  readonly backlog?: number | undefined
}

export interface PostgresStoreOptions extends PostgresConnection {
  /** A read-only replica for reads outside transactions (`pg_ro_*`). */
  readonly readOnly?: PostgresConnection | undefined
  /** Clock in epoch milliseconds, for TTL expiry (tests may inject one). */
  readonly now?: () => number
}

/** `"name"` with embedded quotes doubled: a safe SQL identifier for any schema name. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`
}

/** Wraps driver failures in StoreError('DATABASE_ERROR'). */
function asStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new StoreError('DATABASE_ERROR', message === '' ? String((err as { code?: unknown }).code ?? 'connection failed') : message)
}

/** The driver's settings of one connection. */
function clientConfig(c: PostgresConnection): pg.ClientConfig {
  const timeout = c.timeoutMs ?? 5000
  return {
    host: c.host,
    port: c.port,
    user: c.user,
    ...(c.password !== undefined ? { password: c.password } : {}),
    database: c.database,
    ...(c.ssl === true ? { ssl: { rejectUnauthorized: c.sslVerify === true } } : {}),
    connectionTimeoutMillis: timeout,
    query_timeout: timeout,
    application_name: 'turnpike',
  }
}

/** A pool honouring one connection's settings. */
function makePool(c: PostgresConnection, onError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    ...clientConfig(c),
    max: c.maxConnections ?? 10,
    idleTimeoutMillis: c.idleTimeoutMs ?? 60_000,
  })
  // An idle connection that breaks reports here; the next query opens a new one.
  pool.on('error', onError)
  const schema = c.schema ?? ''
  if (schema !== '') {
    pool.on('connect', (client) => {
      // Queued before any query of this client, so every query sees the schema.
      client.query(`SET search_path TO ${quoteIdent(schema)}`).catch(onError)
    })
  }
  return pool
}

/** Refuses a query when `backlog` queries already wait for a connection. */
function checkBacklog(pool: pg.Pool, backlog: number | undefined): void {
  if (backlog !== undefined && pool.waitingCount >= backlog) {
    throw new StoreError('DATABASE_ERROR', 'too many waiting connect operations (pg_backlog)')
  }
}

/** Shared operation plumbing of the main handle and transaction handles. */
abstract class PgHandle implements Store {
  readonly kind = 'postgres' as const
  protected readonly core: PgCore

  constructor(core: PgCore) {
    this.core = core
  }

  /** Runs a read. */
  protected abstract read<T>(op: (db: Queryable) => Promise<T>): Promise<T>
  /** Runs a write atomically. */
  protected abstract write<T>(op: (db: Queryable) => Promise<T>): Promise<T>

  abstract transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>
  abstract init(entities: readonly StoreEntity[]): Promise<void>
  abstract close(): Promise<void>
  abstract reachable(): Promise<boolean>

  select(entity: string, id: string): Promise<Row | null> {
    return this.read((db) => this.core.select(db, entity, id))
  }
  selectByUnique(entity: string, field: string, value: unknown): Promise<Row | null> {
    return this.read((db) => this.core.selectByUnique(db, entity, field, value))
  }
  selectByCacheKey(entity: string, values: readonly unknown[]): Promise<Row | null> {
    return this.read((db) => this.core.selectByCacheKey(db, entity, values))
  }
  page(entity: string, query: PageQuery): Promise<Page> {
    return this.read((db) => this.core.page(db, entity, query))
  }
  all(entity: string, options?: { readonly withExpiry?: boolean }): Promise<Row[]> {
    return this.read((db) => this.core.all(db, entity, options))
  }
  tags(query: TagQuery): Promise<TagPage> {
    return this.read((db) => this.core.tags(db, query))
  }
  insert(entity: string, row: Row, options?: InsertOptions): Promise<Row> {
    this.core.entity(entity)
    return this.write((db) => this.core.insert(db, entity, row, options))
  }
  update(entity: string, row: Row): Promise<Row | null> {
    this.core.entity(entity)
    return this.write((db) => this.core.update(db, entity, row))
  }
  delete(entity: string, id: string): Promise<boolean> {
    this.core.entity(entity)
    return this.write((db) => this.core.delete(db, entity, id))
  }
}

/** The handle a transaction body gets: every operation on the transaction's connection, in order. */
class PgTxHandle extends PgHandle {
  readonly #client: pg.PoolClient
  readonly #depth: number
  #active = true
  /** Operations of one body run one after another (savepoints must not interleave). */
  #chain: Promise<unknown> = Promise.resolve()

  constructor(core: PgCore, client: pg.PoolClient, depth: number) {
    super(core)
    this.#client = client
    this.#depth = depth
  }

  end(): void {
    this.#active = false
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    if (!this.#active) {
      return Promise.reject(new StoreError('DATABASE_ERROR', 'transaction handle used after the transaction ended'))
    }
    const run = this.#chain.then(op).catch((err: unknown) => {
      throw asStoreError(err)
    })
    this.#chain = run.catch(() => undefined)
    return run
  }

  protected read<T>(op: (db: Queryable) => Promise<T>): Promise<T> {
    return this.#serial(() => op(this.#client))
  }

  /** A failed statement would abort the whole transaction: each write gets a savepoint. */
  protected write<T>(op: (db: Queryable) => Promise<T>): Promise<T> {
    return this.#serial(async () => {
      await this.#client.query('SAVEPOINT turnpike_write')
      try {
        const result = await op(this.#client)
        await this.#client.query('RELEASE SAVEPOINT turnpike_write')
        return result
      } catch (err) {
        await this.#client.query('ROLLBACK TO SAVEPOINT turnpike_write')
        await this.#client.query('RELEASE SAVEPOINT turnpike_write')
        throw err
      }
    })
  }

  /** A nested transaction: a savepoint that rolls back alone if its body throws. */
  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const name = `sp_${this.#depth}`
    await this.#serial(() => this.#client.query(`SAVEPOINT ${name}`))
    const inner = new PgTxHandle(this.core, this.#client, this.#depth + 1)
    try {
      const result = await fn(inner)
      inner.end()
      await this.#serial(() => this.#client.query(`RELEASE SAVEPOINT ${name}`))
      return result
    } catch (err) {
      inner.end()
      await this.#serial(async () => {
        await this.#client.query(`ROLLBACK TO SAVEPOINT ${name}`)
        await this.#client.query(`RELEASE SAVEPOINT ${name}`)
      }).catch(() => {
        // The savepoint is gone only if the whole transaction already failed; it rolls back next.
      })
      throw err
    }
  }

  reachable(): Promise<boolean> {
    return this.#serial(async () => (await this.#client.query('SELECT 1')).rowCount === 1).catch(() => false)
  }

  init(): Promise<void> {
    return Promise.reject(new StoreError('DATABASE_ERROR', 'init() is not allowed inside a transaction'))
  }

  close(): Promise<void> {
    return Promise.reject(new StoreError('DATABASE_ERROR', 'close() is not allowed inside a transaction'))
  }
}

/** A `Store` on a PostgreSQL database. */
export class PostgresStore extends PgHandle {
  readonly #pool: pg.Pool
  readonly #readPool: pg.Pool
  readonly #backlog: number | undefined
  readonly #gate = new TxGate()
  readonly #inTx = new AsyncLocalStorage<true>()
  /** Writes of the main handle, one after another. */
  #writes: Promise<unknown> = Promise.resolve()
  #closed = false
  #lastError: Error | null = null
  readonly options: PostgresStoreOptions

  /** Names this handle in the change events its writes send (pg-events.ts). */
  readonly origin: string

  constructor(options: PostgresStoreOptions) {
    const origin = randomUUID()
    super(new PgCore(origin, options.now))
    this.origin = origin
    this.options = options
    const onError = (err: Error): void => {
      this.#lastError = err
    }
    this.#pool = makePool(options, onError)
    this.#readPool = options.readOnly === undefined ? this.#pool : makePool(options.readOnly, onError)
    this.#backlog = options.backlog
  }

  /** The last error an idle connection reported (for logs and, later, outage detection). */
  get lastError(): Error | null {
    return this.#lastError
  }

  #assertOutsideTx(): void {
    if (this.#inTx.getStore() === true) {
      throw new StoreError('DATABASE_ERROR', 'the main store handle was used inside its own transaction: use the tx handle')
    }
  }

  async #ready(): Promise<void> {
    this.#assertOutsideTx()
    await this.#gate.idle()
    if (this.#closed) throw new StoreError('DATABASE_ERROR', 'store is closed')
  }

  /** Runs one query (or a few independent ones) on a pool, outside any transaction. */
  async #onPool<T>(pool: pg.Pool, backlog: number | undefined, op: (db: Queryable) => Promise<T>): Promise<T> {
    await this.#ready()
    checkBacklog(pool, backlog)
    try {
      return await op(pool as unknown as Queryable)
    } catch (err) {
      throw asStoreError(err)
    }
  }

  protected read<T>(op: (db: Queryable) => Promise<T>): Promise<T> {
    return this.#onPool(this.#readPool, this.options.readOnly?.backlog ?? this.#backlog, op)
  }

  /**
   * The snapshot the workers get is read from the primary: a replica that lags would hand them a
   * configuration without the write that asked for the new snapshot.
   */
  override all(entity: string, options?: { readonly withExpiry?: boolean }): Promise<Row[]> {
    return this.#onPool(this.#pool, this.#backlog, (db) => this.core.all(db, entity, options))
  }

  protected async write<T>(op: (db: Queryable) => Promise<T>): Promise<T> {
    await this.#ready()
    const run = this.#writes.then(() => this.withClient((client, broken) => inTransaction(client, () => op(client), broken)))
    this.#writes = run.catch(() => undefined)
    return run
  }

  /**
   * Runs `fn` on one connection of the pool (migrations, layout changes). The connection goes
   * back to the pool afterwards, unless it failed or `fn` marked it broken (a failed ROLLBACK).
   */
  async withClient<T>(fn: (client: pg.PoolClient, markBroken: () => void) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError('DATABASE_ERROR', 'store is closed')
    checkBacklog(this.#pool, this.#backlog)
    let client: pg.PoolClient
    try {
      client = await this.#pool.connect()
    } catch (err) {
      throw asStoreError(err)
    }
    let broken = false
    const onError = (err: Error): void => {
      broken = true
      this.#lastError = err
    }
    client.on('error', onError)
    try {
      return await fn(client, () => {
        broken = true
      })
    } catch (err) {
      throw asStoreError(err)
    } finally {
      client.off('error', onError)
      client.release(broken)
    }
  }

  async init(entities: readonly StoreEntity[]): Promise<void> {
    await this.#ready()
    await this.withClient((client, broken) => inTransaction(client, () => migrateLayout(client, entities), broken))
    this.core.setEntities(entities)
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    this.#assertOutsideTx()
    // A body's own error must surface unchanged (not wrapped as a StoreError by withClient).
    let failure: { err: unknown } | null = null
    return this.#gate.exclusive(async () => {
      try {
        return await this.withClient(async (client, markBroken) => {
          const tx = new PgTxHandle(this.core, client, 0)
          const body = (): Promise<T> =>
            this.#inTx
              .run(true, () => fn(tx))
              .catch((err: unknown) => {
                failure = { err }
                throw err
              })
          try {
            return await inTransaction(client, body, markBroken)
          } finally {
            tx.end()
          }
        })
      } catch (err) {
        throw failure === null ? err : (failure as { err: unknown }).err
      }
    })
  }

  /**
   * Listens to the changes other handles (other nodes, the CLI) commit, on a dedicated
   * connection that reconnects by itself; resolves after the first attempt (`onState` says how
   * it went). Close the listener when done.
   */
  async listen(
    onEvent: (event: ChangeEvent) => void,
    onState: (connected: boolean, err?: Error) => void = () => {},
  ): Promise<ChangeListener> {
    const listener = new ChangeListener(clientConfig(this.options), this.origin, onEvent, onState)
    await listener.start()
    return listener
  }

  /**
   * rate-limiting's `cluster` counters in this database (`ratelimiting_metrics`). Each hit is one
   * autocommitted statement on a pooled connection, outside the Admin API's write queue.
   */
  rateLimitMetrics(): RateLimitMetrics {
    return new PgRateLimitMetrics((op) => this.withClient((client) => op(client)))
  }

  async reachable(): Promise<boolean> {
    if (this.#closed) return false
    try {
      await this.#pool.query('SELECT 1')
      return true
    } catch (err) {
      this.#lastError = err as Error
      return false
    }
  }

  async close(): Promise<void> {
    this.#assertOutsideTx()
    await this.#gate.idle()
    await this.#writes
    if (this.#closed) return
    this.#closed = true
    await this.#pool.end()
    if (this.#readPool !== this.#pool) await this.#readPool.end()
  }
}

/** Runs `fn` between BEGIN and COMMIT on `client`, rolling back when it throws. */
export async function inTransaction<T>(client: Queryable, fn: () => Promise<T>, markBroken: () => void): Promise<T> {
  await client.query('BEGIN')
  try {
    const result = await fn()
    await client.query('COMMIT')
    return result
  } catch (err) {
    // A connection that cannot roll back is in an unknown state: it must not be reused.
    await client.query('ROLLBACK').catch(markBroken)
    throw err
  }
}

/** Opens a PostgreSQL store; call `init(entities)` before use. */
export function createPostgresStore(options: PostgresStoreOptions): PostgresStore {
  return new PostgresStore(options)
}
