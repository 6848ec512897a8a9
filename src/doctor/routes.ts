/**
 * The doctor's route checks: pure analysis of one configuration, no I/O.
 *
 * - `route-shadowed`: a route (or some of its paths) no request can reach because a route tried
 *   before it (Kong 3.9 `traditional_compatible` order) accepts everything it accepts. Found by
 *   indexing routes by path prefix, exact host and first header (each route is compared only with
 *   the routes filed under its own path's prefixes, host and headers), proved by an example
 *   request run through the real compiled router.
 * - `route-conflict`: routes of equal priority that both accept one example request; the router
 *   then picks by id order.
 * - `route-strip-path`: what the upstream receives for an example path (`strip_path`, service
 *   `path`), with warnings for the known traps.
 * - `route-protocols`: route protocols no proxy listener serves.
 * - `route-invalid`: a route the router leaves out (an invalid regex path).
 * - `plugin-refuses-all` and `route-no-service`: see route-plugins.ts.
 * - `route-scope`: the service or route the scope names does not exist.
 *
 * Bounded: at most {@link MAX_COMPARISONS} route comparisons in all; past that an `ok` finding
 * says the analysis was limited.
 *
 * @module
 */
import {
  comparePriority,
  compileRouter,
  escapeUpstreamPath,
  isRegexPath,
  joinUpstreamPath,
  literalPrefixOf,
  priorityOf,
  splitRoute,
  type Router,
} from '../router/index.js'
import type { Route, Service } from '../entities/index.js'
import type { ConfigPayload } from '../snapshot/snapshot.js'
import {
  covers,
  examplePath,
  exampleRequest,
  matchInputOf,
  normalizedPrefix,
  regexAsPrefix,
  coverKeys,
  lookupKeys,
  type ExampleRequest,
  type RoutePart,
} from './route-examples.js'
import { checkPlugins, terminatedRoute } from './route-plugins.js'
import type { Finding, FindingSubject } from './types.js'

/** What the node's proxy listeners serve (from `proxy_listen` and `stream_listen`). */
export interface ListenerFacts {
  /** Route protocols some proxy listener serves: `http` (plain), `https` (ssl), `grpc` (plain h2c), `grpcs` (ssl h2). */
  readonly protocols: ReadonlySet<string>
}

/** Which routes to check: all, or those of one service, or one route (id or name). */
export interface RouteCheckScope {
  readonly service?: string
  readonly route?: string
}

/** Route-to-route comparisons allowed in one run (shadowing and conflicts together). */
export const MAX_COMPARISONS = 200_000
/** Routes of one equal-priority bucket compared pairwise for conflicts. */
const MAX_BUCKET = 64
/** Paths of one route given a strip_path example. */
const MAX_PATHS_SHOWN = 8
/** Characters of a path looked at when finding the routes whose prefix it starts with. */
const MAX_PREFIX_SCAN = 512

const HTTP_FAMILY = new Set(['http', 'https', 'grpc', 'grpcs'])

/** The router's priority fields of a path group. */
type PriorityKey = ReturnType<typeof priorityOf>

/** One path group of a route, in the router's order. */
interface Ranked {
  readonly route: Route
  readonly id: string
  readonly priority: PriorityKey
  readonly paths: readonly string[] | null
  rank: number
}

interface Part extends RoutePart {
  readonly route: Route
  readonly rank: number
}

function routeSubject(r: Route): FindingSubject {
  return { kind: 'route', id: r.id, name: r.name }
}

function label(r: Route): string {
  return r.name !== null ? `route ${JSON.stringify(r.name)}` : `route ${r.id}`
}

/** Characters of a path or request shown in a one-line summary (details keep the whole). */
const SUMMARY_TEXT_MAX = 120

function clip(text: string): string {
  return text.length > SUMMARY_TEXT_MAX ? `${text.slice(0, SUMMARY_TEXT_MAX)}…` : text
}

function describe(e: ExampleRequest): string {
  const headers = Object.entries(e.headers)
    .map(([k, v]) => ` -H '${k}: ${v}'`)
    .join('')
  return clip(`${e.method} ${e.scheme}://${e.host}${e.path}${headers}`)
}

