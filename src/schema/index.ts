/**
 * The schema engine: validation with Kong's messages, `/schemas` rendering, form coercion and
 * storage metadata, all driven by the DSL in `types.ts`.
 *
 * @module
 */
export { validateEntity, type ValidateOptions } from './validate.js'
export { schemaToJson } from './to-json.js'
export { coerceFormInput } from './coerce.js'
export { storeEntity } from './store-entity.js'
export * as typedefs from './typedefs.js'
