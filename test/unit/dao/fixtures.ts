/**
 * A small entity registry for DAO tests: just enough fields to exercise auto fields, unique
 * keys, foreign references and each `on_delete` rule, independent of the real entities.
 */
import type { EntitySchema } from '../../../src/schema/types.js'
import type { StoreEntity } from '../../../src/store/types.js'
import { createStore } from '../../../src/store/index.js'
import type { Store } from '../../../src/store/types.js'

const base = {
  id: { type: 'string', uuid: true, auto: true },
  created_at: { type: 'integer', timestamp: true, auto: true },
  updated_at: { type: 'integer', timestamp: true, auto: true },
} as const

export const services: EntitySchema = {
  name: 'services',
  primary_key: ['id'],
  endpoint_key: 'name',
  fields: {
    ...base,
    name: { type: 'string', unique: true },
    host: { type: 'string', required: true },
    port: { type: 'integer', default: 80, between: [0, 65535] },
    tags: { type: 'set', elements: { type: 'string' } },
  },
}

export const routes: EntitySchema = {
  name: 'routes',
  primary_key: ['id'],
  endpoint_key: 'name',
  fields: {
    ...base,
    name: { type: 'string', unique: true },
    paths: { type: 'array', elements: { type: 'string' } },
    service: { type: 'foreign', reference: 'services' },
    tags: { type: 'set', elements: { type: 'string' } },
  },
}

export const plugins: EntitySchema = {
  name: 'plugins',
  primary_key: ['id'],
  fields: {
    ...base,
    name: { type: 'string', required: true },
    service: { type: 'foreign', reference: 'services', on_delete: 'cascade' },
    route: { type: 'foreign', reference: 'routes', on_delete: 'cascade' },
  },
}

export const notes: EntitySchema = {
  name: 'notes',
  primary_key: ['id'],
  fields: {
    ...base,
    text: { type: 'string' },
    service: { type: 'foreign', reference: 'services', on_delete: 'null' },
  },
}

export const credentials: EntitySchema = {
  name: 'credentials',
  primary_key: ['id'],
  endpoint_key: 'key',
  ttl: true,
  fields: {
    ...base,
    key: { type: 'string', unique: true, required: true },
  },
}

export const REGISTRY: Readonly<Record<string, EntitySchema>> = { services, routes, plugins, notes, credentials }

function toStoreEntity(schema: EntitySchema): StoreEntity {
  const fields = Object.entries(schema.fields)
  return {
    name: schema.name,
    unique: fields.filter(([, f]) => f.unique === true).map(([n]) => n),
    foreign: fields.filter(([, f]) => f.type === 'foreign').map(([n]) => n),
    tags: 'tags' in schema.fields,
    ...(schema.ttl === true ? { ttl: true } : {}),
  }
}

/** A fresh memory store laid out for {@link REGISTRY}. */
export async function memoryStore(): Promise<Store> {
  const store = createStore({ kind: 'memory' })
  await store.init(Object.values(REGISTRY).map(toStoreEntity))
  return store
}
