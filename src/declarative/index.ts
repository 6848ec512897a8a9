/**
 * Declarative configuration (Kong's `kong.yml`): parsing, validation and flattening, loading
 * into a store, export (Kong's and decK's styles), DB-less `/config`.
 *
 * @module
 */
export { entityGraph, KONG_ENTITY_NAMES, type EntityGraph } from './graph.js'
export { parseDeclarativeText, MAX_DECLARATIVE_DEPTH, nestsDeeperThan } from './parse-text.js'
export { flattenConfig, migrateRoutePath, FORMAT_VERSIONS, type FlatConfig, type DeclarativeMeta } from './flatten.js'
export {
  DeclarativeError,
  describeProblems,
  errorTree,
  flattenedErrors,
  invalidConfigBody,
  formatLocation,
  type EntityProblem,
} from './errors.js'
export { loadDeclarativeText, loadDeclarativeObject, replaceStoreContents, readAll, md5, EMPTY_HASH, countRows } from './load.js'
export { kongExport, deckDump, toYaml } from './export.js'
export { declarativeId } from './declarative-id.js'
export { DeclarativeNode } from './dbless.js'
