/**
 * Test entities shaped like Kong's (services, routes, plugins with a cache key, consumers,
 * TTL-capable credentials) and small helpers shared by the store tests.
 */
import type { Row, StoreEntity } from '../../../src/store/types.js'

export const services: StoreEntity = { name: 'services', unique: ['name'], foreign: [], tags: true }
export const routes: StoreEntity = { name: 'routes', unique: ['name'], foreign: ['service'], tags: true }
export const consumers: StoreEntity = { name: 'consumers', unique: ['username', 'custom_id'], foreign: [], tags: true }
export const plugins: StoreEntity = {
  name: 'plugins',
  unique: [],
  foreign: ['route', 'service', 'consumer'],
  cacheKey: ['name', 'route', 'service', 'consumer'],
  tags: true,
}
export const keyauthCredentials: StoreEntity = {
  name: 'keyauth_credentials',
  unique: ['key'],
  foreign: ['consumer'],
  tags: true,
  ttl: true,
}

export const ENTITIES: readonly StoreEntity[] = [services, routes, consumers, plugins, keyauthCredentials]

/** A uuid-shaped id whose sort order follows `n`. */
export function uid(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`
}

/** A service row. */
export function service(n: number, extra: Record<string, unknown> = {}): Row {
  return { id: uid(n), name: `svc-${n}`, host: 'example.com', port: 80, tags: null, ...extra }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
