import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileRouter, normalizePath, type RouteInput } from '../../../src/router/index.js'
import { comparePriority, priorityOf, splitRoute } from '../../../src/router/internal/priority.js'
import { req, route } from './route-factory.js'

const N = 10_000

function buildRoutes(): RouteInput[] {
  const routes: RouteInput[] = [route({ paths: ['/'] })]
  for (let i = 0; i < N; i++) {
    switch (i % 5) {
      case 0:
        routes.push(route({ paths: [`/svc${i}/`] }))
        break
      case 1:
        routes.push(route({ paths: [`/svc${i}/`, `/svc${i}/deep/er`], methods: ['GET'] }))
        break
      case 2:
        routes.push(route({ hosts: [`h${i}.example.com`], paths: [`/p`] }))
        break
      case 3:
        routes.push(route({ paths: [`~/r${i}/(?<id>\\d+)$`], regex_priority: i % 3 }))
        break
      default:
        routes.push(route({ hosts: [`*.w${i}.example.com`], headers: { 'x-v': [`${i}`] } }))
        break
    }
  }
  return routes
}

/** Reference: every split route in priority order, first full match wins (no index). */
function naive(routes: RouteInput[], input: ReturnType<typeof req>): RouteInput | null {
  const parts = routes.flatMap((r) => splitRoute(r)).map((s) => ({ s, k: priorityOf(s) }))
  parts.sort((a, b) => comparePriority(a.k, a.s.id, b.k, b.s.id))
  const path = normalizePath(input.path) ?? ''
  const host = input.host.split(':')[0] ?? ''
  for (const { s } of parts) {
    const r = s.route
    if (r.methods && !r.methods.includes(input.method)) continue
    if (r.hosts && !r.hosts.some((h) => (h.startsWith('*') ? host.endsWith(h.slice(1)) : h === host))) continue
    if (r.headers && !Object.entries(r.headers).every(([k, v]) => v.includes(String((input.headers as Record<string, string>)[k]))))
      continue
    if (s.paths && !s.paths.some((p) => (p.startsWith('~') ? new RegExp('^' + p.slice(1)).test(path) : path.startsWith(p)))) continue
    return r
  }
  return null
}

test(`matches correctly among ${N} mixed prefix/regex/host routes`, () => {
  const routes = buildRoutes()
  const router = compileRouter(routes)
  const byIndex = (i: number): RouteInput => routes[i + 1] as RouteInput
  const at = (i: number, input: Parameters<typeof req>[0]) => router.match(req(input))

  for (let i = 0; i < N; i += 97) {
    const k = i - (i % 5)
    assert.equal(at(i, { path: `/svc${k}/x` })?.route, byIndex(k))
    assert.equal(at(i, { path: `/svc${k + 1}/deep/er/x` })?.route, byIndex(k + 1))
    assert.equal(at(i, { path: `/svc${k + 1}/deep`, method: 'POST' })?.route, routes[0]) // falls back to "/"
    assert.equal(at(i, { host: `h${k + 2}.example.com`, path: '/p/q' })?.route, byIndex(k + 2))
    const m = at(i, { path: `/r${k + 3}/77` })
    assert.equal(m?.route, byIndex(k + 3))
    assert.equal(m?.captures?.['id'], '77')
    assert.equal(at(i, { host: `a.b.w${k + 4}.example.com`, headers: { 'x-v': `${k + 4}` } })?.route, byIndex(k + 4))
  }

  // Differential check against the unindexed reference on a sample of requests.
  const sample = [
    req({ path: '/svc5/deep/er' }),
    req({ path: '/svc50' }),
    req({ path: '/svc500x' }),
    req({ host: 'h12.example.com', path: '/p' }),
    req({ host: 'h12.example.com', path: '/q' }),
    req({ path: '/r13/1' }),
    req({ path: '/r13/x' }),
    req({ path: '/r1/1' }),
    req({ host: 'x.w14.example.com', headers: { 'x-v': '14' }, path: '/svc15' }),
    req({ method: 'POST', path: '/svc16/deep/er' }),
    req({ path: '/nothing' }),
  ]
  for (const input of sample) assert.equal(router.match(input)?.route ?? null, naive(routes, input), input.path)
})
