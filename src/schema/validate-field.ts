/**
 * Validation of a single value against a field definition, in Kong's order: null handling,
 * type check, then the attribute validators in `Schema.validators_order`.
 *
 * @module
 */
import type { ArrayField, FieldErrors, MapField } from './types.js'
import { type FieldError, type FieldSpec, isPlainObject } from './field-spec.js'
import {
  MSG,
  betweenMessage,
  containsMessage,
  eqMessage,
  gtMessage,
  lenEqMessage,
  lenMaxMessage,
  lenMinMessage,
  matchMessage,
  neMessage,
  notOneOfMessage,
  oneOfMessage,
  startsWithMessage,
} from './messages.js'
import { validateObject, validateRecordValue } from './record.js'
import type { SchemaLike } from './schema-like.js'
import { isUuid } from '../ids/uuid.js'

/** Per-call validation context. */
export interface ValidateContext {
  /** PATCH: Kong rewords some entity-check messages while validating an update. */
  readonly updating: boolean
  /**
   * The schema of a referenced entity, so that a foreign value given as a record without its
   * key is checked field by field, as Kong reports it (`service.protocol: expected one of: …`).
   */
  readonly schemaOf?: (entity: string) => SchemaLike | undefined
}

/**
 * Kong's `kong.vault.is_reference`: a string that starts with `{vault://` and ends with `}`. That is
 * all Kong checks when a referenceable field is written; the rest of the syntax is checked when
 * the reference is resolved.
 */
export function isVaultReference(value: string): boolean {
  return value.startsWith('{vault://') && value.endsWith('}')
}

const anchored = new WeakMap<RegExp, RegExp>()
/** The DSL's `match` must match the whole value. */
function wholeMatch(re: RegExp, value: string): boolean {
  let full = anchored.get(re)
  if (!full) {
    full = new RegExp(`^(?:${re.source})$`, re.flags.replace(/[gy]/g, ''))
    anchored.set(re, full)
  }
  return full.test(value)
}

/** Lua's `#` on a value: bytes for strings, element count for arrays, key count for maps. */
function luaLength(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8')
  if (Array.isArray(value)) return value.length
  if (isPlainObject(value)) return Object.keys(value).length
  return 0
}

/**
 * Validates one value (which may be `null`) against a field. Returns undefined when valid.
 * Arrays and sets report per-element errors as an array with `null` for valid elements.
 */
export function validateField(field: FieldSpec, value: unknown, ctx: ValidateContext): FieldError | undefined {
  if (value === null || value === undefined) {
    if (field.ne === null) return field.err ?? neMessage(null)
    if (field.eq !== undefined && field.eq !== null) return eqMessage(field.eq)
    if (field.required) return MSG.REQUIRED
    return undefined
  }
  if ('eq' in field && field.eq === null) return field.err ?? eqMessage(null)

  const typeError = checkType(field, value, ctx)
  if (typeError !== undefined) return typeError
  if (field.type === 'string' && field.referenceable && typeof value === 'string' && isVaultReference(value)) {
    return undefined
  }
  const err = runValidators(field, value)
  return err === undefined ? undefined : (field.err ?? err)
}

function checkType(field: FieldSpec, value: unknown, ctx: ValidateContext): FieldError | undefined {
  switch (field.type) {
    case 'array':
    case 'set':
      if (!Array.isArray(value)) return field.type === 'array' ? MSG.ARRAY : MSG.SET
      return validateElements(field, value, ctx)
    case 'map':
      if (typeof value !== 'object') return MSG.MAP
      return validateMap(field, value as object, ctx)
    case 'record':
      if (typeof value !== 'object') return MSG.RECORD
      return validateRecordValue(field, asRecordInput(value as object), ctx)
    case 'foreign':
      return validateForeign(field.reference, value, ctx)
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? undefined : MSG.INTEGER
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : MSG.NUMBER
    case 'boolean':
      return typeof value === 'boolean' ? undefined : MSG.BOOLEAN
    case 'string':
      return typeof value === 'string' ? undefined : MSG.STRING
    case 'json':
      return undefined
  }
}

/** A JSON array given where a record/map is expected is a Lua table with keys 1..n. */
export function asRecordInput(value: object): Record<string, unknown> {
  if (!Array.isArray(value)) return value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  value.forEach((v, i) => {
    out[String(i + 1)] = v
  })
  return out
}

function validateElements(field: ArrayField & FieldSpec, value: unknown[], ctx: ValidateContext): FieldError | undefined {
  // Kong marks elements as required: a null element is `required field missing`.
  const elements = { ...field.elements, required: true } as FieldSpec
  const errors: (string | FieldErrors | null)[] = []
  let failed = false
  value.forEach((v, i) => {
    const err = validateField(elements, v, ctx)
    if (err !== undefined) {
      while (errors.length < i) errors.push(null)
      errors[i] = flattenElementError(err)
      failed = true
    }
  })
  return failed ? errors : undefined
}