class Budget {
  used = 0
  exhausted = false
  take(n = 1): boolean {
    if (this.used + n > MAX_COMPARISONS) {
      this.exhausted = true
      return false
    }
    this.used += n
    return true
  }
}

/** Routes the router serves, split and ranked as it ranks them; invalid ones reported. */
function rankRoutes(payload: ConfigPayload, invalid: Map<string, string>): Ranked[] {
  const disabled = new Set(payload.services.filter((s) => !s.enabled).map((s) => s.id))
  const out: Ranked[] = []
  for (const route of payload.routes) {
    if (route.service !== null && disabled.has(route.service.id)) continue
    if (!route.protocols.some((p) => HTTP_FAMILY.has(p))) continue
    // Same check the router makes: a route with an invalid regex is left out of it.
    compileRouter([route], { onInvalidRoute: (_r, err) => invalid.set(route.id, err.message) })
    if (invalid.has(route.id)) continue
    for (const split of splitRoute(route)) out.push({ route, id: split.id, priority: priorityOf(split), paths: split.paths, rank: 0 })
  }
  out.sort((a, b) => comparePriority(a.priority, a.id, b.priority, b.id))
  for (let i = 0; i < out.length; i++) (out[i] as Ranked).rank = i
  return out
}

function partsOf(ranked: readonly Ranked[]): Part[] {
  const parts: Part[] = []
  for (const g of ranked) {
    if (g.paths === null || g.paths.length === 0) parts.push({ route: g.route, path: null, rank: g.rank })
    else for (const path of g.paths) parts.push({ route: g.route, path, rank: g.rank })
  }
  return parts
}

const NO_PATH = '\u0000'

/**
 * The parts indexed by what can cover a path (no path, a prefix, an identical regex) and, inside
 * that, by host and first header (`coverKeys`): a route is compared only with the routes filed
 * under its path's prefixes and its own host and header keys, not with every route before it.
 */
class CoverIndex {
  readonly #lists = new Map<string, Part[]>()
  readonly #prefixes = new Set<string>()

