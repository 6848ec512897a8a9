/**
 * `custom_fields_by_lua`, the field Kong's log plugins share: accepted for compatibility, never
 * applied (Turnpike runs no Lua), and said so once per log destination.
 *
 * @module
 */
import type { Field } from '../../schema/index.js'
import type { Pdk } from '../../pdk/types.js'

export const customFieldsByLuaField = {
  type: 'map',
  keys: { type: 'string', len_min: 1 },
  values: { type: 'string', len_min: 1 },
  description: 'Lua code as a key-value map. (Turnpike runs no Lua: accepted for compatibility, not applied; a warning says so.)',
} as const satisfies Field

const warned = new Set<string>()

/** Warns once per `destination` (a plugin-specific key) that configured custom fields are not added. */
export function warnCustomFieldsIgnored(kong: Pdk, fields: Readonly<Record<string, string>> | null | undefined, destination: string): void {
  if (fields == null || warned.has(destination) || Object.keys(fields).length === 0) return
  warned.add(destination)
  kong.log.warn('custom_fields_by_lua is set but Turnpike does not run Lua: the fields are not added')
}
