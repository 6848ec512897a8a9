/**
 * Plugin endpoints against the real gateway (two workers): a loaded plugin's `api` is mounted on
 * the Admin API and its `statusApi` on the status listener, its endpoints reach every worker
 * through the node services of their context (answered by what the plugin registered with
 * `onPrimaryCall` in its init), and the endpoints of plugins that are not loaded — bundled
 * prometheus and proxy-cache, a custom plugin left out of `plugins` — are absent (404).
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'

/** A custom plugin with endpoints: each worker answers its pid and how many times it was asked. */
const TALLY = `let asked = 0
export default {
  name: 'tally', version: '1.0.0', priority: 1, schema: { config: {} },
  init(ctx) {
    ctx.onPrimaryCall('count', (args) => ({ pid: process.pid, asked: ++asked, args, counters: typeof ctx.counters.take }))
  },
  api(ctx) {
    return [
      { path: '/tally', methods: { GET: async () => {
        const { answers, errors } = await ctx.workers.call('count', { from: 'admin' })
        return { status: 200, headers: {}, body: { node_id: ctx.node.node_id, answers: answers.map((a) => a.result), errors } }
      } } },
      { path: '/tally/{name}', methods: { GET: async ({ params, query }) => ({ status: 200, headers: {}, body: { name: params.name, q: query.get('q') } }) } },
      // An op no worker registered: every worker fails it.
      { path: '/tally-missing', methods: { GET: async () => ({ status: 200, headers: {}, body: await ctx.workers.call('nope', null) }) } },
    ]
  },
  statusApi(ctx) {
    return [{ path: '/tally-status', methods: { GET: async () => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'tally ' + ctx.node.version }) } }]
  },
}
`

/** Same shape, but not named in \`plugins\`: its endpoints must not appear. */
const UNTALLIED = `export default {
  name: 'untallied', version: '1.0.0', priority: 1, schema: { config: {} },
  api() { return [{ path: '/untallied', methods: { GET: async () => ({ status: 200, headers: {}, body: {} }) } }] },
  statusApi() { return [{ path: '/untallied', methods: { GET: async () => ({ status: 200, headers: {}, body: {} }) } }] },
}
`

describe('plugin endpoints (api, statusApi)', () => {
  let gw: TestGateway
  let dir: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'turnpike-plugins-'))
    writeFileSync(join(dir, 'tally.js'), TALLY)
    writeFileSync(join(dir, 'untallied.js'), UNTALLIED)
    gw = await startTestGateway({ workers: 2, settings: { plugins: 'tally', plugins_path: dir } })
  })
  after(async () => {
    await gw.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test("a loaded plugin's api is on the Admin API and asks every worker", async () => {
    const res = await call('GET', `${gw.adminUrl}/tally`)
    assert.equal(res.status, 200)
    assert.match(String(res.headers['content-type']), /^application\/json/, 'answered through the Admin API (its headers)')
    assert.match(res.body.node_id, /^[0-9a-f-]{36}$/)
    assert.equal(res.body.errors, 0)
    const answers = res.body.answers as { pid: number; asked: number; args: unknown; counters: string }[]
    assert.equal(answers.length, 2, 'one answer per worker')
    assert.equal(new Set(answers.map((a) => a.pid)).size, 2)
    for (const a of answers) {
      assert.deepEqual(a.args, { from: 'admin' })
      assert.equal(a.counters, 'function', 'the init context carries the node counters')
    }
    const again = await call('GET', `${gw.adminUrl}/tally`)
    assert.deepEqual(
      (again.body.answers as { asked: number }[]).map((a) => a.asked),
      [2, 2],
    )
  })

  test('path parameters and the query reach the handler; HEAD is answered by GET', async () => {
    const res = await call('GET', `${gw.adminUrl}/tally/some%20name?q=1`)
    assert.deepEqual(res.body, { name: 'some name', q: '1' })
    assert.equal((await call('HEAD', `${gw.adminUrl}/tally`)).status, 200)
    assert.equal((await call('POST', `${gw.adminUrl}/tally`, {})).status, 405)
    assert.ok((await call('GET', `${gw.adminUrl}/endpoints`)).body.data.includes('/tally/{name}'), 'listed in /endpoints')
  })

  test('an op no worker answers counts as an error, not an answer', async () => {
    const res = await call('GET', `${gw.adminUrl}/tally-missing`)
    assert.deepEqual(res.body, { answers: [], errors: 2 })
  })

  test("a loaded plugin's statusApi is on the status listener only", async () => {
    const res = await call('GET', `${gw.statusUrl}/tally-status`)
    assert.equal(res.status, 200)
    assert.match(res.text, /^tally \d/)
    assert.equal((await call('HEAD', `${gw.statusUrl}/tally-status`)).status, 200)
    assert.equal((await call('POST', `${gw.statusUrl}/tally-status`)).status, 404)
    assert.equal((await call('GET', `${gw.statusUrl}/tally`)).status, 404, 'api endpoints are not on the status listener')
    assert.equal((await call('GET', `${gw.adminUrl}/tally-status`)).status, 404, 'statusApi endpoints are not on the Admin API')
    assert.equal((await call('GET', `${gw.statusUrl}/status/ready`)).status, 200)
  })

  test('endpoints of plugins that are not loaded are absent', async () => {
    for (const path of ['/metrics', '/proxy-cache', '/proxy-cache/abc', '/untallied']) {
      assert.equal((await call('GET', `${gw.adminUrl}${path}`)).status, 404, `admin ${path}`)
      assert.equal((await call('GET', `${gw.statusUrl}${path}`)).status, 404, `status ${path}`)
    }
  })

  test('no IPC message was ignored on the way', () => {
    assert.doesNotMatch(gw.errorLog(), /ignored an IPC message|IPC message .* failed/)
  })
})
