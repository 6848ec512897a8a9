/**
 * file-log against the real gateway: one JSON line per request in Kong's serializer shape
 * (request id, url with the port, query arrays, `authorization` redacted, tries, route, service,
 * latencies, source), the gateway's own responses (no tries, source kong), `reopen` after a
 * rotation, and Kong's path validation.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { call, eventually } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON read loosely by the test
function lines(path: string): Record<string, any>[] {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l))
}

describe('file-log plugin', () => {
  let logPath: string
  let exitPath: string
  let rotPath: string

  const fx = pluginSuite({ servicePath: '/base' }, async () => {
    logPath = join(fx.gw.prefix, 'logs', 'requests.log')
    exitPath = join(fx.gw.prefix, 'logs', 'exits.log')
    rotPath = join(fx.gw.prefix, 'logs', 'rotated.log')
    await fx.route('fl')
    await fx.route('ex')
    await fx.route('rot')
    await fx.admin('/routes/fl/plugins', { name: 'file-log', config: { path: logPath } })
    await fx.admin('/routes/ex/plugins', { name: 'file-log', config: { path: exitPath } })
    await fx.admin('/routes/ex/plugins', { name: 'request-termination', config: { status_code: 403, message: 'nope' } })
    await fx.admin('/routes/rot/plugins', { name: 'file-log', config: { path: rotPath, reopen: true } })
  })

  test("a proxied request: one line in Kong's serializer shape, authorization redacted", async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/fl/x?a=1&a=2&flag&q=hello%20world`, undefined, {
      authorization: 'Bearer secret-token',
      'proxy-authorization': 'Basic abc',
      'x-custom': 'yes',
    })
    assert.equal(res.status, 200)
    await eventually(async () => lines(logPath).length === 1, 5000, 'the log line')
    const [m] = lines(logPath)
    assert.ok(m !== undefined)
    assert.equal(m.request.id, res.headers['x-kong-request-id'])
    assert.equal(m.request.method, 'GET')
    assert.equal(m.request.uri, '/fl/x?a=1&a=2&flag&q=hello%20world')
    assert.equal(m.request.url, `http://127.0.0.1:${fx.gw.proxyPort}/fl/x?a=1&a=2&flag&q=hello%20world`)
    assert.deepEqual(m.request.querystring, { a: ['1', '2'], flag: true, q: 'hello world' })
    assert.equal(m.request.headers.authorization, 'REDACTED')
    assert.equal(m.request.headers['proxy-authorization'], 'REDACTED')
    assert.equal(m.request.headers['x-custom'], 'yes')
    assert.ok(m.request.size > 50, 'request_length counts the request line and headers')
    assert.equal(m.upstream_uri, '/base/x?a=1&a=2&flag&q=hello%20world')
    assert.equal(m.upstream_status, '200')
    assert.equal(m.response.status, 200)
    assert.equal(m.response.headers['content-type'], 'application/json')
    assert.ok(m.response.size > Number(m.response.headers['content-length']), 'bytes_sent includes the headers')
    for (const k of ['kong', 'proxy', 'request', 'receive']) assert.equal(typeof m.latencies[k], 'number', k)
    assert.ok(m.latencies.proxy >= 0 && m.latencies.request >= m.latencies.proxy)
    assert.equal(m.tries.length, 1)
    assert.equal(m.tries[0].ip, '127.0.0.1')
    assert.equal(m.tries[0].port, fx.up.port)
    assert.equal(m.route.name, 'fl')
    assert.equal(m.service.name, 'svc')
    assert.equal(m.client_ip, '127.0.0.1')
    assert.ok(Math.abs(m.started_at - Date.now()) < 60_000)
    assert.equal(m.source, 'upstream')
    assert.equal(m.workspace_name, 'default')
    assert.equal(m.consumer, undefined)
    assert.equal(m.authenticated_entity, undefined)
  })

  test('a response the gateway made (plugin exit): source kong, no tries, no upstream status', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/ex`)
    assert.equal(res.status, 403)
    await eventually(async () => lines(exitPath).length === 1, 5000, 'the exit log line')
    const [m] = lines(exitPath)
    assert.ok(m !== undefined)
    assert.equal(m.response.status, 403)
    assert.equal(m.source, 'kong')
    assert.equal(m.tries, undefined)
    assert.equal(m.upstream_status, '')
    assert.equal(m.latencies.proxy, -1)
  })

  test('many requests: one line each, in order of completion, nothing lost', async () => {
    const before = lines(logPath).length
    await Promise.all(Array.from({ length: 40 }, (_, i) => call('GET', `${fx.gw.proxyUrl}/fl/n${i}`)))
    await eventually(async () => lines(logPath).length === before + 40, 5000, '40 more lines')
    const uris = new Set(
      lines(logPath)
        .slice(before)
        .map((m) => m.request.uri),
    )
    assert.equal(uris.size, 40)
  })

  test('reopen: after the file is rotated away, the next request creates it again', async () => {
    assert.equal((await call('GET', `${fx.gw.proxyUrl}/rot`)).status, 200)
    await eventually(async () => lines(rotPath).length === 1, 5000, 'first line')
    renameSync(rotPath, `${rotPath}.1`)
    assert.equal((await call('GET', `${fx.gw.proxyUrl}/rot`)).status, 200)
    await eventually(async () => lines(rotPath).length === 1, 5000, 'a new file after rotation')
    assert.equal(lines(`${rotPath}.1`).length, 1)
  })

  test("path is required and must be a valid file name (Kong's schema)", async () => {
    const missing = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'file-log', config: {} })
    assert.equal(missing.status, 400)
    assert.equal(missing.body.fields.config.path, 'required field missing')
    const bad = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'file-log', config: { path: '/tmp/a*b.log' } })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.fields.config.path, 'not a valid filename')
    const ok = await call('POST', `${fx.gw.adminUrl}/schemas/plugins/validate`, { name: 'file-log', config: { path: '/tmp/ok.log' } })
    assert.equal(ok.status, 200)
  })
})
