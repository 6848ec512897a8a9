/**
 * The registry of core entities. Adding an entity = one file + one line here. The full registry
 * of a node (these, `consumers`, `plugins` and the plugins' own entities) is `entityRegistry` in
 * `src/plugins/entity.ts`: plugins know the entities, entities do not know plugins.
 *
 * @module
 */
import type { EntitySchema } from '../schema/index.js'
import { caCertificates } from './ca-certificates.js'
import { certificates } from './certificates.js'
import { keySets } from './key-sets.js'
import { keys } from './keys.js'
import { routes } from './routes.js'
import { services } from './services.js'
import { snis } from './snis.js'
import { targets } from './targets.js'
import { upstreams } from './upstreams.js'
import { vaults } from './vaults.js'

export { routes, type Route } from './routes.js'
export { services, type Service } from './services.js'
export { consumers, type Consumer } from './consumers.js'
export { certificates, type Certificate, describeCertificate, type CertificateSummary } from './certificates.js'
export { snis, type Sni } from './snis.js'
export { caCertificates, type CaCertificate, certDigest } from './ca-certificates.js'
export { keySets, type KeySet } from './key-sets.js'
export { keys, type Key } from './keys.js'
export { vaults, vaultsEntity, type Vault, BUNDLED_VAULTS, VAULT_SUBSCHEMAS, envVaultConfig } from './vaults.js'
export { upstreams, type Upstream } from './upstreams.js'
export { targets, type Target, normalizeTarget, splitTarget } from './targets.js'

/**
 * The entities a configuration sent to the workers carries in fields of their own (compiled into
 * the router and the plugin plans); every other entity travels under `entities`, indexed for
 * plugins' look-ups.
 */
export const SNAPSHOT_CORE_ENTITIES: readonly string[] = ['services', 'routes', 'plugins']

/** Entity name → schema, in dependency order (referenced entities first). */
export const ENTITIES: Readonly<Record<string, EntitySchema>> = {
  certificates,
  ca_certificates: caCertificates,
  snis,
  key_sets: keySets,
  keys,
  vaults,
  services,
  routes,
  upstreams,
  targets,
}

/** The schema of an entity, or undefined when there is no such entity. */
export function getEntity(name: string): EntitySchema | undefined {
  return Object.hasOwn(ENTITIES, name) ? ENTITIES[name] : undefined
}
