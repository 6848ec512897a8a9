/** UUID checks as Kong's `is_valid_uuid` (any version, case-insensitive). @module */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** True when `value` is a string in canonical 8-4-4-4-12 UUID form. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value)
}
