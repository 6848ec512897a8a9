import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compileRouter, type MatchInput, type RouteInput } from '../../../src/router/index.js'
import { req, route } from './route-factory.js'

function reasonsOf(routes: RouteInput[], r: RouteInput, input: Partial<MatchInput>): readonly string[] | undefined {
  return compileRouter(routes)
    .explain(req(input))
    .verdicts.find((v) => v.route === r)?.reasons
}

describe('router explain', () => {
  const post = route({ name: 'post', paths: ['/v1'], methods: ['POST'] })
  const host = route({ name: 'host', hosts: ['api.example.com', '*.example.net'], paths: ['/'] })
  const hostPort = route({ name: 'host-port', hosts: ['api.example.com:8443'] })
  const header = route({ name: 'header', paths: ['/h'], headers: { 'x-version': ['v2', '~*^v3'] } })
  const regex = route({ name: 'regex', paths: ['~/items/\\d+$'] })
  const sni = route({ name: 'sni', paths: ['/s'], snis: ['a.example.com'] })
  const any = route({ name: 'any', paths: ['/'] })
  const all = [post, host, hostPort, header, regex, sni, any]

  test('the winner is the route match() picks, for many requests', () => {
    const inputs: Partial<MatchInput>[] = [
      { path: '/v1/x', method: 'POST' },
      { path: '/v1/x' },
      { host: 'api.example.com', path: '/x' },
      { host: 'x.example.net' },
      { host: 'api.example.com:8443' },
      { path: '/h', headers: { 'x-version': 'V3.1' } },
      { path: '/h', headers: { 'x-version': 'v1' } },
      { path: '/items/12' },
      { path: '/items/x' },
      { path: '/s', scheme: 'https', sni: 'a.example.com' },
      { path: '/s', scheme: 'https', sni: 'b.example.com' },
      { path: '/%zz' },
    ]
    const router = compileRouter(all)
    for (const input of inputs) {
      const r = req(input)
      assert.equal(router.explain(r).winner?.route ?? null, router.match(r)?.route ?? null, JSON.stringify(input))
    }
  })

  test('one reason per failing condition, in Kong-like words', () => {
    assert.deepEqual(reasonsOf(all, post, { path: '/v1/x' }), ['method GET not in [POST]'])
    assert.deepEqual(reasonsOf(all, post, { path: '/v2/x' }), ['method GET not in [POST]', 'path /v2/x does not start with /v1'])
    assert.deepEqual(reasonsOf(all, host, { host: 'example.org' }), ['host example.org not in [api.example.com, *.example.net]'])
    assert.deepEqual(reasonsOf(all, hostPort, { host: 'api.example.com' }), ['host api.example.com:8000 not in [api.example.com:8443]'])
    assert.deepEqual(reasonsOf(all, header, { path: '/h' }), ['header x-version missing (route wants [v2, ~*^v3])'])
    assert.deepEqual(reasonsOf(all, header, { path: '/h', headers: { 'x-version': 'v1' } }), ['header x-version: v1 not in [v2, ~*^v3]'])
    assert.deepEqual(reasonsOf(all, regex, { path: '/items/x' }), ['path /items/x does not match ~/items/\\d+$'])
    assert.deepEqual(reasonsOf(all, sni, { path: '/s', scheme: 'https', sni: 'b.example.com' }), [
      'sni b.example.com not in [a.example.com]',
    ])
    // snis do not count on plain http (Kong #6425)
    assert.deepEqual(reasonsOf(all, sni, { path: '/s', scheme: 'http' }), [])
  })

  test('a route that fits but ranks after the winner says so', () => {
    const e = compileRouter(all).explain(req({ path: '/v1/x', method: 'POST' }))
    assert.equal(e.winner?.route, post)
    const shadowed = e.verdicts.find((v) => v.route === any)
    assert.equal(shadowed?.matched, false)
    assert.match(shadowed?.reasons[0] ?? '', /^would match too, but ranks after the chosen route \(position \d+\)$/)
  })

  test('verdicts come in priority order with the priority fields', () => {
    const e = compileRouter(all).explain(req({ path: '/zzz' }))
    const ranks = e.verdicts.map((v) => v.rank)
    assert.deepEqual(ranks, [...ranks.keys()])
    const r = e.verdicts.find((v) => v.route === regex)
    assert.equal(r?.priority.regex, true)
    assert.equal(e.verdicts.find((v) => v.route === post)?.priority.weight, 2)
    assert.equal(e.winner?.route, any)
    assert.equal(e.winner?.matchedPath, '/')
  })

  test('an invalid percent-encoding is explained, and nothing matches', () => {
    const e = compileRouter(all).explain(req({ path: '/%zz' }))
    assert.equal(e.path, null)
    assert.equal(e.winner, null)
    assert.ok(e.verdicts.every((v) => v.reasons.some((x) => x.includes('invalid percent-encoding'))))
  })

  test('long request values are cut in reasons', () => {
    const reasons = reasonsOf(all, host, { host: 'a'.repeat(500) })
    assert.ok((reasons?.[0]?.length ?? 0) < 200)
  })
})
