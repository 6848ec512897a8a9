/**
 * The schema engine: validation with Kong's messages, `/schemas` rendering, form coercion and
 * storage metadata, all driven by the DSL in `types.ts`.
 *
 * @module
 */
export { validateEntity, type ValidateOptions } from './validate.js'
export { schemaToJson } from './to-json.js'
export { deprecatedShorthandWarnings, shownRow, storedRow } from './shown.js'
export { coerceFormInput } from './coerce.js'
export { storeEntity } from './store-entity.js'
export * as typedefs from './typedefs.js'
export type * from './types.js'
export { setOwn, isNonEmpty, isPlainObject, type FieldSpec, type FieldError } from './field-spec.js'
export { validateField, isVaultReference } from './validate-field.js'
export { quotedList } from './messages.js'
export { luaToNumber } from './coerce.js'
export { normalizeIp } from './net.js'
export { normalizeUri } from './uri.js'
export { invalidUtf8Message, validateHeaderName, validateTag } from './validators.js'
export { orDefault, completeRow, splitTransient } from './defaults.js'
export { parseCertificate, parsePrivateKey, keyMatchesCertificate, validateJwkKey } from './pem.js'
