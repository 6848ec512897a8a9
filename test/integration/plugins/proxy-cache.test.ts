/**
 * proxy-cache (memory) against the real gateway with two workers: Miss then Hit without calling
 * the upstream, Kong's cache key (sha256 of route|method|uri|params|headers), Bypass for
 * uncacheable methods and content types, vary_query_params and vary_headers, cache_ttl → Refresh,
 * cache_control, diagnostic headers switched off (and back on with Kong-Debug), and the Admin
 * API's lookups and purges reaching every worker.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { Client } from 'undici'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'
import { admin, settle } from '../proxy/helpers.js'

interface Res {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

describe('proxy-cache plugin', () => {
  let gw: TestGateway
  let up: TestUpstream
  let hits = 0
  const routeIds: Record<string, string> = {}
  let pluginId = ''
  const clients: Client[] = []

  before(async () => {
    up = await startUpstream((req, res) => {
      hits++
      const url = req.url ?? ''
      const body = JSON.stringify({ n: hits, url })
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-upstream': 'yes' }
      if (url.includes('html')) headers['content-type'] = 'text/html'
      if (url.includes('utf8')) headers['content-type'] = 'application/json; charset=utf-8'
      if (url.includes('private')) headers['cache-control'] = 'private, max-age=60'
      else if (url.includes('maxage')) headers['cache-control'] = 'public, max-age=60'
      res.writeHead(200, headers)
      res.end(body)
    })
    gw = await startTestGateway({ workers: 2 })
    await admin(gw, '/services', { name: 'svc', url: up.url })
    for (const name of ['pc', 'vary', 'ttl', 'cc', 'quiet'])
      routeIds[name] = (await admin(gw, '/services/svc/routes', { name, paths: [`/${name}`] })).body.id
    pluginId = (
      await admin(gw, '/routes/pc/plugins', { name: 'proxy-cache', config: { strategy: 'memory', content_type: ['application/json'] } })
    ).body.id
    await admin(gw, '/routes/vary/plugins', {
      name: 'proxy-cache',
      config: { strategy: 'memory', content_type: ['application/json'], vary_query_params: ['a'], vary_headers: ['X-Tenant'] },
    })
    await admin(gw, '/routes/ttl/plugins', {
      name: 'proxy-cache',
      config: { strategy: 'memory', content_type: ['application/json'], cache_ttl: 1, storage_ttl: 30 },
    })
    await admin(gw, '/routes/cc/plugins', {
      name: 'proxy-cache',
      config: { strategy: 'memory', content_type: ['application/json'], cache_control: true },
    })
    await admin(gw, '/routes/quiet/plugins', {
      name: 'proxy-cache',
      config: {
        strategy: 'memory',
        content_type: ['application/json'],
        response_headers: { age: false, 'X-Cache-Status': false, 'X-Cache-Key': false },
      },
    })
    await settle(gw)
  })
  after(async () => {
    for (const c of clients) await c.close()
    await gw.stop()
    await up.close()
  })

  /** A client on one connection: always the same worker. */
  const client = (): Client => {
    const c = new Client(gw.proxyUrl, { pipelining: 1 })
    clients.push(c)
    return c
  }
  const get = async (c: Client, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> => {
    const r = await c.request({ method, path, headers })
    return { status: r.statusCode, headers: r.headers, body: await r.body.text() }
  }

  test("Miss, then Hit from the cache without calling the upstream; Kong's cache key", async () => {
    const c = client()
    const first = await get(c, '/pc/a?b=2&a=1')
    assert.equal(first.status, 200)
    assert.equal(first.headers['x-cache-status'], 'Miss')
    const expected = createHash('sha256').update(`${routeIds['pc']}|GET|/pc/a|a=1:b=2|`).digest('hex')
    assert.equal(first.headers['x-cache-key'], expected)
    const upstreamCalls = hits
    const second = await get(c, '/pc/a?a=1&b=2')
    assert.equal(second.headers['x-cache-status'], 'Hit')
    assert.equal(second.headers['x-cache-key'], expected, 'params are sorted into the key')
    assert.equal(second.body, first.body)
    assert.equal(second.headers['x-upstream'], 'yes')
    assert.equal(second.headers['content-type'], 'application/json')
    assert.match(String(second.headers['age']), /^\d+$/)
    assert.notEqual(second.headers['x-kong-request-id'], first.headers['x-kong-request-id'])
    assert.equal(hits, upstreamCalls, 'a hit does not reach the upstream')
    assert.equal((await get(c, '/pc/a?a=1&b=2', {}, 'HEAD')).headers['x-cache-status'], 'Miss', 'the method is part of the key')
  })

  test('Bypass: a method not configured, a content type not configured (exact match, parameters included)', async () => {
    const c = client()
    assert.equal((await get(c, '/pc/post', {}, 'POST')).headers['x-cache-status'], 'Bypass')
    const html = await get(c, '/pc/html')
    assert.equal(html.headers['x-cache-status'], 'Bypass')
    assert.equal((await get(c, '/pc/html')).headers['x-cache-status'], 'Bypass', 'never stored')
    assert.equal((await get(c, '/pc/utf8')).headers['x-cache-status'], 'Bypass', 'application/json; charset=utf-8 is not application/json')
  })

  test('vary_query_params and vary_headers', async () => {
    const c = client()
    assert.equal((await get(c, '/vary?a=1&b=1')).headers['x-cache-status'], 'Miss')
    assert.equal((await get(c, '/vary?a=1&b=2')).headers['x-cache-status'], 'Hit', 'b is not in vary_query_params')
    assert.equal((await get(c, '/vary?a=2&b=1')).headers['x-cache-status'], 'Miss')
    assert.equal((await get(c, '/vary?a=1', { 'x-tenant': 't1' })).headers['x-cache-status'], 'Miss')
    assert.equal((await get(c, '/vary?a=1', { 'x-tenant': 't1' })).headers['x-cache-status'], 'Hit')
    assert.equal((await get(c, '/vary?a=1', { 'x-tenant': 't2' })).headers['x-cache-status'], 'Miss')
  })

  test('cache_ttl: an entry older than cache_ttl (but still stored) is refreshed', async () => {
    const c = client()
    assert.equal((await get(c, '/ttl')).headers['x-cache-status'], 'Miss')
    assert.equal((await get(c, '/ttl')).headers['x-cache-status'], 'Hit')
    await new Promise((r) => setTimeout(r, 2100))
    assert.equal((await get(c, '/ttl')).headers['x-cache-status'], 'Refresh')
    assert.equal((await get(c, '/ttl')).headers['x-cache-status'], 'Hit')
  })

  test('cache_control: request no-cache and Authorization bypass; private responses and responses without max-age are not stored', async () => {
    const c = client()
    assert.equal((await get(c, '/cc/maxage', { 'cache-control': 'no-cache' })).headers['x-cache-status'], 'Bypass')
    assert.equal((await get(c, '/cc/maxage', { authorization: 'Bearer x' })).headers['x-cache-status'], 'Bypass')
    assert.equal((await get(c, '/cc/maxage')).headers['x-cache-status'], 'Miss')
    assert.equal((await get(c, '/cc/maxage')).headers['x-cache-status'], 'Hit')
    assert.equal((await get(c, '/cc/private')).headers['x-cache-status'], 'Bypass')
    assert.equal((await get(c, '/cc/nottl')).headers['x-cache-status'], 'Bypass', 'no max-age, no Expires: ttl 0')
    assert.equal((await get(c, '/cc/maxage', { 'cache-control': 'max-age=0' })).headers['x-cache-status'], 'Hit', 'entry is 0 s old')
    assert.equal((await get(c, '/cc/absent', { 'cache-control': 'only-if-cached' })).status, 504)
  })

  test('response_headers off: no diagnostic headers unless Kong-Debug is sent', async () => {
    const c = client()
    const a = await get(c, '/quiet')
    assert.equal(a.headers['x-cache-status'], undefined)
    assert.equal(a.headers['x-cache-key'], undefined)
    const b = await get(c, '/quiet')
    assert.equal(b.headers['age'], undefined)
    assert.equal(b.headers['x-cache-status'], undefined)
    const d = await get(c, '/quiet', { 'kong-debug': '1' })
    assert.equal(d.headers['x-cache-status'], 'Hit')
    assert.ok(d.headers['age'] !== undefined)
  })

  test('Admin API: look up and purge entries; a purge reaches every worker', async () => {
    // Several connections: the cluster spreads them over both workers; each fills its cache.
    const cs = Array.from({ length: 6 }, () => client())
    let key = ''
    for (const c of cs) {
      const r = await get(c, '/pc/shared')
      key = String(r.headers['x-cache-key'])
      assert.equal((await get(c, '/pc/shared')).headers['x-cache-status'], 'Hit')
    }
    const found = await call('GET', `${gw.adminUrl}/proxy-cache/${key}`)
    assert.equal(found.status, 200)
    assert.equal(found.body.status, 200)
    assert.equal(found.body.version, 1)
    assert.equal(typeof found.body.timestamp, 'number')
    assert.equal(found.body.ttl, 300)
    assert.equal(JSON.parse(found.body.body).url, '/shared', 'the upstream saw the stripped path')
    assert.equal(found.body.body_len, Buffer.byteLength(found.body.body))
    const byPlugin = await call('GET', `${gw.adminUrl}/proxy-cache/${pluginId}/caches/${key}`)
    assert.equal(byPlugin.status, 200)
    assert.equal((await call('DELETE', `${gw.adminUrl}/proxy-cache/${pluginId}/caches/${key}`)).status, 204)
    // The lookup asks every worker: a worker that kept the entry would answer 200.
    assert.equal((await call('GET', `${gw.adminUrl}/proxy-cache/${pluginId}/caches/${key}`)).status, 404, 'purged on every worker')
    const after1 = await Promise.all(cs.map((c) => get(c, '/pc/shared')))
    assert.ok(
      after1.filter((r) => r.headers['x-cache-status'] === 'Miss').length >= 2,
      'each worker misses once after the purge (the connections are spread over both)',
    )
    assert.equal((await call('GET', `${gw.adminUrl}/proxy-cache/${pluginId}/caches/${key}`)).status, 200, 'stored again by the misses')
    assert.equal((await call('DELETE', `${gw.adminUrl}/proxy-cache/${key}`)).status, 204)
    assert.equal((await call('GET', `${gw.adminUrl}/proxy-cache/${key}`)).status, 404)
    assert.equal((await call('DELETE', `${gw.adminUrl}/proxy-cache/${key}`)).status, 404)
    for (const c of cs) await get(c, '/pc/shared')
    assert.equal((await call('DELETE', `${gw.adminUrl}/proxy-cache`)).status, 204)
    assert.equal((await call('GET', `${gw.adminUrl}/proxy-cache/${key}`)).status, 404, 'flushed on every worker')
    const after2 = await Promise.all(cs.map((c) => get(c, '/pc/shared')))
    assert.ok(after2.filter((r) => r.headers['x-cache-status'] === 'Miss').length >= 2)
    assert.equal((await call('GET', `${gw.adminUrl}/proxy-cache/00000000-0000-0000-0000-000000000000/caches/${key}`)).status, 404)
  })

  test('strategy is required and only memory is accepted', async () => {
    const missing = await call('POST', `${gw.adminUrl}/plugins`, { name: 'proxy-cache', config: {} })
    assert.equal(missing.status, 400)
    assert.equal(missing.body.fields.config.strategy, 'required field missing')
    const redis = await call('POST', `${gw.adminUrl}/plugins`, { name: 'proxy-cache', config: { strategy: 'redis' } })
    assert.equal(redis.status, 400)
  })
})
