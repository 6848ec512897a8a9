/**
 * Kong's schema validation messages (`kong/db/schema/init.lua`, 3.9), reproduced word for word
 * because clients and tests match on them.
 *
 * @module
 */

export const MSG = {
  ARRAY: 'expected an array',
  SET: 'expected a set',
  MAP: 'expected a map',
  RECORD: 'expected a record',
  STRING: 'expected a string',
  NUMBER: 'expected a number',
  BOOLEAN: 'expected a boolean',
  INTEGER: 'expected an integer',
  REQUIRED: 'required field missing',
  UNKNOWN: 'unknown field',
  UUID: 'expected a valid UUID',
  TIMESTAMP: 'expected a valid timestamp',
  MISSING_PK: 'missing primary key',
  REQUIRED_FOR_ENTITY_CHECK: 'field required for entity check',
} as const

/** `value must be %s` — `null` is spelled `null`. */
export const eqMessage = (wanted: unknown): string => `value must be ${wanted === null ? 'null' : luaToString(wanted)}`
export const neMessage = (value: unknown): string => `value must not be ${value === null ? 'null' : luaToString(value)}`
export const gtMessage = (limit: number): string => `value must be greater than ${luaToString(limit)}`
export const betweenMessage = (lo: number, hi: number): string => `value should be between ${Math.trunc(lo)} and ${Math.trunc(hi)}`
export const lenEqMessage = (n: number): string => `length must be ${n}`
export const lenMinMessage = (n: number): string => `length must be at least ${n}`
export const lenMaxMessage = (n: number): string => `length must be at most ${n}`
export const matchMessage = (value: string): string => `invalid value: ${value}`
export const startsWithMessage = (prefix: string): string => `should start with: ${prefix}`
export const containsMessage = (wanted: unknown): string => `expected to contain: ${luaToString(wanted)}`
export const oneOfMessage = (options: readonly unknown[]): string => `expected one of: ${options.map(luaToString).join(', ')}`
export const notOneOfMessage = (options: readonly unknown[]): string => `must not be one of: ${options.map(luaToString).join(', ')}`
export const unknownTypeMessage = (key: string): string => `unknown type: ${key}`

/** Entity-check messages; `updating` adds Kong's update-time wording. */
export const entityCheckMessage = {
  atLeastOneOf: (list: string, updating: boolean): string =>
    `${updating ? 'when updating, ' : ''}at least one of these fields must be non-empty: ${list}`,
  onlyOneOf: (list: string): string => `exactly one of these fields must be non-empty: ${list}`,
  mutuallyRequired: (list: string): string => `all or none of these fields must be set: ${list}`,
  mutuallyExclusive: (list: string): string => `only one or none of these fields must be set: ${list}`,
  mutuallyExclusiveSets: (list: string): string => `these sets are mutually exclusive: ${list}`,
  conditional: (ifField: string): string => `failed conditional validation given value of field '${ifField}'`,
  requiredForCheck: (updating: boolean): string =>
    updating ? `${MSG.REQUIRED_FOR_ENTITY_CHECK} when updating` : MSG.REQUIRED_FOR_ENTITY_CHECK,
}

/** Kong's `quoted_list`: `'a', 'b'`, with nested lists rendered as `('a', 'b')`. */
export function quotedList(words: readonly (string | readonly string[])[]): string {
  return words.map((w) => (typeof w === 'string' ? `'${w}'` : `(${quotedList(w)})`)).join(', ')
}

/** Renders a scalar the way Lua's `tostring` does for the values we meet (numbers, booleans, strings). */
export function luaToString(v: unknown): string {
  if (v === null || v === undefined) return 'nil'
  return String(v)
}
