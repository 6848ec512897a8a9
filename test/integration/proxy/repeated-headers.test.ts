/**
 * Request headers sent more than once, through the real gateway over raw sockets (issue 18,
 * theme 7). Kong sees every value (`ngx.req.get_headers()` gives an array): its router matches a
 * header condition when any value does (spec/01-unit/08-router_spec.lua at 3.9.3, "my-location";
 * the route with more matching header conditions wins), key-auth answers a key header sent twice
 * with 401 `Duplicate API key found` (kong/plugins/key-auth/handler.lua), and nginx forwards every
 * header line upstream. node:http keeps only the first `location`/`user-agent` and joins others.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'
import { admin, rawRequest, rawText, settle } from './helpers.js'

interface RawEcho {
  url: string
  rawHeaders: string[]
}

/** The header lines the upstream received for `name` (case-insensitive), in order. */
function linesOf(echo: RawEcho, name: string): string[] {
  const out: string[] = []
  for (let i = 0; i + 1 < echo.rawHeaders.length; i += 2)
    if ((echo.rawHeaders[i] as string).toLowerCase() === name) out.push(echo.rawHeaders[i + 1] as string)
  return out
}

describe('repeated request headers (every value, as Kong sees them)', () => {
  let gw: TestGateway
  let up: TestUpstream
  const dir = mkdtempSync(join(tmpdir(), 'tp-repeated-'))
  const logPath = join(dir, 'log.json')

  before(async () => {
    // Echoes the raw header lines: node's header object would hide a repeated Location.
    up = await startUpstream((req, res) => {
      const out = JSON.stringify({ url: req.url, rawHeaders: req.rawHeaders })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) })
      res.end(out)
    })
    gw = await startTestGateway()
    await admin(gw, '/services', { name: 'echo', url: up.url })
    await admin(gw, '/services', { name: 'echo-single', url: `${up.url}/single` })
    await admin(gw, '/services/echo-single/routes', {
      name: 'single',
      paths: ['/rh'],
      headers: { location: ['my-location-1', 'my-location-2'] },
    })
    // Each header route has its own service path: the upstream's URL says which route won.
    await admin(gw, '/services', { name: 'echo-multiple', url: `${up.url}/multiple` })
    await admin(gw, '/services/echo-multiple/routes', {
      name: 'multiple',
      paths: ['/rh'],
      headers: { location: ['my-location-1'], version: ['v1', 'v2'] },
    })
    await admin(gw, '/services/echo/routes', { name: 'plain', paths: ['/plain'] })
    await admin(gw, '/services/echo/routes', { name: 'logged', paths: ['/logged'] })
    await admin(gw, '/routes/logged/plugins', { name: 'file-log', config: { path: logPath } })
    await admin(gw, '/services/echo/routes', { name: 'keyed', paths: ['/keyed'] })
    await admin(gw, '/routes/keyed/plugins', { name: 'key-auth' })
    await admin(gw, '/consumers', { username: 'alice' })
    await admin(gw, '/consumers/alice/key-auth', { key: 'alice-key' })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
    await up?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  const get = (path: string, headers: ReadonlyArray<readonly [string, string]>) =>
    rawRequest(gw.proxyPort, rawText('GET', path, [['Host', 'rh.test'], ...headers, ['Connection', 'close']]))

  test('a header condition matches when any of the repeated values does; more conditions win', async () => {
    const one = await get('/rh', [
      ['Location', 'my-location-3'],
      ['Location', 'my-location-1'],
    ])
    assert.equal(one.status, 200, one.body.toString())
    assert.equal((JSON.parse(one.body.toString()) as RawEcho).url, '/single')
    const both = await get('/rh', [
      ['Location', 'my-location-3'],
      ['Location', 'my-location-1'],
      ['Version', 'v3'],
      ['Version', 'v2'],
    ])
    assert.equal(both.status, 200, both.body.toString())
    const none = await get('/rh', [
      ['Location', 'my-location-3'],
      ['Location', 'foo'],
    ])
    assert.equal(none.status, 404)
    const seen = JSON.parse(both.body.toString()) as RawEcho
    assert.equal(seen.url, '/multiple')
    assert.deepEqual(linesOf(seen, 'version'), ['v3', 'v2'])
  })

  test('every line of a repeated header is forwarded upstream, in order', async () => {
    const r = await get('/plain', [
      ['Location', 'first'],
      ['User-Agent', 'ua-1'],
      ['Location', 'second'],
      ['User-Agent', 'ua-2'],
      ['X-Multi', 'a'],
      ['X-Multi', 'b'],
    ])
    assert.equal(r.status, 200, r.body.toString())
    const seen = JSON.parse(r.body.toString()) as RawEcho
    assert.deepEqual(linesOf(seen, 'location'), ['first', 'second'])
    assert.deepEqual(linesOf(seen, 'user-agent'), ['ua-1', 'ua-2'])
    assert.deepEqual(linesOf(seen, 'x-multi'), ['a', 'b'])
  })

  test('key-auth: a key header sent twice is 401 "Duplicate API key found"', async () => {
    const ok = await get('/keyed', [['apikey', 'alice-key']])
    assert.equal(ok.status, 200, ok.body.toString())
    for (const second of ['alice-key', 'other']) {
      const r = await get('/keyed', [
        ['apikey', 'alice-key'],
        ['ApiKey', second],
      ])
      assert.equal(r.status, 401)
      assert.equal(r.headers['www-authenticate'], 'Key')
      assert.equal((JSON.parse(r.body.toString()) as { message: string }).message, 'Duplicate API key found')
    }
  })

  test("the log serializer's request.headers has every value of a repeated header", async () => {
    const r = await get('/logged', [
      ['User-Agent', 'ua-1'],
      ['User-Agent', 'ua-2'],
      ['X-Once', 'one'],
    ])
    assert.equal(r.status, 200, r.body.toString())
    await eventually(async () => existsSync(logPath) && readFileSync(logPath, 'utf8').includes('\n'), 5000, 'the log line')
    const line = JSON.parse(readFileSync(logPath, 'utf8').split('\n')[0] as string) as { request: { headers: Record<string, unknown> } }
    assert.deepEqual(line.request.headers['user-agent'], ['ua-1', 'ua-2'])
    assert.equal(line.request.headers['x-once'], 'one')
  })
})
