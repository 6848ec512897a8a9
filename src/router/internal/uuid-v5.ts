/**
 * RFC 4122 name-based (SHA-1) UUIDs, used for the ids Kong gives to the sub-routes it creates
 * when it splits a route by path group.
 *
 * @module
 */

import { createHash } from 'node:crypto'

/** Kong's namespace for split-route ids (`kong/router/transform.lua`). */
export const SPLIT_ROUTE_NAMESPACE = '7f145bf9-0dce-4f91-98eb-debbce4b9f6b'

/** Returns the version-5 UUID of `name` in `namespace` (lower-case hex). */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex')
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest()
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80
  const hex = hash.subarray(0, 16).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}
