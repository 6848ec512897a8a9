/**
 * UUIDs as Kong knows them: the check (`is_valid_uuid`: canonical 8-4-4-4-12 form, any version,
 * any case) and RFC 4122 version-5 ids (SHA-1, name-based, as `resty.jit-uuid`'s `factory_v5`),
 * which Kong uses for declarative ids and split-route ids. The one place for both.
 *
 * @module
 */
import { createHash } from 'node:crypto'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** True when `value` is a string in canonical 8-4-4-4-12 UUID form. */
export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value)
}

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
