/**
 * Internal view of a field: the DSL `Field` plus the extra attributes that Kong's entity checks
 * overlay on it (`eq`, `ne`, `not_one_of`, `contains`, `match_none` …). Conditional checks merge a
 * `FieldConstraint` over the field definition and validate with the result, as Kong does.
 *
 * @module
 */
import type { Field, FieldConstraint, FieldErrors } from './types.js'

/** Attributes that are not part of the public DSL but that the validator understands. */
export interface ExtraAttributes {
  readonly eq?: unknown
  readonly ne?: unknown
  readonly not_one_of?: readonly unknown[]
  readonly one_of?: readonly unknown[]
  readonly contains?: unknown
  readonly len_eq?: number
  readonly len_min?: number
  readonly match_none?: readonly { pattern: RegExp; err: string }[]
  /** Overrides every validator message (not type errors), as Kong's `err`. */
  readonly err?: string
}

export type FieldSpec = Field & ExtraAttributes

/** One field's error: a message, nested record errors, or per-element errors (null = valid). */
export type FieldError = string | FieldErrors | (string | FieldErrors | null)[]

/** Merges a conditional-check constraint over a field definition (Kong's metatable trick). */
export function overlayConstraint(field: Field | undefined, constraint: FieldConstraint): FieldSpec {
  const base: Record<string, unknown> = field ? { ...field } : { type: 'json' }
  for (const [k, v] of Object.entries(constraint)) {
    if (k === 'eq_null') {
      if (v === true) base['eq'] = null
    } else base[k] = v
  }
  return base as unknown as FieldSpec
}

/** Kong's `is_nonempty`: not null/absent, not an empty string, array or object. */
export function isNonEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return false
  if (typeof value === 'string') return value !== ''
  if (Array.isArray(value)) return value.length > 0
  if (typeof value === 'object') return Object.keys(value).length > 0
  return true
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Reads `a.b.c` from nested objects. */
export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj
  for (const part of path.split('.')) {
    if (!isPlainObject(cur)) return undefined
    cur = cur[part]
  }
  return cur
}

/** Writes `a.b.c` into nested error objects, creating levels as needed. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.')
  let cur = obj
  for (let i = 0; i < parts.length - 1; i++) {
    const key = parts[i] as string
    const next = cur[key]
    if (isPlainObject(next)) cur = next
    else {
      const created: Record<string, unknown> = {}
      cur[key] = created
      cur = created
    }
  }
  cur[parts[parts.length - 1] as string] = value
}

/**
 * `obj[key] = value` for a key that comes from input: `__proto__` becomes an own property like
 * any other name, instead of replacing `obj`'s prototype (and being lost).
 */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
  else obj[key] = value
}
