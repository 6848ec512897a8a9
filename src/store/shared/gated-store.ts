/**
 * Turns a synchronous {@link SyncCore} into the async `Store` contract.
 *
 * Transactions: the body `fn` is async while the core is synchronous, so transactions are
 * serialised through a {@link TxGate}. Operations issued through the `tx` handle run inside the
 * open transaction; operations on the main handle wait until no transaction is open, so nothing
 * outside can interleave with (and leak into) a transaction. Calling the main handle from inside
 * a transaction body would wait for that very transaction forever, so it is rejected instead
 * (detected through AsyncLocalStorage): use the `tx` handle there.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { StoreError, type InsertOptions, type Page, type PageQuery, type Row, type Store, type StoreEntity } from '../types.js'
import type { SyncCore, TagPage, TagQuery } from './sync-core.js'
import { TxGate } from './tx-gate.js'

type Kind = Store['kind']

/** Wraps unexpected failures of a core in StoreError('DATABASE_ERROR'). */
function asStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err
  const message = err instanceof Error ? err.message : String(err)
  return new StoreError('DATABASE_ERROR', message)
}

/** Shared operation plumbing: each subclass decides how to get exclusive access to the core. */
abstract class CoreHandle implements Store {
  readonly kind: Kind
  protected readonly core: SyncCore

  constructor(kind: Kind, core: SyncCore) {
    this.kind = kind
    this.core = core
  }

  /** Runs a synchronous core operation when it is safe to do so. */
  protected abstract run<T>(op: () => T): Promise<T>

  abstract transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>
  abstract init(entities: readonly StoreEntity[]): Promise<void>
  abstract close(): Promise<void>

  select(entity: string, id: string): Promise<Row | null> {
    return this.run(() => this.core.select(entity, id))
  }
  selectByUnique(entity: string, field: string, value: unknown): Promise<Row | null> {
    return this.run(() => this.core.selectByUnique(entity, field, value))
  }
  selectByCacheKey(entity: string, values: readonly unknown[]): Promise<Row | null> {
    return this.run(() => this.core.selectByCacheKey(entity, values))
  }
  page(entity: string, query: PageQuery): Promise<Page> {
    return this.run(() => this.core.page(entity, query))
  }
  all(entity: string, options?: { readonly withExpiry?: boolean }): Promise<Row[]> {
    return this.run(() => this.core.all(entity, options))
  }
  insert(entity: string, row: Row, options?: InsertOptions): Promise<Row> {
    return this.run(() => this.core.insert(entity, row, options))
  }
  update(entity: string, row: Row): Promise<Row | null> {
    return this.run(() => this.core.update(entity, row))
  }
  delete(entity: string, id: string): Promise<boolean> {
    return this.run(() => this.core.delete(entity, id))
  }
  tags(query: TagQuery): Promise<TagPage> {
    return this.run(() => this.core.tags(query))
  }
  async reachable(): Promise<boolean> {
    try {
      return await this.run(() => this.core.reachable())
    } catch {
      return false
    }
  }
}

/** The handle given to a transaction body; valid only while that body runs. */
class TxHandle extends CoreHandle {
  #active = true
  #depth: number

  constructor(kind: Kind, core: SyncCore, depth: number) {
    super(kind, core)
    this.#depth = depth
  }

  /** Called when the body settles: later use of this handle is a programming error. */
  end(): void {
    this.#active = false
  }

  protected run<T>(op: () => T): Promise<T> {
    if (!this.#active) {
      return Promise.reject(new StoreError('DATABASE_ERROR', 'transaction handle used after the transaction ended'))
    }
    try {
      return Promise.resolve(op())
    } catch (err) {
      return Promise.reject(asStoreError(err))
    }
  }

  /** A nested transaction: a savepoint that rolls back alone if its body throws. */
  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    const name = `sp_${this.#depth}`
    await this.run(() => this.core.savepoint(name))
    const inner = new TxHandle(this.kind, this.core, this.#depth + 1)
    try {
      const result = await fn(inner)
      await this.run(() => this.core.release(name))
      return result
    } catch (err) {
      try {
        this.core.rollbackTo(name)
      } catch {
        // The savepoint is gone only if the whole transaction already failed; it rolls back next.
      }
      throw err
    } finally {
      inner.end()
    }
  }

  init(): Promise<void> {
    return Promise.reject(new StoreError('DATABASE_ERROR', 'init() is not allowed inside a transaction'))
  }

  close(): Promise<void> {
    return Promise.reject(new StoreError('DATABASE_ERROR', 'close() is not allowed inside a transaction'))
  }
}

/** The main handle of a store: the `Store` every caller holds. */
export class GatedStore extends CoreHandle {
  readonly #gate = new TxGate()
  /** Set while a transaction body of this store runs (in that body's async context). */
  readonly #inTx = new AsyncLocalStorage<true>()
  #closed = false

  /** Rejects a main-handle call made from inside this store's own transaction body. */
  #assertOutsideTx(): void {
    if (this.#inTx.getStore() === true) {
      throw new StoreError('DATABASE_ERROR', 'the main store handle was used inside its own transaction: use the tx handle')
    }
  }

  protected async run<T>(op: () => T): Promise<T> {
    this.#assertOutsideTx()
    await this.#gate.idle()
    if (this.#closed) throw new StoreError('DATABASE_ERROR', 'store is closed')
    try {
      return op()
    } catch (err) {
      throw asStoreError(err)
    }
  }

  init(entities: readonly StoreEntity[]): Promise<void> {
    return this.run(() => this.core.init(entities))
  }

  async close(): Promise<void> {
    this.#assertOutsideTx()
    await this.#gate.idle()
    if (this.#closed) return
    this.#closed = true
    this.core.close()
  }

  async transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    this.#assertOutsideTx()
    return this.#gate.exclusive(async () => {
      if (this.#closed) throw new StoreError('DATABASE_ERROR', 'store is closed')
      try {
        this.core.begin()
      } catch (err) {
        throw asStoreError(err)
      }
      const tx = new TxHandle(this.kind, this.core, 0)
      try {
        const result = await this.#inTx.run(true, () => fn(tx))
        tx.end()
        try {
          this.core.commit()
        } catch (err) {
          throw asStoreError(err)
        }
        return result
      } catch (err) {
        tx.end()
        try {
          this.core.rollback()
        } catch {
          // The commit itself may have failed and already rolled back; the first error wins.
        }
        throw err
      }
    })
  }
}
