/**
 * RFC 4122 version-5 UUIDs (SHA-1, name-based), as `resty.jit-uuid`'s `factory_v5` makes them.
 *
 * @module
 */
import { createHash } from 'node:crypto'

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex')
}

function format(bytes: Buffer): string {
  const h = bytes.toString('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** Namespace bytes, parsed once per namespace (ids are made for every entity of a file). */
const namespaceBytes = new Map<string, Buffer>()

/** The version-5 UUID of `name` in `namespace`. */
export function uuidv5(namespace: string, name: string): string {
  let ns = namespaceBytes.get(namespace)
  if (ns === undefined) {
    ns = uuidBytes(namespace)
    if (namespaceBytes.size < 1000) namespaceBytes.set(namespace, ns)
  }
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest()
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  return format(bytes.subarray(0, 16))
}

/** Kong's namespace for declarative ids (`kong/db/schema/others/declarative_config.lua`). */
export const DECLARATIVE_NAMESPACE = 'fd02801f-0957-4a15-a55a-c8d9606f30b5'

const entityNamespaces = new Map<string, string>()

/**
 * Kong's deterministic id: UUIDv5 of `key` in the namespace UUIDv5(`DECLARATIVE_NAMESPACE`,
 * entity name).
 */
export function declarativeId(entity: string, key: string): string {
  let ns = entityNamespaces.get(entity)
  if (ns === undefined) {
    ns = uuidv5(DECLARATIVE_NAMESPACE, entity)
    entityNamespaces.set(entity, ns)
  }
  return uuidv5(ns, key)
}
