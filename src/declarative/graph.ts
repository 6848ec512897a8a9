/**
 * What the declarative format derives from the entity registry: which entity nests under which
 * (a child is any entity with a `foreign` field pointing at the parent), and the names Kong
 * knows that we do not implement yet (refused with a precise message, never dropped).
 *
 * @module
 */
import type { EntitySchema } from '../schema/index.js'

/** A foreign field of `entity` pointing at `reference`. */
export interface ForeignLink {
  readonly entity: string
  readonly field: string
  readonly reference: string
}

export interface EntityGraph {
  /** Supported entities in dependency order (referenced entities first). */
  readonly order: readonly string[]
  readonly schemas: Readonly<Record<string, EntitySchema>>
  /** entity → its foreign fields. */
  readonly foreign: Readonly<Record<string, readonly ForeignLink[]>>
  /** parent entity → children that may nest under it (`services` → routes via `service`). */
  readonly children: Readonly<Record<string, readonly ForeignLink[]>>
}

/** Builds the graph from a registry (name → schema), keeping the registry's order. */
export function entityGraph(registry: Readonly<Record<string, EntitySchema>>): EntityGraph {
  const order = Object.keys(registry)
  const foreign: Record<string, ForeignLink[]> = {}
  const children: Record<string, ForeignLink[]> = {}
  for (const name of order) {
    foreign[name] = []
    children[name] ??= []
  }
  for (const name of order) {
    const schema = registry[name] as EntitySchema
    for (const [field, spec] of Object.entries(schema.fields)) {
      if (spec.type !== 'foreign') continue
      const link = { entity: name, field, reference: spec.reference }
      foreign[name]?.push(link)
      ;(children[spec.reference] ??= []).push(link)
    }
  }
  return { order, schemas: registry, foreign, children }
}

/**
 * Entity names a Kong 3.9 declarative file may hold (core entities and bundled plugins'
 * entities). Those outside the registry are refused with "not supported yet".
 */
export const KONG_ENTITY_NAMES: ReadonlySet<string> = new Set([
  'workspaces',
  'consumers',
  'certificates',
  'ca_certificates',
  'snis',
  'services',
  'routes',
  'upstreams',
  'targets',
  'plugins',
  'vaults',
  'key_sets',
  'keys',
  'filter_chains',
  'parameters',
  'clustering_data_planes',
  'keyauth_credentials',
  'basicauth_credentials',
  'hmacauth_credentials',
  'jwt_secrets',
  'acls',
  'oauth2_credentials',
  'oauth2_authorization_codes',
  'oauth2_tokens',
  'consumer_groups',
  'consumer_group_consumers',
  'consumer_group_plugins',
  'sm_vaults',
  'ratelimiting_metrics',
  'response_ratelimiting_metrics',
  'sessions',
  'acme_storage',
  'degraphql_routes',
  'graphql_ratelimiting_advanced_cost_decoration',
  'licenses',
  'keyauth_enc_credentials',
  'mtls_auth_credentials',
  'partials',
  'custom_plugins',
])
