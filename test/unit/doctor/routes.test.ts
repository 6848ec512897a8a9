import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { checkRoutes, MAX_COMPARISONS, type ListenerFacts } from '../../../src/doctor/routes.js'
import type { Finding } from '../../../src/doctor/types.js'
import type { Route, Service } from '../../../src/entities/index.js'
import type { PluginRow } from '../../../src/plugins/entity.js'
import { compileRouter } from '../../../src/router/index.js'
import type { ConfigPayload, StoredRow } from '../../../src/snapshot/snapshot.js'
import { routeRow, serviceRow } from '../../helpers/entity-rows.js'

const ALL: ListenerFacts = { protocols: new Set(['http', 'https', 'grpc', 'grpcs']) }

function payload(
  services: Service[],
  routes: Route[],
  plugins: Record<string, unknown>[] = [],
  entities: Record<string, StoredRow[]> = {},
): ConfigPayload {
  return {
    version: 1,
    services,
    routes,
    plugins: plugins.map(
      (p) =>
        ({
          id: randomUUID(),
          enabled: true,
          route: null,
          service: null,
          consumer: null,
          protocols: ['http', 'https'],
          config: {},
          ...p,
        }) as unknown as PluginRow,
    ),
    entities,
  }
}

function only(findings: Finding[], check: string): Finding[] {
  return findings.filter((f) => f.check === check)
}

const svc = serviceRow({ name: 'svc', host: 'backend.test', path: '/v1' })
const on = (input: Record<string, unknown>): Route => routeRow({ service: { id: svc.id }, ...input })

