/**
 * The synchronous engine behind a store handle. Both built-in stores (memory, better-sqlite3)
 * are synchronous underneath; {@link GatedStore} turns a core into the async `Store` contract
 * and owns the transaction serialisation, so each core only implements plain operations plus
 * begin/commit/rollback and savepoints.
 *
 * @module
 */
import type { InsertOptions, Page, PageQuery, Row, StoreEntity, TagRow } from '../types.js'

/** A page of `/tags` rows. */
export interface TagPage {
  data: TagRow[]
  offset?: string
}

/** Query of the `/tags` listing. */
export interface TagQuery {
  readonly size: number
  readonly offset?: string
  readonly tag?: string
}

/** Synchronous store operations; every method throws StoreError on failure. */
export interface SyncCore {
  init(entities: readonly StoreEntity[]): void
  close(): void
  select(entity: string, id: string): Row | null
  selectByUnique(entity: string, field: string, value: unknown): Row | null
  selectByCacheKey(entity: string, values: readonly unknown[]): Row | null
  page(entity: string, query: PageQuery): Page
  all(entity: string, options?: { readonly withExpiry?: boolean }): Row[]
  insert(entity: string, row: Row, options?: InsertOptions): Row
  update(entity: string, row: Row): Row | null
  delete(entity: string, id: string): boolean
  tags(query: TagQuery): TagPage
  reachable(): boolean
  /** Opens the outermost transaction (SQLite: BEGIN IMMEDIATE). */
  begin(): void
  commit(): void
  rollback(): void
  /** Nested transactions use named savepoints. */
  savepoint(name: string): void
  release(name: string): void
  rollbackTo(name: string): void
}
