import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compileRouter, joinUpstreamPath } from '../../../src/router/index.js'
import { req, route } from './route-factory.js'

// Kong's spec/fixtures/router_path_handling_tests.lua, path_handling v0 rows (the only
// behaviour of traditional_compatible): [service path, route path (null = host-only route),
// strip_path values, request path, expected upstream path].
// Rows marked CODE follow kong/router/utils.lua get_upstream_uri_v0 as shipped in 3.x, where
// the older fixture copy we read expects no trailing slash (see the report).
type Row = [string, string | null, boolean[], string, string]
const BOTH = [false, true]
const rows: Row[] = [
  ['/', '/', BOTH, '/', '/'],
  ['/', '/', BOTH, '/route', '/route'],
  ['/', '/', BOTH, '/route/', '/route/'],
  ['/', '/', BOTH, '/routereq', '/routereq'],
  ['/', '/', BOTH, '/route/req', '/route/req'],
  ['/', '/route', [false], '/route', '/route'],
  ['/', '/route', [false], '/route/', '/route/'],
  ['/', '/route', [false], '/routereq', '/routereq'],
  ['/', '/route', [true], '/route', '/'],
  ['/', '/route', [true], '/route/', '/'],
  ['/', '/route', [true], '/routereq', '/req'],
  ['/', '/route/', [false], '/route/', '/route/'],
  ['/', '/route/', [false], '/route/req', '/route/req'],
  ['/', '/route/', [true], '/route/', '/'],
  ['/', '/route/', [true], '/route/req', '/req'],
  ['/srv', '/rou', [false], '/roureq', '/srv/roureq'],
  ['/srv', '/rou', [true], '/roureq', '/srv/req'],
  ['/srv/', '/rou', [false], '/rou', '/srv/rou'],
  ['/srv/', '/rou', [true], '/rou', '/srv'],
  ['/service', '/', BOTH, '/', '/service'],
  ['/service', '/', BOTH, '/route', '/service/route'],
  ['/service', '/', BOTH, '/route/', '/service/route/'],
  ['/service', '/', BOTH, '/routereq', '/service/routereq'],
  ['/service', '/', BOTH, '/route/req', '/service/route/req'],
  ['/service', '/route', [false], '/route', '/service/route'],
  ['/service', '/route', [false], '/route/', '/service/route/'],
  ['/service', '/route', [false], '/routereq', '/service/routereq'],
  ['/service', '/route', [true], '/route', '/service'],
  ['/service', '/route', [true], '/route/', '/service/'],
  ['/service', '/route', [true], '/routereq', '/service/req'],
  ['/service', '/route/', [false], '/route/', '/service/route/'],
  ['/service', '/route/', [false], '/route/req', '/service/route/req'],
  ['/service', '/route/', [true], '/route/', '/service/'], // CODE
  ['/service', '/route/', [true], '/route/req', '/service/req'],
  ['/service/', '/', [false], '/', '/service/'],
  ['/service/', '/', [true], '/', '/service/'], // CODE
  ['/service/', '/', BOTH, '/route/', '/service/route/'],
  ['/service/', '/', BOTH, '/route', '/service/route'],
  ['/service/', '/', BOTH, '/routereq', '/service/routereq'],
  ['/service/', '/', BOTH, '/route/req', '/service/route/req'],
  ['/service/', '/route', [false], '/route', '/service/route'],
  ['/service/', '/route', [false], '/route/', '/service/route/'],
  ['/service/', '/route', [false], '/routereq', '/service/routereq'],
  ['/service/', '/route', [true], '/route', '/service'],
  ['/service/', '/route', [true], '/route/', '/service/'],
  ['/service/', '/route', [true], '/routereq', '/service/req'],
  ['/service/', '/route/', [false], '/route/', '/service/route/'],
  ['/service/', '/route/', [false], '/route/req', '/service/route/req'],
  ['/service/', '/route/', [true], '/route/', '/service/'], // CODE
  ['/service/', '/route/', [true], '/route/req', '/service/req'],
  // host-only routes
  ['/', null, BOTH, '/', '/'],
  ['/', null, BOTH, '/route', '/route'],
  ['/', null, BOTH, '/route/', '/route/'],
  ['/service', null, BOTH, '/', '/service'],
  ['/service', null, BOTH, '/route', '/service/route'],
  ['/service', null, BOTH, '/route/', '/service/route/'],
  ['/service/', null, [false], '/', '/service/'],
  ['/service/', null, [true], '/', '/service/'], // CODE
  ['/service/', null, BOTH, '/route', '/service/route'],
  ['/service/', null, BOTH, '/route/', '/service/route/'],
]

function upstreamPath(servicePath: string, routePath: string | null, strip: boolean, path: string, regex: boolean): string {
  const paths = routePath === null ? null : [regex ? '~/[0]?' + routePath.slice(1) : routePath]
  const r = route({ paths, hosts: ['localbin.test'], strip_path: strip })
  const m = compileRouter([r]).match(req({ host: 'localbin.test', path }))
  assert.ok(m, 'route must match')
  return joinUpstreamPath(servicePath, m)
}

describe('strip_path × service path (v0)', () => {
  for (const [svc, rp, strips, path, expected] of rows) {
    for (const strip of strips) {
      test(`plain: service ${svc}, route ${rp ?? '(host)'}, strip=${strip}, GET ${path} → ${expected}`, () => {
        assert.equal(upstreamPath(svc, rp, strip, path, false), expected)
      })
      if (rp !== null) {
        // Kong runs the same table with the route path turned into a regex.
        test(`regex: service ${svc}, route ~/[0]?${rp.slice(1)}, strip=${strip}, GET ${path} → ${expected}`, () => {
          assert.equal(upstreamPath(svc, rp, strip, path, true), expected)
        })
      }
    }
  }

  test('a null service path is "/"', () => {
    const r = route({ paths: ['/foo'] })
    const m = compileRouter([r]).match(req({ path: '/foo/bar' }))
    assert.ok(m)
    assert.equal(joinUpstreamPath(null, m), '/bar')
  })

  test('spec §2.2: /foo also matches /foobar and strips to /bar', () => {
    const m = compileRouter([route({ paths: ['/foo'] })]).match(req({ path: '/foobar' }))
    assert.ok(m)
    assert.equal(m.prefix, '/foo')
    assert.equal(joinUpstreamPath(null, m), '/bar')
    assert.equal(joinUpstreamPath('/svc', m), '/svc/bar')
    assert.equal(joinUpstreamPath('/svc/', m), '/svc/bar')
  })

  test('prefix is "/" when nothing is stripped, the matched text otherwise', () => {
    const m1 = compileRouter([route({ paths: ['/foo'], strip_path: false })]).match(req({ path: '/foo/x' }))
    assert.equal(m1?.prefix, '/')
    assert.equal(m1?.strippedPath, '/foo/x')
    const m2 = compileRouter([route({ paths: ['~/users/\\d+'] })]).match(req({ path: '/users/42/x' }))
    assert.equal(m2?.prefix, '/users/42')
    assert.equal(m2?.strippedPath, '/x')
  })

  test('a postfix starting with ../ or ./ loses it', () => {
    const m = compileRouter([route({ paths: ['/foo'] })]).match(req({ path: '/foo./bar' }))
    assert.equal(m?.strippedPath, 'bar')
    assert.equal(joinUpstreamPath('/svc', m ?? assert.fail()), '/svc/bar')
  })
})