/** Nested element arrays (array of arrays) collapse into an object keyed by 1-based index. */
function flattenElementError(err: FieldError): string | FieldErrors {
  if (!Array.isArray(err)) return err
  const out: FieldErrors = {}
  err.forEach((e, i) => {
    if (e !== null) out[String(i + 1)] = e
  })
  return out
}

function validateMap(field: MapField & FieldSpec, value: object, ctx: ValidateContext): FieldError | undefined {
  const keys = { ...field.keys, required: true } as FieldSpec
  const values = { ...field.values, required: true } as FieldSpec
  const entries: [unknown, unknown][] = Array.isArray(value) ? value.map((v, i) => [i + 1, v]) : Object.entries(value)
  for (const [k, v] of entries) {
    const kerr = validateField(keys, k, ctx)
    if (kerr !== undefined) return kerr
    const verr = validateField(values, v, ctx)
    if (verr !== undefined) return verr
  }
  return undefined
}

/**
 * Foreign values are `{ id: <uuid> }` (names were resolved by the DAO beforehand); checked like
 * Kong's `validate_primary_key` on the referenced entity. When that fails on a record, Kong first
 * checks the record's own fields against the referenced schema and reports those errors.
 */
function validateForeign(reference: string, value: unknown, ctx: ValidateContext): FieldError | undefined {
  const pk = primaryKeyError(value)
  if (pk === undefined || !isPlainObject(value)) return pk
  const target = ctx.schemaOf?.(reference)
  return (target === undefined ? undefined : validateObject(target, value, false, ctx)) ?? pk
}

function primaryKeyError(value: unknown): FieldError | undefined {
  const id = isPlainObject(value) ? value['id'] : undefined
  if (id === undefined || id === false) return { id: MSG.MISSING_PK }
  if (id === null) return { id: MSG.REQUIRED }
  if (typeof id !== 'string') return { id: MSG.STRING }
  if (!isUuid(id)) return { id: MSG.UUID }
  return undefined
}

/** The attribute validators, in Kong's `validators_order`. */
function runValidators(field: FieldSpec, value: unknown): string | undefined {
  const f = field as FieldSpec & Record<string, unknown>
  if (f.eq !== undefined && value !== f.eq) return eqMessage(f.eq)
  if (f.ne !== undefined && value === f.ne) return neMessage(value)
  if (f.not_one_of && f.not_one_of.includes(value)) return notOneOfMessage(f.not_one_of)
  if (f.one_of && !f.one_of.includes(value)) return oneOfMessage(f.one_of)
  if (typeof value === 'number') {
    if (typeof f['gt'] === 'number' && !(value > f['gt'])) return gtMessage(f['gt'])
    if (f['timestamp'] === true && !(value > 0)) return MSG.TIMESTAMP
    const between = f['between'] as readonly [number, number] | undefined
    if (between && (value < between[0] || value > between[1])) return betweenMessage(between[0], between[1])
  }
  if (f['uuid'] === true && typeof value === 'string' && !isUuid(value)) return MSG.UUID
  const lengthy = typeof value === 'string' || typeof value === 'object'
  if (lengthy) {
    // Kong refuses empty strings unless the field says otherwise.
    const lenMin = f.len_min ?? (field.type === 'string' ? 1 : undefined)
    if (f.len_eq !== undefined && luaLength(value) !== f.len_eq) return lenEqMessage(f.len_eq)
    if (lenMin !== undefined && luaLength(value) < lenMin) return lenMinMessage(lenMin)
    const lenMax = f['len_max'] as number | undefined
    if (lenMax !== undefined && luaLength(value) > lenMax) return lenMaxMessage(lenMax)
  }
  if (typeof value === 'string') {
    const startsWith = f['starts_with'] as string | undefined
    if (startsWith !== undefined && !value.startsWith(startsWith)) return startsWithMessage(startsWith)
    for (const rule of f.match_none ?? []) if (rule.pattern.test(value)) return rule.err
    const match = f['match'] as RegExp | undefined
    if (match && !wholeMatch(match, value)) return (f['match_message'] as string | undefined) ?? matchMessage(value)
  }
  if (f.contains !== undefined && Array.isArray(value) && !value.includes(f.contains)) return containsMessage(f.contains)
  if (field.custom_validator) {
    const err = field.custom_validator(value)
    if (err !== undefined) return err
  }
  return undefined
}