describe('route-shadowed', () => {
  function shadowed(findings: Finding[]): [string, string | null][] {
    return only(findings, 'route-shadowed')
      .filter((f) => f.severity !== 'ok')
      .map((f) => [f.severity, f.subject.name])
  }

  test('a longer prefix, or a route with more conditions, is tried first: nothing shadowed', () => {
    const broad = on({ name: 'broad', paths: ['/api'], methods: ['GET', 'POST'] })
    const narrow = on({ name: 'narrow', paths: ['/api/users'], methods: ['GET'] })
    const hosted = on({ name: 'hosted', paths: ['/api/v2'], hosts: ['api.example.com'] })
    const findings = checkRoutes(payload([svc], [broad, narrow, hosted]), ALL)
    assert.deepEqual(shadowed(findings), [])
    assert.match(only(findings, 'route-shadowed')[0]?.summary ?? '', /no shadowed route among the 3 routes checked/)
  })

  test('a regex that is a prefix in disguise outranks every prefix route of the same weight: error with the example, and the router agrees', () => {
    const winner = on({ name: 'winner', methods: ['GET', 'POST'], hosts: ['api.example.com'], paths: ['~/api/.*'] })
    const loser = on({ name: 'loser', methods: ['GET'], hosts: ['api.example.com'], paths: ['/api/orders'] })
    const [f] = only(checkRoutes(payload([svc], [winner, loser]), ALL), 'route-shadowed')
    assert.ok(f)
    assert.equal(f.severity, 'error')
    assert.equal(f.subject.name, 'loser')
    assert.match(f.summary, /route "loser" can never be matched: route "winner" is tried first/)
    const example = f.details?.['example_request'] as { method: string; host: string; path: string; headers: Record<string, string> }
    assert.deepEqual(
      { ...example, headers: { ...example.headers } },
      { method: 'GET', scheme: 'http', host: 'api.example.com', path: '/api/orders', headers: {} },
    )
    assert.deepEqual(f.details?.['winner'], { id: winner.id, name: 'winner' })
    assert.equal(compileRouter([winner, loser]).match({ ...example, scheme: 'http', port: 80 })?.route.id, winner.id)
  })

  test('headers: a winner accepting the same header values and more shadows; one missing a method does not', () => {
    const winner = on({ name: 'by-header', headers: { 'x-version': ['2', '3'] }, paths: ['~/a'], methods: ['GET'] })
    const loser = on({ name: 'narrower', headers: { X_Version: ['2'] }, paths: ['/a/b'], methods: ['GET'] })
    const anyMethod = on({ name: 'any-method', headers: { 'x-version': ['2'] }, paths: ['/a/c'] })
    const findings = checkRoutes(payload([svc], [winner, loser, anyMethod]), ALL)
    assert.deepEqual(shadowed(findings), [['error', 'narrower']])
    const example = only(findings, 'route-shadowed')[0]?.details?.['example_request'] as { headers: Record<string, string> }
    assert.deepEqual({ ...example.headers }, { 'x-version': '2' })
  })

  test('identical regexes: the higher regex_priority wins, the other is shadowed', () => {
    const high = on({ name: 'high', paths: ['~/items/\\d+$'], regex_priority: 10 })
    const low = on({ name: 'low', paths: ['~/items/\\d+$'], regex_priority: 0 })
    const findings = checkRoutes(payload([svc], [low, high]), ALL)
    assert.deepEqual(shadowed(findings), [['error', 'low']])
    assert.equal((only(findings, 'route-shadowed')[0]?.details?.['example_request'] as { path: string }).path, '/items/1')
  })

  test('duplicate routes: the one losing the id order is shadowed, reported once (not also as a conflict)', () => {
    const a = on({ name: 'a', paths: ['/dup'], hosts: ['d.test'] })
    const b = on({ name: 'b', paths: ['/dup'], hosts: ['d.test'] })
    const findings = checkRoutes(payload([svc], [a, b]), ALL)
    const loser = a.id > b.id ? 'b' : 'a'
    assert.deepEqual(shadowed(findings), [['error', loser]])
    assert.deepEqual(only(findings, 'route-conflict'), [])
  })

  test('only some paths unreachable: a warn naming those paths', () => {
    const winner = on({ name: 'winner', paths: ['~/api/'], methods: ['GET'], regex_priority: 5 })
    const partly = on({ name: 'partly', paths: ['~/api/(?<id>\\d+)$', '/zzz'], methods: ['GET'] })
    const [f] = only(checkRoutes(payload([svc], [winner, partly]), ALL), 'route-shadowed')
    assert.equal(f?.severity, 'warn')
    assert.equal(f?.subject.name, 'partly')
    assert.deepEqual(f?.details?.['paths'], ['~/api/(?<id>\\d+)$'])
  })

  test('an open-ended regex is never claimed to cover anything', () => {
    const open = on({ name: 'open', paths: ['~/api/[a-z]+'], methods: ['GET'], regex_priority: 3 })
    const prefix = on({ name: 'prefix', paths: ['/api/x'], methods: ['GET'] })
    assert.deepEqual(shadowed(checkRoutes(payload([svc], [open, prefix]), ALL)), [])
  })

  test('an invalid regex path is reported as left out of the router', () => {
    const bad = on({ name: 'bad', paths: ['~/x'] })
    const broken = { ...bad, paths: ['~/x/(unclosed'] } as Route
    const [f] = only(checkRoutes(payload([svc], [broken]), ALL), 'route-invalid')
    assert.equal(f?.severity, 'error')
    assert.match(f?.summary ?? '', /left out of the router/)
  })
})

describe('route-conflict', () => {
  test('two routes with the same priority accepting the same request: warn naming both, the winner as the router picks it', () => {
    const a = on({ name: 'a', paths: ['/same'], hosts: ['x.test', 'z.test'] })
    const b = on({ name: 'b', paths: ['/same'], hosts: ['x.test', 'y.test'] })
    const findings = only(checkRoutes(payload([svc], [a, b]), ALL), 'route-conflict')
    assert.equal(findings.length, 1)
    const f = findings[0] as Finding
    assert.equal(f.severity, 'warn')
    assert.match(f.summary, /route "[ab]" and route "[ab]" have the same priority and both accept GET http:\/\/x.test\/same/)
    const winner = compileRouter([a, b]).match({ method: 'GET', scheme: 'http', host: 'x.test', port: 80, path: '/same', headers: {} })
    assert.equal((f.details?.['winner'] as { id: string }).id, winner?.route.id)
  })

  test('same priority but disjoint hosts or methods: no conflict', () => {
    const a = on({ name: 'a', paths: ['/same'], hosts: ['x.test'] })
    const b = on({ name: 'b', paths: ['/same'], hosts: ['y.test'] })
    const c = on({ name: 'c', paths: ['/same'], methods: ['GET'] })
    const d = on({ name: 'd', paths: ['/same'], methods: ['POST'] })
    assert.deepEqual(only(checkRoutes(payload([svc], [a, b, c, d]), ALL), 'route-conflict'), [])
  })
})

