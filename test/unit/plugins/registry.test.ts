/**
 * The plugin registry's shape check for custom plugins: the full shape (phases, entities, `api`,
 * `statusApi`) is accepted, and a member of the wrong kind is refused with one clear message.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { checkPluginShape, PluginLoadError, PluginRegistry } from '../../../src/plugins/registry.js'

const base = { name: 'mine', version: '1.0.0', priority: 1, schema: { config: {} } }

describe('checkPluginShape', () => {
  test('accepts the full shape: phases, init, api and statusApi', () => {
    const full = { ...base, init() {}, access() {}, log() {}, api: () => [], statusApi: () => [] }
    assert.equal(checkPluginShape(full, 'mine.js'), full)
  })

  test('refuses api/statusApi that are not functions, naming them', () => {
    assert.throws(
      () => checkPluginShape({ ...base, api: [{ path: '/x', methods: {} }] }, 'mine.js'),
      (err: unknown) => err instanceof PluginLoadError && /`api` must be a function/.test(err.message),
    )
    assert.throws(() => checkPluginShape({ ...base, statusApi: 'x' }, 'mine.js'), /`statusApi` must be a function/)
  })

  test('a plugin name is loaded once', () => {
    assert.throws(() => new PluginRegistry([base, base] as never), /plugin 'mine' is defined twice/)
  })
})
