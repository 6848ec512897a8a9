/** Helpers to drive `AdminApi.handle()` with plain AdminRequest objects. */
import { Dao } from '../../../src/dao/index.js'
import { createAdminApi, type AdminApi, type AdminApiOptions } from '../../../src/admin/index.js'
import type { AdminResponse, NodeInfo } from '../../../src/admin/types.js'
import type { EntitySchema } from '../../../src/schema/types.js'
import { storeEntity } from '../../../src/schema/index.js'
import { createStore } from '../../../src/store/index.js'

export const NODE_INFO: NodeInfo = {
  version: '3.9.1',
  hostname: 'test-host',
  node_id: '11111111-2222-4333-8444-555555555555',
  configuration: { database: 'sqlite', admin_listen: ['127.0.0.1:8001'] },
  pids: { master: 1, workers: [2, 3] },
  plugins: { 'key-auth': { version: '3.9.1', priority: 1250 } },
  serverStatus: () => ({
    total_requests: 7,
    connections_active: 1,
    connections_accepted: 2,
    connections_handled: 2,
    connections_reading: 0,
    connections_writing: 1,
    connections_waiting: 0,
  }),
  sharedDicts: () => ({
    kong: { capacity: 5 * 1024 * 1024, allocated: 12 * 1024 },
    kong_db_cache: { capacity: 128 * 1024 * 1024, allocated: 3 * 1024 * 1024 },
  }),
  workers: () => [
    { pid: 2, connectionsAccepted: 2, connectionsActive: 1, totalRequests: 5, heapUsed: 12.5 * 1024 * 1024 },
    { pid: 3, connectionsAccepted: 0, connectionsActive: 0, totalRequests: 2, heapUsed: 3 * 1024 },
  ],
}

export interface Harness {
  readonly api: AdminApi
  readonly dao: Dao
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON of any shape, read loosely by tests
  call(method: string, target: string, options?: CallOptions): Promise<AdminResponse & { json: any }>
}

export interface CallOptions {
  readonly json?: unknown
  readonly form?: string
  readonly body?: Buffer | string
  readonly headers?: Record<string, string>
}

/** A fresh memory store + DAO + Admin API for `registry`. */
export async function harness(
  registry: Readonly<Record<string, EntitySchema>>,
  extra: Partial<Pick<AdminApiOptions, 'database' | 'extraRoutes' | 'onError' | 'plugins' | 'databaseUnavailable'>> = {},
): Promise<Harness> {
  const store = createStore({ kind: 'memory' })
  await store.init(Object.values(registry).map(storeEntity))
  const dao = new Dao(store, registry)
  const api = createAdminApi({ dao, store, nodeInfo: NODE_INFO, database: 'sqlite', ...extra })
  return {
    api,
    dao,
    async call(method, target, options = {}) {
      const [path, query = ''] = target.split('?', 2) as [string, string?]
      const headers: Record<string, string> = { ...options.headers }
      let body = Buffer.alloc(0)
      if (options.json !== undefined) {
        headers['content-type'] ??= 'application/json'
        body = Buffer.from(JSON.stringify(options.json))
      } else if (options.form !== undefined) {
        headers['content-type'] ??= 'application/x-www-form-urlencoded'
        body = Buffer.from(options.form)
      } else if (options.body !== undefined) body = Buffer.from(options.body)
      const res = await api.handle({ method, path, query, headers, body })
      // Round-trip through JSON as the HTTP adapter would.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- response JSON of any shape, read loosely by tests
      const json: any = res.body === undefined ? undefined : JSON.parse(JSON.stringify(res.body))
      return { ...res, json }
    },
  }
}