describe('route-strip-path', () => {
  test('strip_path with a service path: ok with example_in and example_out', () => {
    const r = on({ name: 'api', paths: ['/api'], methods: ['GET'] })
    const [f] = only(checkRoutes(payload([svc], [r]), ALL), 'route-strip-path')
    assert.equal(f?.severity, 'ok')
    assert.equal(f?.summary, 'GET /api/users → upstream /v1/users')
    assert.equal(f?.details?.['example_in'], '/api/users')
    assert.equal(f?.details?.['example_out'], '/v1/users')
    assert.equal(f?.details?.['note'], '/apix also matches and goes upstream as /v1/x')
  })

  test('strip_path false keeps the request path after the service path', () => {
    const r = on({ name: 'keep', paths: ['/api/'], strip_path: false })
    const [f] = only(checkRoutes(payload([svc], [r]), ALL), 'route-strip-path')
    assert.equal(f?.details?.['example_out'], '/v1/api/users')
  })

  test('a regex path whose match strip_path removes entirely: warn', () => {
    const r = on({ name: 'rx', paths: ['~/api/.*'] })
    const [f] = only(checkRoutes(payload([svc], [r]), ALL), 'route-strip-path')
    assert.equal(f?.severity, 'warn')
    assert.match(f?.summary ?? '', /strip_path removes the whole match of the regex/)
  })

  test('path_handling v1: warn that v0 rules apply', () => {
    const v1 = on({ name: 'v1', paths: ['/old'], path_handling: 'v1' })
    const [g] = only(checkRoutes(payload([svc], [v1]), ALL), 'route-strip-path')
    assert.equal(g?.severity, 'warn')
    assert.match(g?.summary ?? '', /^GET \/old\/users → upstream \/v1\/users: path_handling 'v1' does not work/)
    assert.equal(g?.fix, "set path_handling to 'v0'")
  })
})

describe('route-protocols', () => {
  test('https-only route with no ssl listener: error with the fix; grpc without http2: error', () => {
    const https = on({ name: 'secure', protocols: ['https'], paths: ['/s'] })
    const grpc = on({ name: 'rpc', protocols: ['grpc'], paths: ['/g'], strip_path: false })
    const both = on({ name: 'both', protocols: ['http', 'https'], paths: ['/b'] })
    const findings = only(checkRoutes(payload([svc], [https, grpc, both]), { protocols: new Set(['http']) }), 'route-protocols')
    const by = new Map(findings.map((f) => [f.subject.name, f]))
    assert.equal(by.get('secure')?.severity, 'error')
    assert.match(by.get('secure')?.fix ?? '', /`ssl` entry to proxy_listen/)
    assert.match(by.get('secure')?.summary ?? '', /plain-http clients get 426/)
    assert.equal(by.get('rpc')?.severity, 'error')
    assert.match(by.get('rpc')?.fix ?? '', /http2/)
    // Kong's default protocols with only the TLS half unserved: said (ok), not a warning.
    assert.equal(by.get('both')?.severity, 'ok')
    assert.match(by.get('both')?.summary ?? '', /accepts https but no proxy listener serves it: served over plain http only/)
    // Many such routes: one finding for all of them, not one line each.
    const many = [1, 2, 3].map((i) => on({ name: `d${i}`, protocols: ['http', 'https'], paths: [`/d${i}`] }))
    const folded = only(checkRoutes(payload([svc], many), { protocols: new Set(['http']) }), 'route-protocols')
    assert.equal(folded.length, 1)
    assert.equal(folded[0]?.severity, 'ok')
    assert.match(folded[0]?.summary ?? '', /^3 routes accept https but no proxy listener serves it/)
    assert.deepEqual(folded[0]?.details?.['routes'], ['d1', 'd2', 'd3'])
    const halfGrpc = on({ name: 'half', protocols: ['grpc', 'grpcs'], paths: ['/h'], strip_path: false })
    const [half] = only(checkRoutes(payload([svc], [halfGrpc]), { protocols: new Set(['http', 'grpc']) }), 'route-protocols')
    assert.equal(half?.severity, 'warn')
    const tcp = routeRow({ service: { id: svc.id }, name: 'tcp', protocols: ['tcp'], destinations: [{ port: 5432 }] })
    const [stream] = only(checkRoutes(payload([svc], [tcp]), ALL), 'route-protocols')
    assert.equal(stream?.severity, 'error')
    assert.match(stream?.fix ?? '', /not served by Turnpike yet/)
  })

  test('every protocol served: one ok', () => {
    const findings = only(checkRoutes(payload([svc], [on({ paths: ['/x'] })]), ALL), 'route-protocols')
    assert.deepEqual(
      findings.map((f) => f.severity),
      ['ok'],
    )
  })
})