  constructor(parts: readonly Part[]) {
    for (const p of parts) {
      const pathKeys: string[] = []
      if (p.path === null) pathKeys.push(NO_PATH)
      else if (isRegexPath(p.path)) {
        pathKeys.push(`~${p.path}`)
        // A regex that is a prefix in disguise (`~/api/.*`) covers what that prefix covers.
        const prefix = regexAsPrefix(p.path)
        if (prefix === '') pathKeys.push(NO_PATH)
        else if (prefix !== null) pathKeys.push(prefix)
      } else pathKeys.push(normalizedPrefix(p.path))
      for (const pathKey of pathKeys) {
        if (pathKey !== NO_PATH && !pathKey.startsWith('~')) this.#prefixes.add(pathKey)
        for (const key of coverKeys(p.route)) push(this.#lists, `${pathKey}\u0002${key}`, p)
      }
    }
  }

  /**
   * The best-ranked part tried before `part` that covers it, or null. Each list is in rank
   * order, so each is walked only up to `part`'s rank or its first covering part.
   */
  firstCover(part: Part, budget: Budget): Part | null {
    const pathKeys = [NO_PATH]
    if (part.path !== null) {
      const literal = isRegexPath(part.path) ? literalPrefixOf(part.path) : normalizedPrefix(part.path)
      const n = Math.min(literal.length, MAX_PREFIX_SCAN)
      for (let i = 1; i <= n; i++) {
        const prefix = literal.slice(0, i)
        if (this.#prefixes.has(prefix)) pathKeys.push(prefix)
      }
      if (isRegexPath(part.path)) pathKeys.push(`~${part.path}`)
    }
    const keys = lookupKeys(part.route)
    let best: Part | null = null
    for (const pathKey of pathKeys) {
      for (const key of keys) {
        const list = this.#lists.get(`${pathKey}\u0002${key}`)
        if (list === undefined) continue
        for (const c of list) {
          if (c.rank >= part.rank || (best !== null && c.rank >= best.rank)) break
          if (c.route.id === part.route.id) continue
          if (!budget.take()) return best
          if (covers(c, part)) {
            best = c
            break
          }
        }
      }
    }
    return best
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

function pathLabel(path: string | null): string {
  return path === null ? '(any path)' : path
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`
}

/** `route-shadowed` findings; the pairs of routes found (shadowed, winner) are added to `pairs`. */
function shadowFindings(inScope: readonly Part[], index: CoverIndex, router: Router<Route>, budget: Budget, pairs: Set<string>): Finding[] {
  const byRoute = new Map<Route, { total: number; shadowed: { part: Part; by: Part; example: ExampleRequest; winner: Route }[] }>()
  for (const part of inScope) {
    let entry = byRoute.get(part.route)
    if (entry === undefined) byRoute.set(part.route, (entry = { total: 0, shadowed: [] }))
    entry.total++
    if (budget.exhausted) continue
    const by = index.firstCover(part, budget)
    if (by === null) continue
    const example = exampleRequest(part, by.route)
    if (example === null) continue
    // The claim is checked against the real router: the example must not reach this route.
    const m = router.match(matchInputOf(example))
    if (m === null || m.route.id === part.route.id) continue
    pairs.add(pairKey(part.route.id, by.route.id))
    entry.shadowed.push({ part, by, example, winner: m.route })
  }
  const findings: Finding[] = []
  for (const [route, { total, shadowed }] of byRoute) {
    if (shadowed.length === 0) continue
    const first = shadowed[0] as (typeof shadowed)[number]
    const all = shadowed.length === total
    const paths = shadowed.map((s) => pathLabel(s.part.path))
    findings.push({
      check: 'route-shadowed',
      severity: all ? 'error' : 'warn',
      subject: routeSubject(route),
      summary: all
        ? `${label(route)} can never be matched: ${label(first.by.route)} is tried first and accepts every request it accepts (e.g. ${describe(first.example)})`
        : `path${paths.length > 1 ? 's' : ''} ${clip(paths.map((p) => JSON.stringify(p)).join(', '))} of ${label(route)} can never be matched: ${label(first.by.route)} is tried first and accepts every such request`,
      fix: `make ${label(route)} more specific than ${label(first.by.route)} (a longer path, a host, a header or a method), narrow ${label(first.by.route)}, or give a regex path a higher regex_priority`,
      details: {
        example_request: first.example,
        winner: { id: first.winner.id, name: first.winner.name },
        shadowed_by: { id: first.by.route.id, name: first.by.route.name, path: first.by.path },
        paths,
      },
    })
  }
  return findings
}

function samePriority(a: PriorityKey, b: PriorityKey): boolean {
  return comparePriority(a, '', b, '') === 0
}

/** `route-conflict` findings for pairs not in `reported` (a shadowed pair is not reported twice). */
function conflictFindings(
  ranked: readonly Ranked[],
  scopeIds: ReadonlySet<string>,
  router: Router<Route>,
  budget: Budget,
  reported: Set<string>,
): Finding[] {
  const single = new Map<string, Router<Route>>()
  const accepts = (route: Route, e: ExampleRequest): boolean => {
    let r = single.get(route.id)
    if (r === undefined) single.set(route.id, (r = compileRouter([route])))
    return r.match(matchInputOf(e)) !== null
  }
  const findings: Finding[] = []
  let start = 0
  while (start < ranked.length && !budget.exhausted) {
    let end = start + 1
    const head = ranked[start] as Ranked
    while (end < ranked.length && samePriority((ranked[end] as Ranked).priority, head.priority)) end++
    if (end - start > 1) {
      // Same priority: overlapping requests need the same prefix (prefix groups have one length).
      const buckets = new Map<string, Part[]>()
      for (const part of partsOf(ranked.slice(start, end))) {
        const key = part.path === null ? '' : isRegexPath(part.path) ? '~' : normalizedPrefix(part.path)
        push(buckets, key, part)
      }
      for (const bucket of buckets.values()) {
        const list = bucket.slice(0, MAX_BUCKET)
        for (let i = 0; i < list.length; i++) {
          for (let j = i + 1; j < list.length; j++) {
            const a = list[i] as Part
            const b = list[j] as Part
            if (a.route.id === b.route.id) continue
            if (!scopeIds.has(a.route.id) && !scopeIds.has(b.route.id)) continue
            const pair = pairKey(a.route.id, b.route.id)
            if (reported.has(pair) || !budget.take()) continue
            const example = exampleRequest(a, b.route) ?? exampleRequest(b, a.route)
            if (example === null || !accepts(a.route, example) || !accepts(b.route, example)) continue
            const m = router.match(matchInputOf(example))
            if (m === null || (m.route.id !== a.route.id && m.route.id !== b.route.id)) continue
            reported.add(pair)
            const loser = m.route.id === a.route.id ? b.route : a.route
            findings.push({
              check: 'route-conflict',
              severity: 'warn',
              subject: routeSubject(loser),
              summary: `${label(a.route)} and ${label(b.route)} have the same priority and both accept ${describe(example)}: the router picks ${label(m.route)} by id order, not by anything configured`,
              fix: `make one of them more specific (a host, a header, a method, a longer path), or merge them`,
              details: {
                example_request: example,
                routes: [
                  { id: a.route.id, name: a.route.name },
                  { id: b.route.id, name: b.route.name },
                ],
                winner: { id: m.route.id, name: m.route.name },
              },
            })
          }
        }
      }
    }
    start = end
  }
  return findings
}

const SAMPLE_TAIL = 'users'

function stripPathFindings(routes: readonly Route[], services: ReadonlyMap<string, Service>): Finding[] {
  const findings: Finding[] = []
  for (const route of routes) {
    const paths = route.paths
    if (paths === null || paths.length === 0) continue
    const service = route.service === null ? null : (services.get(route.service.id) ?? null)
    const servicePath = service?.path ?? null
    const router = compileRouter([route])
    for (const path of paths.slice(0, MAX_PATHS_SHOWN)) {
      const part: RoutePart = { route, path }
      const tail = path.endsWith('/') ? SAMPLE_TAIL : `/${SAMPLE_TAIL}`
      const inPath = isRegexPath(path) ? examplePath(part) : examplePath(part, tail)
      const base = exampleRequest(part)
      if (inPath === null || base === null) continue
      const m = router.match(matchInputOf({ ...base, path: inPath }))
      if (m === null) continue
      const out = escapeUpstreamPath(joinUpstreamPath(servicePath, m))
      const traps: string[] = []
      if (route.strip_path && isRegexPath(path) && m.strippedPath === '')
        traps.push(`strip_path removes the whole match of the regex, so the upstream receives only ${JSON.stringify(servicePath ?? '/')}`)
      if (out.includes('//')) traps.push(`the upstream path ${JSON.stringify(out)} has a double slash`)
      if (route.path_handling === 'v1')
        traps.push("path_handling 'v1' does not work under the traditional_compatible router: the v0 rules shown here apply")
      const summary = `${base.method} ${clip(inPath)} → upstream ${clip(out)}${service === null ? ' (no service)' : ''}`
      const details: Record<string, unknown> = {
        example_in: inPath,
        example_out: out,
        strip_path: route.strip_path,
        service_path: servicePath,
      }
      if (route.strip_path && !isRegexPath(path) && !path.endsWith('/')) {
        // A prefix without a trailing slash also matches a longer segment: say what that becomes.
        const boundary = router.match(matchInputOf({ ...base, path: `${path}x` }))
        if (boundary !== null)
          details['note'] = `${path}x also matches and goes upstream as ${escapeUpstreamPath(joinUpstreamPath(servicePath, boundary))}`
      }
      findings.push({
        check: 'route-strip-path',
        severity: traps.length > 0 ? 'warn' : 'ok',
        subject: routeSubject(route),
        summary: traps.length > 0 ? `${summary}: ${traps.join('; ')}` : summary,
        ...(traps.length > 0
          ? {
              fix:
                route.path_handling === 'v1'
                  ? "set path_handling to 'v0'"
                  : 'adjust strip_path, the route path or the service path so the upstream gets the path it expects',
            }
          : {}),
        details,
      })
    }
  }
  return findings
}

const PROTOCOL_FIX: Readonly<Record<string, string>> = {
  http: 'add a plain entry to proxy_listen (e.g. 0.0.0.0:8000)',
  https: 'add an `ssl` entry to proxy_listen (e.g. 0.0.0.0:8443 ssl)',
  grpc: 'add `http2` to a plain proxy_listen entry (e.g. 0.0.0.0:9080 http2)',
  grpcs: 'add `ssl http2` to a proxy_listen entry (e.g. 0.0.0.0:8443 ssl http2)',
}

/** stream_listen is accepted (kong.conf loads unchanged) but no stream proxy runs yet. */
const STREAM_FIX =
  'stream routes (tcp, tls, udp, tls_passthrough) are not served by Turnpike yet (stream_listen is accepted but not implemented): put this traffic on an http/https route, or leave it on Kong'

function protocolFindings(routes: readonly Route[], listeners: ListenerFacts): Finding[] {
  const findings: Finding[] = []
  let ok = 0
  // Kong's default protocols (http and https) with only the TLS half unserved is a choice the
  // node's listeners made, not a fault: said once for all such routes, not warned about per route.
  const httpsHalf: Route[] = []
  for (const route of routes) {
    const missing = route.protocols.filter((p) => !listeners.protocols.has(p))
    if (missing.length === 0) {
      ok++
      continue
    }
    const all = missing.length === route.protocols.length
    if (!all && missing.length === 1 && missing[0] === 'https' && route.protocols.length === 2 && route.protocols.includes('http')) {
      httpsHalf.push(route)
      continue
    }
    const fixes = [...new Set(missing.map((p) => PROTOCOL_FIX[p] ?? STREAM_FIX))]
    const redirect = all && route.protocols.every((p) => p === 'https') && listeners.protocols.has('http')
    findings.push({
      check: 'route-protocols',
      severity: all ? 'error' : 'warn',
      subject: routeSubject(route),
      summary: `${label(route)} accepts ${missing.join(', ')} but no proxy listener serves ${missing.length > 1 ? 'them' : 'it'}${
        all
          ? redirect
            ? `: plain-http clients get ${route.https_redirect_status_code}, nobody reaches the route`
            : ': no request can reach it'
          : ''
      }`,
      fix: fixes.join('; '),
      details: { protocols: route.protocols, unserved: missing, listeners: [...listeners.protocols].sort() },
    })
  }
  if (httpsHalf.length > 0)
    findings.push({
      check: 'route-protocols',
      severity: 'ok',
      subject: httpsHalf.length === 1 ? routeSubject(httpsHalf[0] as Route) : { kind: 'node', id: null, name: null },
      summary: `${httpsHalf.length === 1 ? label(httpsHalf[0] as Route) : `${httpsHalf.length} routes`} accept${httpsHalf.length === 1 ? 's' : ''} https but no proxy listener serves it: served over plain http only`,
      fix: PROTOCOL_FIX['https'] as string,
      details: {
        unserved: ['https'],
        routes: httpsHalf.slice(0, 20).map((r) => r.name ?? r.id),
        listeners: [...listeners.protocols].sort(),
      },
    })
  if (ok > 0 && findings.length === 0)
    findings.push({
      check: 'route-protocols',
      severity: 'ok',
      subject: { kind: 'node', id: null, name: null },
      summary: `the proxy listeners serve the protocols of all ${ok} route${ok === 1 ? '' : 's'} checked`,
    })
  return findings
}

function noServiceFindings(routes: readonly Route[], payload: ConfigPayload): Finding[] {
  const findings: Finding[] = []
  for (const route of routes) {
    if (route.service !== null || terminatedRoute(payload, route.id)) continue
    findings.push({
      check: 'route-no-service',
      severity: 'warn',
      subject: routeSubject(route),
      summary: `${label(route)} has no service: requests matching it get 503 "no Service found with those values"`,
      fix: 'set the route’s service, or add a request-termination plugin if answering without an upstream is intended',
    })
  }
  return findings
}

function scopedRoutes(payload: ConfigPayload, scope: RouteCheckScope): { routes: Route[]; problem: string | null } {
  let routes = [...payload.routes]
  if (scope.service !== undefined) {
    const s = payload.services.find((x) => x.id === scope.service || x.name === scope.service)
    if (s === undefined) return { routes: [], problem: `no service has the id or name ${JSON.stringify(scope.service)}` }
    routes = routes.filter((r) => r.service?.id === s.id)
  }
  if (scope.route !== undefined) {
    routes = routes.filter((r) => r.id === scope.route || r.name === scope.route)
    if (routes.length === 0)
      return {
        routes,
        problem: `no route has the id or name ${JSON.stringify(scope.route)}${scope.service !== undefined ? ' in that service' : ''}`,
      }
  }
  return { routes, problem: null }
}

/**
 * Findings about the routes of `payload`: shadowed routes, equal-priority conflicts, the
 * strip_path/path effect, plugins that refuse every request, protocols no listener serves.
 */
export function checkRoutes(payload: ConfigPayload, listeners: ListenerFacts, scope: RouteCheckScope = {}): Finding[] {
  const { routes, problem } = scopedRoutes(payload, scope)
  if (problem !== null)
    return [
      {
        check: 'route-scope',
        severity: 'error',
        subject: { kind: 'node', id: null, name: null },
        summary: problem,
        fix: 'check the name or id given',
      },
    ]
  const everything = scope.service === undefined && scope.route === undefined
  const scopeIds = new Set(routes.map((r) => r.id))
  const serviceIds = new Set(
    payload.services.filter((s) => everything || s.id === scope.service || s.name === scope.service).map((s) => s.id),
  )
  for (const r of routes) if (r.service !== null) serviceIds.add(r.service.id)

  const invalid = new Map<string, string>()
  const ranked = rankRoutes(payload, invalid)
  const parts = partsOf(ranked)
  const router = compileRouter(ranked.map((g) => g.route).filter((r, i, all) => all.indexOf(r) === i))
  const budget = new Budget()
  const index = new CoverIndex(parts)
  const pairs = new Set<string>()

  const findings: Finding[] = []
  for (const route of routes) {
    const message = invalid.get(route.id)
    if (message === undefined) continue
    findings.push({
      check: 'route-invalid',
      severity: 'error',
      subject: routeSubject(route),
      summary: `${label(route)} is left out of the router: ${message}`,
      fix: 'fix the regex path (Kong runs it with the Rust regex syntax)',
    })
  }
  const shadow = shadowFindings(
    parts.filter((p) => scopeIds.has(p.route.id)),
    index,
    router,
    budget,
    pairs,
  )
  findings.push(...shadow)
  findings.push(...conflictFindings(ranked, scopeIds, router, budget, pairs))
  if (shadow.length === 0 && !budget.exhausted)
    findings.push({
      check: 'route-shadowed',
      severity: 'ok',
      subject: { kind: 'node', id: null, name: null },
      summary: `no shadowed route among the ${routes.length} route${routes.length === 1 ? '' : 's'} checked`,
    })
  if (budget.exhausted)
    findings.push({
      check: 'route-shadowed',
      severity: 'ok',
      subject: { kind: 'node', id: null, name: null },
      summary: `analysis limited to ${MAX_COMPARISONS} route comparisons: some shadowed or conflicting routes may not be reported`,
      details: { comparisons: budget.used },
    })
  const services = new Map(payload.services.map((s) => [s.id, s]))
  findings.push(...stripPathFindings(routes, services))
  findings.push(...protocolFindings(routes, listeners))
  findings.push(...checkPlugins(payload, scopeIds, serviceIds, everything))
  findings.push(...noServiceFindings(routes, payload))
  return findings
}
