/**
 * Kong's database error codes (`kong/db/errors.lua`) and the Admin API body they produce:
 * `{ code, name, message, fields? }`. Thrown by the DAO, turned into HTTP only at the edge.
 *
 * @module
 */
import type { FieldErrors } from '../schema/index.js'

/** Kong's numbered error codes, with their names and HTTP statuses. */
export const DB_ERRORS = {
  INVALID_PRIMARY_KEY: { code: 1, name: 'invalid primary key', status: 400 },
  SCHEMA_VIOLATION: { code: 2, name: 'schema violation', status: 400 },
  PRIMARY_KEY_VIOLATION: { code: 3, name: 'primary key violation', status: 400 },
  FOREIGN_KEY_VIOLATION: { code: 4, name: 'foreign key violation', status: 400 },
  UNIQUE_VIOLATION: { code: 5, name: 'unique constraint violation', status: 409 },
  NOT_FOUND: { code: 6, name: 'not found', status: 404 },
  INVALID_OFFSET: { code: 7, name: 'invalid offset', status: 400 },
  DATABASE_ERROR: { code: 8, name: 'database error', status: 500 },
  INVALID_SIZE: { code: 9, name: 'invalid size', status: 400 },
  INVALID_UNIQUE: { code: 10, name: 'invalid unique', status: 400 },
  INVALID_OPTIONS: { code: 11, name: 'invalid options', status: 400 },
  OPERATION_UNSUPPORTED: { code: 12, name: 'operation unsupported', status: 405 },
  FOREIGN_KEYS_UNRESOLVED: { code: 13, name: 'foreign keys unresolved', status: 400 },
  DECLARATIVE_CONFIG: { code: 14, name: 'invalid declarative configuration', status: 400 },
  TRANSFORMATION_ERROR: { code: 15, name: 'transformation error', status: 400 },
  INVALID_FOREIGN_KEY: { code: 16, name: 'invalid foreign key', status: 400 },
  INVALID_WORKSPACE: { code: 17, name: 'invalid workspace', status: 400 },
  INVALID_GLOBAL_QUERY: { code: 18, name: 'invalid global query', status: 400 },
  REFERENCED_BY_OTHERS: { code: 19, name: 'referenced by others', status: 400 },
} as const

export type DbErrorKind = keyof typeof DB_ERRORS

/** The JSON body Kong's Admin API returns for a DAO error. */
export interface DbErrorBody {
  code: number
  name: string
  message: string
  fields?: FieldErrors | Record<string, unknown>
  [extra: string]: unknown
}

/** An error from the DAO layer with Kong's code, name, message and optional `fields`. */
export class DbError extends Error {
  readonly kind: DbErrorKind
  readonly fields: FieldErrors | Record<string, unknown> | undefined
  /** The body's `name` when Kong makes it from the kind and a field (`invalid unique tag`). */
  readonly bodyName: string | undefined
  constructor(kind: DbErrorKind, message: string, fields?: FieldErrors | Record<string, unknown>, bodyName?: string) {
    super(message)
    this.name = 'DbError'
    this.kind = kind
    this.fields = fields
    this.bodyName = bodyName
  }
  get status(): number {
    return DB_ERRORS[this.kind].status
  }
  toBody(): DbErrorBody {
    const { code, name } = DB_ERRORS[this.kind]
    const body: DbErrorBody = { code, name: this.bodyName ?? name, message: this.message }
    if (this.fields !== undefined) body.fields = this.fields
    return body
  }
}

/**
 * Field names in Kong's message order: `@entity` first, then the others sorted (Kong's
 * `schema_violation` uses `sorted_keys`), so several violations read the same as Kong's.
 */
function kongOrder(errors: FieldErrors): [string, FieldErrors[string]][] {
  const entries = Object.entries(errors)
  const entity = entries.filter(([k]) => k === '@entity')
  const fields = entries.filter(([k]) => k !== '@entity').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return [...entity, ...fields]
}

/** Flattens Kong's nested field errors into `a.b: msg` parts, as in schema violation messages. */
export function describeFieldErrors(errors: FieldErrors, prefix = ''): string[] {
  const out: string[] = []
  for (const [key, value] of kongOrder(errors)) {
    const name = key === '@entity' ? prefix.replace(/\.$/, '') : `${prefix}${key}`
    if (typeof value === 'string') out.push(name === '' ? value : `${name}: ${value}`)
    else if (Array.isArray(value)) {
      value.forEach((v, i) => {
        if (v === null) return
        if (typeof v === 'string') {
          out.push(key === '@entity' ? (name === '' ? v : `${name}: ${v}`) : `${name}.${i + 1}: ${v}`)
        } else out.push(...describeFieldErrors(v, `${name}.${i + 1}.`))
      })
    } else out.push(...describeFieldErrors(value, `${name}.`))
  }
  return out
}

/** Builds Kong's schema-violation error: `schema violation (host: required field missing)`. */
export function schemaViolation(errors: FieldErrors): DbError {
  const parts = describeFieldErrors(errors)
  const message = parts.length === 1 ? `schema violation (${parts[0] ?? ''})` : `${parts.length} schema violations (${parts.join('; ')})`
  return new DbError('SCHEMA_VIOLATION', message, errors)
}

/** Code 10: a unique key (an endpoint key, a tag) that its field's own rules refuse (`invalid unique name`). */
export function invalidUnique(field: string, message: string): DbError {
  return new DbError('INVALID_UNIQUE', message, undefined, `invalid unique ${field}`)
}