describe('plugin-refuses-all', () => {
  const consumer = { id: randomUUID(), username: 'alice' }
  const r = on({ name: 'r', paths: ['/r'] })

  test('key-auth with no credential: error; with one: nothing; with an existing anonymous: nothing', () => {
    const plugin = {
      name: 'key-auth',
      route: { id: r.id },
      config: { key_names: ['apikey'], key_in_header: true, key_in_query: true, anonymous: null },
    }
    const none = only(checkRoutes(payload([svc], [r], [plugin], { consumers: [consumer] }), ALL), 'plugin-refuses-all')
    assert.equal(none.length, 1)
    assert.equal(none[0]?.severity, 'error')
    assert.match(
      none[0]?.summary ?? '',
      /^key-auth on route "r": no consumer has an API key \(no keyauth_credentials rows\): every request gets 401$/,
    )
    const cred = { id: randomUUID(), key: 'k', consumer: { id: consumer.id } }
    assert.deepEqual(
      only(checkRoutes(payload([svc], [r], [plugin], { consumers: [consumer], keyauth_credentials: [cred] }), ALL), 'plugin-refuses-all'),
      [],
    )
    const anon = { ...plugin, config: { ...plugin.config, anonymous: 'alice' } }
    assert.deepEqual(only(checkRoutes(payload([svc], [r], [anon], { consumers: [consumer] }), ALL), 'plugin-refuses-all'), [])
    const missingAnon = { ...plugin, config: { ...plugin.config, anonymous: 'nobody' } }
    const [m] = only(checkRoutes(payload([svc], [r], [missingAnon], { consumers: [consumer] }), ALL), 'plugin-refuses-all')
    assert.match(m?.summary ?? '', /"nobody", which does not exist/)
  })

  test('basic-auth, hmac-auth and jwt without credentials: errors; a credential of a deleted consumer does not count', () => {
    const plugins = ['basic-auth', 'hmac-auth', 'jwt'].map((name) => ({ name, service: { id: svc.id }, config: { anonymous: null } }))
    const orphan = { id: randomUUID(), username: 'u', consumer: { id: randomUUID() } }
    const findings = only(checkRoutes(payload([svc], [r], plugins, { basicauth_credentials: [orphan] }), ALL), 'plugin-refuses-all')
    assert.deepEqual(
      findings.map((f) => [f.details?.['plugin'], f.severity]),
      [
        ['basic-auth', 'error'],
        ['hmac-auth', 'error'],
        ['jwt', 'error'],
      ],
    )
    assert.match(findings[0]?.summary ?? '', /on service "svc"/)
  })

  test('acl: an allow list no consumer belongs to, an empty one, a deny list covering everybody', () => {
    const acls = [{ id: randomUUID(), consumer: { id: consumer.id }, group: 'staff' }]
    const run = (config: Record<string, unknown>): Finding[] =>
      only(checkRoutes(payload([svc], [r], [{ name: 'acl', config }], { consumers: [consumer], acls }), ALL), 'plugin-refuses-all')
    assert.match(run({ allow: ['admins'] })[0]?.summary ?? '', /no consumer is in any allowed group \("admins"\)/)
    assert.match(run({ allow: [] })[0]?.summary ?? '', /config.allow is empty/)
    assert.deepEqual(run({ allow: ['staff'] }), [])
    assert.match(run({ deny: ['staff'] })[0]?.summary ?? '', /every consumer \(1\) is in a denied group/)
    assert.deepEqual(run({ deny: ['interns'] }), [])
  })

  test('request-termination: warn; ip-restriction denying every address: error; consumer-scoped and disabled plugins ignored', () => {
    const findings = only(
      checkRoutes(
        payload(
          [svc],
          [r],
          [
            { name: 'request-termination', config: { status_code: 503 } },
            { name: 'ip-restriction', route: { id: r.id }, config: { deny: ['0.0.0.0/0', '::/0'] } },
            { name: 'key-auth', consumer: { id: consumer.id }, config: {} },
            { name: 'basic-auth', enabled: false, config: {} },
          ],
        ),
        ALL,
      ),
      'plugin-refuses-all',
    )
    assert.deepEqual(
      findings.map((f) => [f.details?.['plugin'], f.severity]),
      [
        ['request-termination', 'warn'],
        ['ip-restriction', 'error'],
      ],
    )
    assert.match(findings[0]?.summary ?? '', /request-termination globally: answers every request itself with 503/)
  })
})

