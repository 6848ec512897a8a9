import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { compileRouter, httpsRedirectStatus, type RouteInput } from '../../../src/router/index.js'
import { req, route } from './route-factory.js'
import { requestHeaderValues } from '../../../src/codec/request-header-values.js'

function pick(routes: RouteInput[], input: Parameters<typeof req>[0]): RouteInput | null {
  return compileRouter(routes).match(req(input))?.route ?? null
}

describe('hosts', () => {
  const exact = route({ hosts: ['domain-1.org', 'domain-2.org'] })
  const withPort = route({ hosts: ['domain-1.org:321', 'domain-2.org'] })
  const portOnly = route({ hosts: ['domain-3.org:321'] })
  const suffix = route({ hosts: ['*.wild.org'] })
  const prefix = route({ hosts: ['wild.*'] })
  const all = [exact, withPort, portOnly, suffix, prefix]

  test('exact host; the Host header port is ignored by port-less entries', () => {
    assert.equal(pick(all, { host: 'domain-1.org' }), exact)
    assert.equal(pick(all, { host: 'domain-1.org:80' }), exact)
    assert.equal(pick(all, { host: 'domain-1.org:123' }), exact)
  })
  test('host:port entry matches the Host header port (and wins the tie by greater id)', () => {
    assert.equal(pick(all, { host: 'domain-1.org:321' }), withPort)
  })
  test('host:port entry matches the listener port when Host has none', () => {
    assert.equal(pick([portOnly], { host: 'domain-3.org', port: 321 }), portOnly)
    assert.equal(pick([portOnly], { host: 'domain-3.org', port: 8000 }), null)
    assert.equal(pick([portOnly], { host: 'domain-3.org:123' }), null)
  })
  test('case-insensitive, trailing dot ignored', () => {
    assert.equal(pick(all, { host: 'DOMAIN-1.Org.' }), exact)
    assert.equal(pick(all, { host: 'A.WILD.ORG' }), suffix)
  })
  test('*.x matches any depth but not x itself; x.* matches any tld', () => {
    assert.equal(pick(all, { host: 'a.wild.org' }), suffix)
    assert.equal(pick(all, { host: 'a.b.c.wild.org' }), suffix)
    assert.equal(pick(all, { host: 'wild.org' }), prefix)
    assert.equal(pick(all, { host: 'wild.co.uk' }), prefix)
    assert.equal(pick(all, { host: 'nowild.org' }), null)
    assert.equal(pick(all, { host: 'unknown.test' }), null)
  })
  test('an empty Host only reaches routes without hosts', () => {
    const any = route({ paths: ['/my-route'] })
    assert.equal(pick([...all, any], { host: '', path: '/my-route-uri' }), any)
    assert.equal(pick(all, { host: '' }), null)
  })
})

describe('methods, headers, snis', () => {
  test('methods are exact', () => {
    const r = route({ methods: ['POST', 'PUT'] })
    assert.equal(pick([r], { method: 'PUT' }), r)
    assert.equal(pick([r], { method: 'GET' }), null)
  })

  const single = route({ headers: { location: ['my-location-1', 'my-location-2'] } })
  const multiple = route({ headers: { location: ['my-location-1'], version: ['v1', 'v2'] } })
  const regex = route({ headers: { user_agent: ['~*windows|linux|os\\s+x\\s*[\\d\\._]+|solaris|bsd'] } })
  const hs = [single, multiple, regex]
  test('values OR, case-insensitive; repeated header: any value', () => {
    assert.equal(pick(hs, { headers: { location: 'my-location-2' } }), single)
    assert.equal(pick(hs, { headers: { location: 'MY-LOCATION-2' } }), single)
    assert.equal(pick(hs, { headers: { location: ['my-location-3', 'my-location-2'] } }), single)
    assert.equal(pick(hs, { headers: { location: 'my-location-3' } }), null)
    assert.equal(pick(hs, { headers: { location: ['my-location-3', 'foo'] } }), null)
  })
  test('keys AND; the route with more headers wins; falls back when one key fails', () => {
    assert.equal(pick(hs, { headers: { location: 'my-location-1', version: 'v2' } }), multiple)
    assert.equal(pick(hs, { headers: { location: ['my-location-3', 'my-location-1'], version: 'v2' } }), multiple)
    assert.equal(pick(hs, { headers: { location: ['my-location-3', 'my-location-2'], version: 'v2' } }), single)
  })
  // spec/01-unit/08-router_spec.lua (3.9.3), "my-location": two header lines as node:http parses
  // them (it keeps only the first `location`, joins `version`) go through the raw list.
  test('repeated header lines from the raw list: any value matches, more conditions win', () => {
    const nodeView = (raw: string[]): Record<string, string> => {
      const h: Record<string, string> = {}
      for (let i = 0; i < raw.length; i += 2) {
        const k = (raw[i] as string).toLowerCase()
        if (k === 'location' || k === 'user-agent') h[k] ??= raw[i + 1] as string
        else h[k] = h[k] === undefined ? (raw[i + 1] as string) : `${h[k]}, ${raw[i + 1] as string}`
      }
      return h
    }
    const fromRaw = (raw: string[]): ReturnType<typeof requestHeaderValues> => requestHeaderValues(nodeView(raw), raw)
    const twoLocations = ['Location', 'my-location-3', 'location', 'my-location-1']
    assert.equal(pick(hs, { headers: nodeView(twoLocations) }), null)
    assert.equal(pick(hs, { headers: fromRaw(twoLocations) }), single)
    assert.equal(pick(hs, { headers: fromRaw([...twoLocations, 'Version', 'v3', 'Version', 'v2']) }), multiple)
    assert.equal(pick(hs, { headers: fromRaw(['location', 'my-location-3', 'location', 'foo']) }), null)
    const uas = ['User-Agent', 'curl/8', 'User-Agent', 'Mozilla/5.0 (X11; Linux x86_64)']
    assert.equal(pick(hs, { headers: fromRaw(uas) }), regex)
  })
  test('~* regex values (unanchored, on the lower-cased value); _ in the name reads as -', () => {
    const ua = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/83.0 Safari/537.36'
    assert.equal(pick(hs, { headers: { 'user-agent': ua } }), regex)
    assert.equal(pick(hs, { headers: { 'user-agent': 'curl/8' } }), null)
  })
  test('snis are only considered over https', () => {
    const r = route({ snis: ['sni.example.com'], paths: ['/s'] })
    assert.equal(pick([r], { scheme: 'http', path: '/s' }), r)
    assert.equal(pick([r], { scheme: 'https', path: '/s', sni: 'sni.example.com' }), r)
    assert.equal(pick([r], { scheme: 'https', path: '/s', sni: 'other.example.com' }), null)
    assert.equal(pick([r], { scheme: 'https', path: '/s' }), null)
  })
  test("wildcard snis match as Kong's tls.sni conditions: *.x by suffix, x.* by prefix", () => {
    const suffix = route({ snis: ['*.wild.org'], paths: ['/w'] })
    const prefix = route({ snis: ['wild.*'], paths: ['/w'] })
    assert.equal(pick([suffix], { scheme: 'https', path: '/w', sni: 'a.wild.org' }), suffix)
    assert.equal(pick([suffix], { scheme: 'https', path: '/w', sni: 'A.B.Wild.org.' }), suffix)
    assert.equal(pick([suffix], { scheme: 'https', path: '/w', sni: 'wild.org' }), null)
    assert.equal(pick([prefix], { scheme: 'https', path: '/w', sni: 'wild.com' }), prefix)
    assert.equal(pick([prefix], { scheme: 'https', path: '/w', sni: 'wilder.com' }), null)
  })
})

