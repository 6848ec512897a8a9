/**
 * `pluginEndpoints`: the endpoints loaded plugins declare for one listener, each plugin given a
 * context whose worker calls are its own (the plugin's name goes with every call).
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type NodeServices, type PluginApiContext, pluginEndpoints } from '../../../src/plugins/endpoints.js'
import type { AnyPlugin } from '../../../src/plugins/types.js'

function plugin(name: string, extra: Partial<AnyPlugin> = {}): AnyPlugin {
  return { name, version: '1.0.0', priority: 1, schema: { config: {} }, ...extra }
}

describe('pluginEndpoints', () => {
  const asked: string[] = []
  const services = {
    dao: {},
    store: {},
    node: { version: '1', hostname: 'h', node_id: 'n', serverStatus: () => ({}) },
    async callWorkers(plugin: string, op: string) {
      asked.push(`${plugin}:${op}`)
      return { answers: [], errors: 0 }
    },
  } as unknown as NodeServices

  test('collects each listener’s endpoints; plugins without them add nothing', () => {
    const route = (path: string) => ({ path, methods: { GET: async () => ({ status: 200, headers: {} }) } })
    const plugins = [
      plugin('plain'),
      plugin('both', { api: () => [route('/a'), route('/a/{x}')], statusApi: () => [route('/s')] }),
      plugin('admin-only', { api: () => [route('/b')] }),
    ]
    assert.deepEqual(
      pluginEndpoints(plugins, services, 'api').map((r) => r.path),
      ['/a', '/a/{x}', '/b'],
    )
    assert.deepEqual(
      pluginEndpoints(plugins, services, 'statusApi').map((r) => r.path),
      ['/s'],
    )
    assert.deepEqual(pluginEndpoints([], services, 'api'), [])
  })

  test("each plugin's context calls the workers in its own name, with the node's services", async () => {
    const contexts: PluginApiContext[] = []
    const keep = (ctx: PluginApiContext) => {
      contexts.push(ctx)
      return []
    }
    pluginEndpoints([plugin('one', { api: keep }), plugin('two', { api: keep })], services, 'api')
    for (const ctx of contexts) await ctx.workers.call('op', null)
    assert.deepEqual(asked, ['one:op', 'two:op'])
    assert.equal(contexts[0]?.node.node_id, 'n')
    assert.equal(contexts[0]?.dao, services.dao)
    assert.equal('callWorkers' in (contexts[0] ?? {}), false, 'a plugin cannot call another plugin’s ops')
  })
})
