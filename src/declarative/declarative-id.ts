/**
 * Kong's deterministic ids for declarative entities (version-5 UUIDs of their keys).
 *
 * @module
 */
import { uuidv5 } from '../ids/uuid.js'

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
