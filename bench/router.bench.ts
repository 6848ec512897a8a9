/**
 * Router micro-benchmark: matches per second with 10 and 10,000 routes (mixed exact-host,
 * wildcard-host, prefix and regex routes). Not a test; run after building:
 *   node build/bench/router.bench.js
 */
import { compileRouter, type MatchInput, type RouteInput } from '../src/router/index.js'

function makeRoute(i: number, fields: Partial<RouteInput>): RouteInput {
  return {
    id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    name: null,
    protocols: ['http', 'https'],
    methods: null,
    hosts: null,
    paths: null,
    headers: null,
    snis: null,
    strip_path: true,
    preserve_host: false,
    regex_priority: 0,
    path_handling: 'v0',
    https_redirect_status_code: 426,
    created_at: 0,
    service: null,
    ...fields,
  }
}

function makeRoutes(n: number): RouteInput[] {
  const routes: RouteInput[] = []
  for (let i = 0; i < n; i++) {
    switch (i % 4) {
      case 0:
        routes.push(makeRoute(i, { paths: [`/svc${i}/`] }))
        break
      case 1:
        routes.push(makeRoute(i, { hosts: [`h${i}.example.com`], paths: ['/api'], methods: ['GET'] }))
        break
      case 2:
        routes.push(makeRoute(i, { paths: [`~/r${i}/(?<id>\\d+)$`] }))
        break
      default:
        routes.push(makeRoute(i, { hosts: [`*.w${i}.example.com`] }))
        break
    }
  }
  return routes
}

function makeRequests(n: number): MatchInput[] {
  const reqs: MatchInput[] = []
  for (let i = 0; i < 1000; i++) {
    const k = (i * 7919) % n
    const base = k - (k % 4)
    const kind = i % 5
    const r = { method: 'GET', scheme: 'http', host: 'example.test', port: 8000, path: '/', headers: {} }
    if (kind === 0) reqs.push({ ...r, path: `/svc${base}/users/42` })
    else if (kind === 1) reqs.push({ ...r, host: `h${base + 1}.example.com`, path: '/api/v1/items' })
    else if (kind === 2) reqs.push({ ...r, path: `/r${base + 2}/123` })
    else if (kind === 3) reqs.push({ ...r, host: `a.w${base + 3}.example.com`, path: '/x' })
    else reqs.push({ ...r, path: '/not/found/at/all' })
  }
  return reqs
}

function bench(n: number): void {
  const t0 = performance.now()
  const router = compileRouter(makeRoutes(n))
  const compileMs = performance.now() - t0
  const reqs = makeRequests(n)
  let hits = 0
  for (let i = 0; i < 50_000; i++) if (router.match(reqs[i % reqs.length] as MatchInput)) hits++ // warm-up
  const iterations = 500_000
  const start = performance.now()
  for (let i = 0; i < iterations; i++) if (router.match(reqs[i % reqs.length] as MatchInput)) hits++
  const ms = performance.now() - start
  const rate = Math.round((iterations / ms) * 1000)
  console.log(
    `${String(n).padStart(6)} routes: ${rate.toLocaleString('en-US')} matches/s ` +
      `(${((ms * 1e6) / iterations).toFixed(0)} ns/match, compile ${compileMs.toFixed(0)} ms, hits ${hits})`,
  )
}

bench(10)
bench(10_000)
