/**
 * The DAO: validation, defaults, foreign keys, cascades and change events over a Store.
 *
 * @module
 */
export { Dao, subschemaErrors, toDbError, type ChangeEvent, type ChangeListener, type DaoPageQuery, type WriteOptions } from './dao.js'
export * from './dao-errors.js'
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, checkPageSize, parseSizeParam, parseTagsParam } from './page-options.js'
export { luaPretty } from './lua-pretty.js'
export { foreignFields } from './foreign-refs.js'
