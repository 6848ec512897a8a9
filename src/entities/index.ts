/**
 * The registry of core entities. Adding an entity = one file + one line here.
 *
 * @module
 */
import type { EntitySchema } from '../schema/types.js'
import { routes } from './routes.js'
import { services } from './services.js'

export { routes, type Route } from './routes.js'
export { services, type Service } from './services.js'

/** Entity name → schema, in dependency order (referenced entities first). */
export const ENTITIES: Readonly<Record<string, EntitySchema>> = {
  services,
  routes,
}

/** The schema of an entity, or undefined when there is no such entity. */
export function getEntity(name: string): EntitySchema | undefined {
  return Object.hasOwn(ENTITIES, name) ? ENTITIES[name] : undefined
}