describe('route-no-service', () => {
  test('a route without service: warn with Kong’s message; not when request-termination answers it', () => {
    const lonely = routeRow({ name: 'lonely', paths: ['/l'] })
    const [f] = only(checkRoutes(payload([], [lonely]), ALL), 'route-no-service')
    assert.equal(f?.severity, 'warn')
    assert.match(f?.summary ?? '', /503 "no Service found with those values"/)
    const answered = payload([], [lonely], [{ name: 'request-termination', route: { id: lonely.id }, config: {} }])
    assert.deepEqual(only(checkRoutes(answered, ALL), 'route-no-service'), [])
  })
})

describe('scope', () => {
  test('service scope checks its routes only, but against every route', () => {
    const other = serviceRow({ name: 'other', host: 'o.test' })
    const winner = routeRow({
      service: { id: other.id },
      name: 'winner',
      methods: ['GET', 'POST'],
      hosts: ['api.example.com'],
      paths: ['~/'],
    })
    const loser = on({ name: 'loser', methods: ['GET'], hosts: ['api.example.com'], paths: ['/orders'] })
    const p = payload([svc, other], [winner, loser])
    const scoped = checkRoutes(p, ALL, { service: 'svc' })
    assert.deepEqual(
      only(scoped, 'route-shadowed').map((f) => f.subject.name),
      ['loser'],
    )
    assert.ok(only(scoped, 'route-strip-path').every((f) => f.subject.name === 'loser'))
    assert.deepEqual(
      only(checkRoutes(p, ALL, { route: winner.id }), 'route-strip-path').map((f) => f.subject.name),
      ['winner'],
    )
    const [missing] = checkRoutes(p, ALL, { service: 'nope' })
    assert.equal(missing?.check, 'route-scope')
  })
})

