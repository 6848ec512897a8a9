/**
 * proxy-cache's Admin API (Kong 3.9 `kong/plugins/proxy-cache/api.lua`): look up and purge cached
 * responses. Each worker process holds its own cache, so every call reaches all workers (a purge
 * empties every worker; a lookup answers with the first worker that has the entry).
 *
 * @module
 */
import type { Dao } from '../../dao/index.js'
import type { ApiResponse, ApiRoute, PluginApiContext } from '../endpoints.js'
import { FETCH_OP, FLUSH_OP, PURGE_OP } from './cache.js'

const notFound = (): ApiResponse => ({ status: 404, headers: {}, body: { message: 'Not found' } })
const noContent = (): ApiResponse => ({ status: 204, headers: {} })

function dictionary(plugin: Record<string, unknown>): string {
  const memory = (plugin['config'] as { memory?: { dictionary_name?: unknown } } | undefined)?.memory
  return typeof memory?.dictionary_name === 'string' ? memory.dictionary_name : 'kong_db_cache'
}

async function proxyCachePlugins(dao: Dao): Promise<Record<string, unknown>[]> {
  return (await dao.all('plugins')).filter((p) => p['name'] === 'proxy-cache')
}

async function fetchEntry(src: PluginApiContext, dict: string, key: string): Promise<unknown> {
  const { answers } = await src.workers.call<unknown>(FETCH_OP, { dictionary: dict, key })
  return answers.find((a) => a.result !== null)?.result ?? null
}

async function purgeEntry(src: PluginApiContext, dict: string, key: string): Promise<boolean> {
  const { answers } = await src.workers.call<boolean>(PURGE_OP, { dictionary: dict, key })
  return answers.some((a) => a.result)
}

async function pluginById(dao: Dao, id: string): Promise<Record<string, unknown> | null> {
  try {
    const row = await dao.select('plugins', id)
    return row !== null && row['name'] === 'proxy-cache' ? row : null
  } catch {
    return null
  }
}

/** Kong's `api.lua` of proxy-cache. */
export function proxyCacheAdminRoutes(src: PluginApiContext): ApiRoute[] {
  return [
    {
      path: '/proxy-cache',
      methods: {
        DELETE: async () => {
          const dicts = new Set((await proxyCachePlugins(src.dao)).map(dictionary))
          for (const d of dicts) await src.workers.call(FLUSH_OP, { dictionary: d })
          return noContent()
        },
      },
    },
    {
      path: '/proxy-cache/{cache_key}',
      methods: {
        GET: async ({ params }) => {
          for (const p of await proxyCachePlugins(src.dao)) {
            const entry = await fetchEntry(src, dictionary(p), params['cache_key'] ?? '')
            if (entry !== null) return { status: 200, headers: {}, body: entry }
          }
          return notFound()
        },
        DELETE: async ({ params }) => {
          const key = params['cache_key'] ?? ''
          let found = false
          for (const p of await proxyCachePlugins(src.dao)) if (await purgeEntry(src, dictionary(p), key)) found = true
          return found ? noContent() : notFound()
        },
      },
    },
    {
      path: '/proxy-cache/{plugin_id}/caches/{cache_key}',
      methods: {
        GET: async ({ params }) => {
          const p = await pluginById(src.dao, params['plugin_id'] ?? '')
          if (p === null) return notFound()
          const entry = await fetchEntry(src, dictionary(p), params['cache_key'] ?? '')
          return entry === null ? notFound() : { status: 200, headers: {}, body: entry }
        },
        DELETE: async ({ params }) => {
          const p = await pluginById(src.dao, params['plugin_id'] ?? '')
          if (p === null) return notFound()
          return (await purgeEntry(src, dictionary(p), params['cache_key'] ?? '')) ? noContent() : notFound()
        },
      },
    },
  ]
}
