/**
 * The plugin runtime end to end with the example custom plugin (examples/custom-plugin): loading
 * from plugins_path, config validation by its schema, scope precedence (route over service over
 * global), short-circuits, a plugin that throws, and start-up refusing a broken plugin.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { call, eventually, ROOT, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

const EXAMPLE = join(ROOT, 'examples', 'custom-plugin', 'plugins')

describe('custom plugins and the plugin runtime', () => {
  let gw: TestGateway
  let up: TestUpstream
  let extra: string
  before(async () => {
    // A second plugins folder with a plugin that throws, to check a failing plugin is contained.
    extra = mkdtempSync(join(tmpdir(), 'turnpike-plugins-'))
    mkdirSync(join(extra, 'greeting'))
    writeFileSync(join(extra, 'greeting', 'index.js'), `export { default } from ${JSON.stringify(join(EXAMPLE, 'greeting', 'index.js'))}\n`)
    writeFileSync(
      join(extra, 'explode.js'),
      `export default { name: 'explode', version: '1.0.0', priority: 5, schema: { config: { phase: { type: 'string', default: 'access' } } },
      access(kong, conf) { if (conf.phase === 'access') throw new Error('kaboom in access') },
      headerFilter(kong, conf) { if (conf.phase === 'header_filter') throw new Error('kaboom in header_filter') } }\n`,
    )
    up = await startUpstream()
    gw = await startTestGateway({ settings: { plugins: 'bundled,greeting,explode', plugins_path: extra } })
    assert.equal((await call('POST', `${gw.adminUrl}/services`, { name: 's', url: up.url })).status, 201)
    for (const [name, path] of [
      ['r1', '/one'],
      ['r2', '/two'],
      ['r3', '/three'],
      ['boom', '/boom'],
      ['hf', '/hf'],
    ] as const) {
      assert.equal((await call('POST', `${gw.adminUrl}/services/s/routes`, { name, paths: [path] })).status, 201)
    }
  })
  after(async () => {
    await gw.stop()
    await up.close()
    rmSync(extra, { recursive: true, force: true })
  })

  test('the plugin is listed as enabled and its config is validated by its schema', async () => {
    const enabled = await call('GET', `${gw.adminUrl}/plugins/enabled`)
    assert.ok(enabled.body.enabled_plugins.includes('greeting'))
    const bad = await call('POST', `${gw.adminUrl}/plugins`, { name: 'greeting', config: { message: 42 } })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.name, 'schema violation')
    assert.deepEqual(bad.body.fields, { config: { message: 'expected a string' } })
    const unknown = await call('POST', `${gw.adminUrl}/plugins`, { name: 'nope' })
    assert.equal(unknown.status, 400)
    assert.match(JSON.stringify(unknown.body), /plugin 'nope' not enabled; add it to the 'plugins' configuration property/)
  })

  test('global, service and route instances: the most specific one runs', async () => {
    assert.equal((await call('POST', `${gw.adminUrl}/plugins`, { name: 'greeting', config: { message: 'global' } })).status, 201)
    assert.equal(
      (await call('POST', `${gw.adminUrl}/services/s/plugins`, { name: 'greeting', config: { message: 'service' } })).status,
      201,
    )
    assert.equal((await call('POST', `${gw.adminUrl}/routes/r2/plugins`, { name: 'greeting', config: { message: 'route' } })).status, 201)
    await eventually(async () => (await call('GET', `${gw.proxyUrl}/two`)).headers['x-greeting'] === 'route', 5000, 'route-level config')
    const one = await call('GET', `${gw.proxyUrl}/one`)
    assert.equal(one.headers['x-greeting'], 'service')
    assert.equal(one.body.headers['x-greeting'], 'service', 'set on the upstream request too')
    const two = await call('GET', `${gw.proxyUrl}/two`)
    assert.equal(two.body.headers['x-greeting'], 'route')
    // A request that matches no route still runs global plugins' response phases.
    const none = await call('GET', `${gw.proxyUrl}/nothing-here`)
    assert.equal(none.status, 404)
    assert.equal(none.headers['x-greeting'], 'global')
  })

  test('a short-circuit answers from the plugin and never reaches the upstream', async () => {
    const r = await call('POST', `${gw.adminUrl}/routes/r3/plugins`, {
      name: 'greeting',
      config: { message: 'strict', require_header: 'x-token' },
    })
    assert.equal(r.status, 201)
    // Until the plugin is live, requests may still be proxied: count from when it is.
    await eventually(async () => (await call('GET', `${gw.proxyUrl}/three`)).status === 400, 5000, 'strict route')
    const before = up.received.length
    const res = await call('GET', `${gw.proxyUrl}/three`)
    assert.deepEqual(res.body, { message: 'header x-token is required' })
    assert.equal(res.headers['x-greeting'], 'strict', 'header_filter runs on exits too')
    assert.equal(typeof res.headers['x-kong-response-latency'], 'string')
    const ok = await call('GET', `${gw.proxyUrl}/three`, undefined, { 'x-token': '1' })
    assert.equal(ok.status, 200)
    assert.equal(up.received.length - before, 1, 'only the allowed request reached the upstream')
    await gw.waitForLog(/\[greeting\] refused: no x-token header.*request_id/)
  })

  test("a plugin that throws gets a 500 with Kong's body and a log line naming plugin, phase and route", async () => {
    assert.equal((await call('POST', `${gw.adminUrl}/routes/boom/plugins`, { name: 'explode' })).status, 201)
    await eventually(async () => (await call('GET', `${gw.proxyUrl}/boom`)).status === 500, 5000, 'explode plugin')
    const res = await call('GET', `${gw.proxyUrl}/boom`)
    assert.equal(res.body.message, 'An unexpected error occurred')
    assert.equal(res.body.request_id, res.headers['x-kong-request-id'])
    const line = await gw.waitForLog(
      new RegExp(
        `plugin "explode" \\(instance [0-9a-f-]+\\) failed in the access phase on route "boom": kaboom in access.*request_id: "${res.headers['x-kong-request-id'] as string}"`,
      ),
    )
    assert.match(line, /\[error\]/)
    // The gateway keeps serving.
    assert.equal((await call('GET', `${gw.proxyUrl}/one`)).status, 200)
  })

  test('an error in header_filter is logged and the response still goes out', async () => {
    assert.equal(
      (await call('POST', `${gw.adminUrl}/routes/hf/plugins`, { name: 'explode', config: { phase: 'header_filter' } })).status,
      201,
    )
    await eventually(
      async () => /kaboom in header_filter/.test(gw.errorLog()) || (await call('GET', `${gw.proxyUrl}/hf`)).status !== 200,
      5000,
      'header_filter failure',
    )
    const res = await call('GET', `${gw.proxyUrl}/hf`)
    assert.equal(res.status, 200)
    await gw.waitForLog(/plugin "explode" \(instance [0-9a-f-]+\) failed in the header_filter phase on route "hf": kaboom in header_filter/)
  })
})

describe('start-up with a broken plugin', () => {
  test('a plugin that cannot be found stops start-up with one clear line', async () => {
    await assert.rejects(
      startTestGateway({ settings: { plugins: 'bundled,missing-one', plugins_path: EXAMPLE } }),
      /could not load plugins: plugin 'missing-one' not found: looked for .*missing-one/,
    )
  })
})
