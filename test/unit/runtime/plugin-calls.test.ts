/**
 * The worker side of plugin calls: what a plugin registered with `onPrimaryCall` answers the
 * primary's calls of that plugin only; failures and unknown ops become failed replies, not
 * exceptions.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { PluginCalls } from '../../../src/runtime/plugin-calls.js'

describe('PluginCalls (worker side)', () => {
  test('answers with what the plugin registered, sync or async, scoped to the plugin', async () => {
    const calls = new PluginCalls()
    calls.register('a', 'count', (args) => ({ plugin: 'a', args }))
    calls.register('b', 'count', async () => 'b')
    assert.deepEqual(await calls.answer({ type: 'plugin:call', id: 1, plugin: 'a', op: 'count', args: 5 }), {
      type: 'plugin:reply',
      id: 1,
      ok: true,
      result: { plugin: 'a', args: 5 },
    })
    assert.deepEqual(await calls.answer({ type: 'plugin:call', id: 2, plugin: 'b', op: 'count', args: null }), {
      type: 'plugin:reply',
      id: 2,
      ok: true,
      result: 'b',
    })
  })

  test('an unknown plugin or op, or a handler that throws, is a failed reply', async () => {
    const calls = new PluginCalls()
    calls.register('a', 'boom', () => {
      throw new Error('kaboom')
    })
    assert.deepEqual(await calls.answer({ type: 'plugin:call', id: 3, plugin: 'a', op: 'boom', args: null }), {
      type: 'plugin:reply',
      id: 3,
      ok: false,
      error: 'kaboom',
    })
    const unknownOp = await calls.answer({ type: 'plugin:call', id: 4, plugin: 'a', op: 'count', args: null })
    assert.equal(unknownOp.ok, false)
    assert.match(unknownOp.error ?? '', /no handler for a:count/)
    assert.equal(
      (await calls.answer({ type: 'plugin:call', id: 5, plugin: 'c', op: 'boom', args: null })).ok,
      false,
      "another plugin's op is not reachable",
    )
    assert.equal((await calls.answer({ type: 'plugin:call', id: 6, plugin: '__proto__', op: 'constructor', args: null })).ok, false)
  })
})
