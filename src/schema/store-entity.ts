/**
 * Derives what a Store needs to know about an entity from its schema.
 *
 * @module
 */
import type { StoreEntity } from '../store/index.js'
import type { EntitySchema } from './types.js'

/** Unique fields, foreign fields, composite cache key, tags and ttl support of an entity. */
export function storeEntity(schema: EntitySchema): StoreEntity {
  const fields = Object.entries(schema.fields)
  const entity: StoreEntity = {
    name: schema.name,
    unique: fields.filter(([, f]) => f.unique === true).map(([n]) => n),
    foreign: fields.filter(([, f]) => f.type === 'foreign').map(([n]) => n),
    tags: Object.hasOwn(schema.fields, 'tags'),
    ...(schema.cache_key ? { cacheKey: schema.cache_key } : {}),
    ...(schema.ttl ? { ttl: true } : {}),
  }
  return entity
}