describe('paths', () => {
  test('prefix is a plain string prefix of the normalized path', () => {
    const r = route({ paths: ['/my-route'] })
    assert.equal(pick([r], { path: '/my-route/some/path' }), r)
    assert.equal(pick([r], { path: '/my-routes' }), r)
    assert.equal(pick([r], { path: '/my-rout' }), null)
    assert.equal(pick([r], { path: '/x/../my-route' }), r)
    assert.equal(pick([r], { path: '/my-route%2Fx' }), r)
  })
  test('traversal never reaches a prefix it escapes from', () => {
    const pub = route({ paths: ['/public'] })
    const admin = route({ paths: ['/admin'] })
    assert.equal(pick([pub, admin], { path: '/public/../admin' }), admin)
    assert.equal(pick([pub], { path: '/public/%2e%2e/admin' }), null)
    assert.equal(pick([pub], { path: '/public%2F..%2Fadmin' }), pub)
  })
  test('an invalid path matches nothing', () => {
    assert.equal(pick([route()], { path: '/a%zz' }), null)
  })
  test('regex anchored at the start, numbered and named captures', () => {
    const r = route({ paths: ['~/users/(?<id>\\d+)/(profile|settings)$'] })
    const m = compileRouter([r]).match(req({ path: '/users/42/settings' }))
    assert.equal(m?.route, r)
    assert.deepEqual(m?.captures, { '0': '/users/42/settings', '1': '42', '2': 'settings', id: '42' })
    assert.equal(pick([r], { path: '/x/users/42/profile' }), null)
    assert.equal(pick([r], { path: '/users/42/profile/more' }), null)
  })
  test('(?P<name>) and a leading (?i) are accepted', () => {
    const r = route({ paths: ['~(?i)/API/(?P<v>v\\d)'] })
    const m = compileRouter([r]).match(req({ path: '/api/v2/x' }))
    assert.equal(m?.captures?.['v'], 'v2')
  })
  test('no captures object when the regex has no group', () => {
    const m = compileRouter([route({ paths: ['~/status/\\d+'] })]).match(req({ path: '/status/200' }))
    assert.equal(m?.captures, null)
  })
  test('a regex with an alternative is still tried on every path', () => {
    const r = route({ paths: ['~/a|/b'] })
    assert.equal(pick([r], { path: '/x/b' }), r) // Kong anchors only the first alternative
  })
  test('regex matches against the normalized path', () => {
    const r = route({ paths: ['~/files/[a-z ]+$'] })
    assert.equal(pick([r], { path: '/files/./my%20file' }), r)
  })
  test('an invalid regex drops the route and reports it', () => {
    const bad = route({ paths: ['~/(unclosed'] })
    const good = route({ paths: ['/'] })
    const errors: string[] = []
    const router = compileRouter([bad, good], { onInvalidRoute: (r) => errors.push(r.id) })
    assert.deepEqual(errors, [bad.id])
    assert.equal(router.match(req({ path: '/unclosed' }))?.route, good)
  })
})

describe('protocols', () => {
  test('stream routes are not http routes', () => {
    const tcp = route({ protocols: ['tcp'], paths: null })
    assert.equal(compileRouter([tcp]).size, 0)
  })
  test('an https-only route still matches over http; the proxy answers its redirect code', () => {
    const r = route({ protocols: ['https'], https_redirect_status_code: 301 })
    assert.equal(pick([r], { scheme: 'http' }), r)
    assert.equal(httpsRedirectStatus(r, 'http'), 301)
    assert.equal(httpsRedirectStatus(r, 'https'), null)
    assert.equal(httpsRedirectStatus({ protocols: ['https'], https_redirect_status_code: 426 }, 'http'), 426)
    assert.equal(httpsRedirectStatus({ protocols: ['http', 'https'], https_redirect_status_code: 426 }, 'http'), null)
  })
})
