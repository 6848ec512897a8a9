/**
 * Constructors for the DAO errors Kong reports, with Kong's exact messages and `fields`.
 * Kept in one place so the Admin API, the declarative loader and tests agree on wording.
 *
 * @module
 */
import { DbError } from '../errors/db-errors.js'
import { luaPretty } from './lua-pretty.js'

/** `could not find the entity with primary key '{id="…"}'` (code 6, 404). */
export function notFoundById(id: string): DbError {
  return new DbError('NOT_FOUND', `could not find the entity with primary key '${luaPretty({ id })}'`, { id })
}

/** `could not find the entity with '{name="x"}'` (code 6, 404), for endpoint-key lookups. */
export function notFoundByField(field: string, value: unknown): DbError {
  const filter = { [field]: value }
  return new DbError('NOT_FOUND', `could not find the entity with '${luaPretty(filter)}'`, filter)
}

/** `invalid unique <field>` (code 10): one maker for the DAO's key checks and the Admin API's path checks. */
export { invalidUnique } from '../errors/db-errors.js'

/** `invalid primary key: '{id="x"}'` (code 1, 400), when a non-uuid is given for an entity without endpoint key. */
export function invalidPrimaryKey(id: string): DbError {
  return new DbError('INVALID_PRIMARY_KEY', `invalid primary key: '${luaPretty({ id })}'`, { id: 'expected a valid UUID' })
}

/** A foreign key that points at nothing (code 4, 400). */
export function foreignKeyInvalidReference(field: string, key: { id: string }, parent: string): DbError {
  return new DbError('FOREIGN_KEY_VIOLATION', `the foreign key '${luaPretty(key)}' does not reference an existing '${parent}' entity.`, {
    [field]: key,
  })
}

/** Deleting a row still referenced under `on_delete: restrict` (code 4, 400). */
export function foreignKeyRestricted(parent: string, child: string): DbError {
  return new DbError('FOREIGN_KEY_VIOLATION', `an existing '${child}' entity references this '${parent}' entity`, {
    '@referenced_by': child,
  })
}

/**
 * A row still listed by another (code 19, 400), in Kong's wording for CA certificates, its only
 * user: `ca certificate <id> is still referenced by services (id = <id>)`.
 */
export function referencedByOthers(entity: string, id: string, by: string, byId: string): DbError {
  const what = entity === 'ca_certificates' ? 'ca certificate' : entity
  return new DbError('REFERENCED_BY_OTHERS', `${what} ${id} is still referenced by ${by} (id = ${byId})`)
}

/** One unresolved `{ "name": … }` style foreign reference. */
export interface UnresolvedForeign {
  readonly field: string
  readonly uniqueField: string
  readonly value: unknown
  readonly parent: string
}

/** Foreign references given by a unique field that matched no row (code 13, 400). */
export function foreignKeysUnresolved(list: readonly UnresolvedForeign[]): DbError {
  const fields: Record<string, Record<string, string>> = {}
  const parts: string[] = []
  const sorted = [...list].sort((a, b) => (a.field + '.' + a.uniqueField).localeCompare(b.field + '.' + b.uniqueField))
  for (const u of sorted) {
    const text = `the foreign key cannot be resolved with '${luaPretty({ [u.uniqueField]: u.value })}' for an existing '${u.parent}' entity`
    fields[u.field] = { ...fields[u.field], [u.uniqueField]: text }
    parts.push(`${u.field}.${u.uniqueField}: ${text}`)
  }
  const message =
    parts.length === 1 ? `foreign key unresolved (${parts[0] ?? ''})` : `${parts.length} foreign keys unresolved (${parts.join('; ')})`
  return new DbError('FOREIGN_KEYS_UNRESOLVED', message, fields)
}

/** `UNIQUE violation detected on '{name="x"}'` (code 5, 409). */
export function uniqueViolation(fields: Record<string, unknown>): DbError {
  return new DbError('UNIQUE_VIOLATION', `UNIQUE violation detected on '${luaPretty(fields)}'`, fields)
}

/** `primary key violation on key '{id="…"}'` (code 3). */
export function primaryKeyViolation(fields: Record<string, unknown>): DbError {
  return new DbError('PRIMARY_KEY_VIOLATION', `primary key violation on key '${luaPretty(fields)}'`, fields)
}

/** Code 9: `size must be an integer between 1 and 1000` or `size must be a number`. */
export function invalidSize(message: string): DbError {
  return new DbError('INVALID_SIZE', message)
}

/**
 * Code 7: `'x' is not a valid offset: bad base64 encoding` when the token is not even base64 (what
 * Kong's `ngx.decode_base64` refuses: a character outside the alphabet, or a length of 4n+1),
 * else `… bad offset`.
 */
export function invalidOffset(offset: string): DbError {
  const base64 = /^[A-Za-z0-9+/]*={0,2}$/.test(offset) && offset.replace(/=+$/, '').length % 4 !== 1
  return new DbError('INVALID_OFFSET', `'${offset}' is not a valid offset: ${base64 ? 'bad offset' : 'bad base64 encoding'}`)
}

/**
 * Code 11: `invalid option (tags: cannot query more than 5 tags)`. Kong reports these under
 * `options`, not `fields`; the Admin API renames the key when it builds the body.
 */
export function invalidOptions(options: Record<string, string>): DbError {
  const parts = Object.keys(options)
    .sort()
    .map((k) => `${k}: ${options[k] ?? ''}`)
  const message = parts.length === 1 ? `invalid option (${parts[0] ?? ''})` : `${parts.length} option violations (${parts.join('; ')})`
  return new DbError('INVALID_OPTIONS', message, options)
}

/** The write verbs Kong names in its DB-less refusal. */
export type UnsupportedOperation = 'create' | 'update' | 'create or update' | 'remove'

/** Code 12 (405): `cannot create 'services' entities when not using a database`. */
export function operationUnsupported(op: UnsupportedOperation, entity: string, byField?: string): DbError {
  const by = byField === undefined ? '' : ` by '${byField}'`
  return new DbError('OPERATION_UNSUPPORTED', `cannot ${op} '${entity}' entities${by} when not using a database`)
}