describe('scale and hostile input', () => {
  test('2,000 routes (many sharing a prefix and a catch-all) complete, the shadowed one is found', () => {
    const routes: Route[] = []
    for (let i = 0; i < 1000; i++) routes.push(on({ name: `r${i}`, paths: [`/svc${i}/items`], hosts: [`h${i % 50}.test`] }))
    for (let i = 0; i < 999; i++) routes.push(on({ name: `p${i}`, paths: ['/'], methods: ['GET'], headers: { 'x-tenant': [`t${i}`] } }))
    const winner = on({ name: 'wide', methods: ['GET', 'POST'], hosts: ['h7.test'], paths: ['~/svc7'] })
    routes.push(winner, on({ name: 'hidden', methods: ['GET'], hosts: ['h7.test'], paths: ['/svc7/deep'] }))
    const findings = checkRoutes(payload([svc], routes), ALL)
    const shadowed = only(findings, 'route-shadowed').filter((f) => f.severity === 'error')
    assert.deepEqual(
      shadowed.map((f) => f.subject.name),
      ['hidden'],
    )
    assert.equal(only(findings, 'route-strip-path').length, 2001)
    assert.ok(!findings.some((f) => /analysis limited/.test(f.summary)), 'indexed by path, host and header: within the budget')
  })

  test('a config past the comparison budget says the analysis was limited', () => {
    // Every `w` route is filed under the path and header every `q` route looks under, is tried
    // first (3 fields against 2) and fails only on its method: n² comparisons.
    const routes: Route[] = []
    const n = Math.ceil(Math.sqrt(MAX_COMPARISONS)) + 20
    for (let i = 0; i < n; i++) routes.push(on({ name: `w${i}`, methods: ['GET'], headers: { 'x-a': ['common'] }, paths: ['/'] }))
    for (let i = 0; i < n; i++) routes.push(on({ name: `q${i}`, headers: { 'x-a': ['common'] }, paths: [`/q${i}`] }))
    const findings = checkRoutes(payload([svc], routes), ALL)
    assert.ok(findings.some((f) => f.check === 'route-shadowed' && /analysis limited to 200000 route comparisons/.test(f.summary)))
  })

  test('routes on other hosts are not compared: 1,000 host catch-alls and 1,000 paths stay within the budget', () => {
    const routes: Route[] = []
    for (let i = 0; i < 1000; i++) routes.push(on({ name: `c${i}`, hosts: [`c${i}.test`] }))
    for (let i = 0; i < 1000; i++) routes.push(on({ name: `q${i}`, paths: [`/q${i}`] }))
    const findings = checkRoutes(payload([svc], routes), ALL)
    assert.deepEqual(
      only(findings, 'route-shadowed').map((f) => f.summary),
      ['no shadowed route among the 2000 routes checked'],
    )
  })

  test('hostile names, headers and paths are reported as data', () => {
    // Own `__proto__` keys, as JSON input gives them.
    const protoHeaders = (values: string[]): Record<string, string[]> =>
      JSON.parse(`{"__proto__": ${JSON.stringify(values)}}`) as Record<string, string[]>
    const winner = on({ name: '__proto__', paths: ['~/h'], headers: protoHeaders(['x', 'y']), methods: ['GET'] })
    const loser = on({ name: 'constructor', paths: ['/h/z'], headers: protoHeaders(['x']), methods: ['GET'] })
    const quoted = on({ name: 'ünï‮cödé', paths: ['/q'], headers: { constructor: ['b'] } })
    const long = on({ name: 'long', paths: ['/' + 'a'.repeat(1000)] })
    const findings = checkRoutes(payload([svc], [winner, loser, quoted, long]), ALL)
    const [f] = only(findings, 'route-shadowed')
    assert.equal(f?.subject.name, 'constructor')
    assert.match(f?.summary ?? '', /route "constructor" can never be matched: route "__proto__" is tried first/)
    const headers = (f?.details?.['example_request'] as { headers: Record<string, string> }).headers
    // Header names are sent with '-' for '_' (as nginx reads them): the example is what to send.
    assert.deepEqual(Object.entries(headers), [['--proto--', 'x']])
    assert.equal(({} as Record<string, unknown>)['x'], undefined, 'nothing leaked into Object.prototype')
    assert.ok(only(findings, 'route-strip-path').some((x) => x.summary.startsWith('GET /q/users → upstream /v1/users')))
    const long1 = only(findings, 'route-strip-path').find((x) => x.subject.name === 'long')
    assert.ok((long1?.summary.length ?? 0) < 300, 'a summary stays one readable line')
    assert.equal(long1?.details?.['example_in'], `/${'a'.repeat(1000)}/users`)
  })
})
