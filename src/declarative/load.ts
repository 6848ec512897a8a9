/**
 * Text → validated configuration → store. The configuration hash is Kong's: md5 of the text
 * (`parse_string`), 32 zeros when nothing is loaded.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { Row, Store } from '../store/index.js'
import { DeclarativeError, type EntityProblem } from './errors.js'
import { type FlatConfig, type FlattenOptions, flattenConfig } from './flatten.js'
import type { EntityGraph } from './graph.js'
import { MAX_DECLARATIVE_DEPTH, nestsDeeperThan, parseDeclarativeText, TOO_DEEP } from './parse-text.js'

/** Kong's `configuration_hash` for an empty DB-less node. */
export const EMPTY_HASH = '00000000000000000000000000000000'

export function md5(text: string | Buffer): string {
  return createHash('md5').update(text).digest('hex')
}

export type LoadResult =
  | { readonly ok: true; readonly config: FlatConfig; readonly hash: string; readonly input: Record<string, unknown> }
  | { readonly ok: false; readonly problems: EntityProblem[]; readonly input?: Record<string, unknown> }

/** Parses and validates declarative text (YAML or JSON). Never throws for bad input. */
export function loadDeclarativeText(text: string, graph: EntityGraph, filename?: string, options: FlattenOptions = {}): LoadResult {
  let input: Record<string, unknown>
  try {
    input = parseDeclarativeText(text, filename)
  } catch (err) {
    if (err instanceof DeclarativeError) return { ok: false, problems: [...err.problems] }
    throw err
  }
  return loadDeclarativeObject(input, graph, md5(text), options)
}

/** Validates an already parsed document. */
export function loadDeclarativeObject(
  input: Record<string, unknown>,
  graph: EntityGraph,
  hash: string,
  options: FlattenOptions = {},
): LoadResult {
  // Text was checked when parsed; a document that came parsed (a JSON body) is checked here.
  if (nestsDeeperThan(input, MAX_DECLARATIVE_DEPTH)) return { ok: false, problems: [{ location: [], errors: { error: TOO_DEEP } }], input }
  const result = flattenConfig(input, graph, options)
  if (!result.ok) return { ok: false, problems: result.problems, input }
  return { ok: true, config: result.config, hash, input }
}

/** Number of rows in a configuration. */
export function countRows(config: FlatConfig): number {
  return Object.values(config.entities).reduce((n, rows) => n + rows.length, 0)
}

/**
 * Replaces everything in the store with the configuration, in one transaction: readers see the
 * old configuration or the new one, never a mix.
 */
export async function replaceStoreContents(store: Store, graph: EntityGraph, config: FlatConfig): Promise<void> {
  await store.transaction(async (tx) => {
    for (const entity of [...graph.order].reverse()) {
      for (const row of await tx.all(entity)) await tx.delete(entity, row.id)
    }
    for (const entity of graph.order) {
      for (const row of config.entities[entity] ?? []) await tx.insert(entity, row)
    }
  })
}

/** Every row of every entity of the graph. */
export async function readAll(store: Store, graph: EntityGraph): Promise<Record<string, Row[]>> {
  const out: Record<string, Row[]> = {}
  for (const entity of graph.order) out[entity] = await store.all(entity)
  return out
}
