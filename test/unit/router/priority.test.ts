import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compileRouter, type RouteInput } from '../../../src/router/index.js'
import { uuidv5 } from '../../../src/ids/uuid.js'
import { splitRoute } from '../../../src/router/internal/priority.js'
import { req, route } from './route-factory.js'

function pick(routes: RouteInput[], input: Parameters<typeof req>[0]): RouteInput | null {
  return compileRouter(routes).match(req(input))?.route ?? null
}

describe('priority (traditional_compatible)', () => {
  test('a longer prefix wins, also with methods or hosts on both', () => {
    for (const extra of [{}, { methods: ['GET', 'POST'] }, { hosts: ['domain.org'] }]) {
      const long = route({ paths: ['/my-route/hello'], ...extra })
      const short = route({ paths: ['/my-route'], ...extra })
      const input = { host: 'domain.org' }
      assert.equal(pick([short, long], { ...input, path: '/my-route/hello' }), long)
      assert.equal(pick([short, long], { ...input, path: '/my-route/hello/world' }), long)
      assert.equal(pick([short, long], { ...input, path: '/my-route' }), short)
      assert.equal(pick([short, long], { ...input, path: '/my-route/world' }), short)
    }
  })
  test('more matching fields win over a longer path', () => {
    const pathOnly = route({ paths: ['/api/v1/users'] })
    const methodAndPath = route({ paths: ['/api'], methods: ['GET'] })
    assert.equal(pick([pathOnly, methodAndPath], { path: '/api/v1/users' }), methodAndPath)
    assert.equal(pick([pathOnly, methodAndPath], { method: 'POST', path: '/api/v1/users' }), pathOnly)
  })
  test('plain hosts beat wildcard hosts', () => {
    const wild = route({ hosts: ['*.example.com'], paths: ['/long/path'] })
    const plain = route({ hosts: ['api.example.com'], paths: ['/'] })
    assert.equal(pick([wild, plain], { host: 'api.example.com', path: '/long/path' }), plain)
    assert.equal(pick([wild, plain], { host: 'www.example.com', path: '/long/path' }), wild)
  })
  test('more header names win', () => {
    const one = route({ headers: { a: ['1'] }, paths: ['/very/long'] })
    const two = route({ headers: { a: ['1'], b: ['2'] }, paths: ['/'] })
    assert.equal(pick([one, two], { path: '/very/long', headers: { a: '1', b: '2' } }), two)
  })
  test('a regex path beats a prefix path of the same weight', () => {
    const prefix = route({ paths: ['/api/users/1'] })
    const regex = route({ paths: ['~/api/.*'] })
    assert.equal(pick([prefix, regex], { path: '/api/users/1' }), regex)
  })
  test('regex_priority orders regex routes, higher first', () => {
    const low = route({ paths: ['~/api/(.*)'], regex_priority: 1 })
    const high = route({ paths: ['~/api/v1/(.*)'], regex_priority: 5 })
    const neg = route({ paths: ['~/api/v1/x'], regex_priority: -1 })
    assert.equal(pick([low, high, neg], { path: '/api/v1/x' }), high)
    assert.equal(pick([low, neg], { path: '/api/v1/x' }), low)
  })
  test('regex_priority is ignored on prefix routes; ties go to the greater id, not created_at', () => {
    const a = route({ id: 'aaaaaaaa-0000-4000-8000-000000000000', paths: ['/x'], regex_priority: 10, created_at: 1 })
    const b = route({ id: 'bbbbbbbb-0000-4000-8000-000000000000', paths: ['/y'], regex_priority: 0, created_at: 2 })
    const c = route({ id: 'cccccccc-0000-4000-8000-000000000000', paths: ['/x'], created_at: 3 })
    assert.equal(pick([a, b, c], { path: '/x' }), c)
    const d = route({ id: '00000000-0000-4000-8000-00000000000f', paths: ['/x'], created_at: 0 })
    assert.equal(pick([a, d], { path: '/x' }), a)
  })
  test('a route is split per path-length group, each with its own priority', () => {
    const z = route({ paths: ['/a', '/abc/def'] })
    const w = route({ paths: ['/abc'] })
    assert.equal(pick([z, w], { path: '/abc/def/x' }), z)
    assert.equal(pick([z, w], { path: '/abc/x' }), w) // not z's longest path
    assert.equal(pick([z, w], { path: '/a/x' }), z)
    assert.equal(compileRouter([z, w]).size, 3)
  })
  test('regex and prefix paths of one route are split apart', () => {
    const x = route({ paths: ['/short', '~/short/(\\d+)$'] })
    const y = route({ paths: ['/short/longer'] })
    assert.equal(pick([x, y], { path: '/short/longer' }), y)
    const m = compileRouter([x, y]).match(req({ path: '/short/123' }))
    assert.equal(m?.route, x)
    assert.equal(m?.captures?.['1'], '123')
  })
  test('split ids are UUIDv5 of "<id>#<group>" in Kong\'s namespace', () => {
    const r = route({ paths: ['/one', '~/r', '/two', '/three'] })
    const parts = splitRoute(r)
    assert.deepEqual(
      parts.map((p) => p.paths),
      [['/one', '/two'], ['~/r'], ['/three']],
    )
    assert.equal(parts[1]?.id, uuidv5('7f145bf9-0dce-4f91-98eb-debbce4b9f6b', `${r.id}#2`))
    assert.equal(splitRoute(route({ paths: ['/aa', '/bb'] }))[0]?.paths?.length, 2)
  })
})
