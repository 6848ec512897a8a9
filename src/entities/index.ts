/**
 * The registry of core entities. Adding an entity = one file + one line here.
 *
 * @module
 */
import type { PluginRegistry } from '../plugins/registry.js'
import type { EntitySchema } from '../schema/index.js'
import { consumers } from './consumers.js'
import { pluginsEntity } from '../plugins/entity.js'
import { routes } from './routes.js'
import { services } from './services.js'
import { targets } from './targets.js'
import { upstreams } from './upstreams.js'

export { routes, type Route } from './routes.js'
export { services, type Service } from './services.js'
export { consumers, type Consumer } from './consumers.js'
export { upstreams, type Upstream, ACTIVE_HEALTHY_STATUSES, ACTIVE_UNHEALTHY_STATUSES, PASSIVE_HEALTHY_STATUSES, PASSIVE_UNHEALTHY_STATUSES } from './upstreams.js'
export { targets, type Target, normalizeTarget, splitTarget } from './targets.js'
export { pluginsEntity, PLUGIN_NOT_ENABLED, pluginSchemaFields, type PluginRow } from '../plugins/entity.js'

/**
 * The entities a configuration sent to the workers carries in fields of their own (compiled into
 * the router and the plugin plans); every other entity travels under `entities`, indexed for
 * plugins' look-ups.
 */
export const SNAPSHOT_CORE_ENTITIES: readonly string[] = ['services', 'routes', 'plugins']

/** Entity name → schema, in dependency order (referenced entities first). */
export const ENTITIES: Readonly<Record<string, EntitySchema>> = {
  services,
  routes,
  upstreams,
  targets,
}

/** The schema of an entity, or undefined when there is no such entity. */
export function getEntity(name: string): EntitySchema | undefined {
  return Object.hasOwn(ENTITIES, name) ? ENTITIES[name] : undefined
}

/**
 * The full registry for a node: the core entities, `consumers`, `plugins` (validating each
 * plugin's config with its own schema) and the entities the enabled plugins own (credentials),
 * in dependency order.
 */
export function entityRegistry(pluginRegistry: PluginRegistry): Readonly<Record<string, EntitySchema>> {
  const out: Record<string, EntitySchema> = { ...ENTITIES, consumers, plugins: pluginsEntity(pluginRegistry) }
  for (const entity of pluginRegistry.entities()) {
    if (Object.hasOwn(out, entity.name)) throw new Error(`entity '${entity.name}' is defined twice (by a plugin)`)
    out[entity.name] = entity
  }
  return out
}
