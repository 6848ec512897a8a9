/**
 * The compiled router: routes are indexed by host (exact, wildcard suffix, wildcard prefix,
 * none) and, inside each host bucket, by path prefix in a radix tree. A request visits at most
 * a handful of buckets and walks each tree along its path, testing only the routes whose host
 * and path key already fit, best rank first.
 *
 * @module
 */

import type { BoundedRegex } from '../../regex/bounded-regex.js'
import type { MatchInput, RouteExplanation, RouteInput, RouteMatch, Router } from '../types.js'
import { explainRoutes } from './explain.js'
import { compileRoute, fieldsMatch, rankRoutes, type CompiledRoute } from './compiled-route.js'
import { canonicalHost, HOST_EXACT, HOST_SUFFIX } from './hosts.js'
import { normalizePath } from './normalize-path.js'
import { insertPath, nextPathNode, PathNode, sortPathTree } from './path-tree.js'
import { splitRoute } from './priority.js'
import { sanitizePostfix } from './upstream-path.js'

/** Options of `compileRouter`. */
export interface CompileRouterOptions<R extends RouteInput> {
  /** Called for a route Kong would drop from the router (e.g. an invalid regex); it is skipped. */
  readonly onInvalidRoute?: (route: R, error: Error) => void
}

const HTTP_PROTOCOLS = new Set(['http', 'https', 'grpc', 'grpcs'])

function isHttpRoute(route: RouteInput): boolean {
  return route.protocols.some((p) => HTTP_PROTOCOLS.has(p))
}

type Tree<R extends RouteInput> = PathNode<CompiledRoute<R>>

function treeFor<R extends RouteInput>(map: Map<string, Tree<R>>, key: string): Tree<R> {
  let tree = map.get(key)
  if (tree === undefined) {
    tree = new PathNode<CompiledRoute<R>>('')
    map.set(key, tree)
  }
  return tree
}

function isDigitsFrom(text: string, start: number): boolean {
  if (start >= text.length) return false
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

class CompiledRouter<R extends RouteInput> implements Router<R> {
  readonly size: number
  readonly #noHost: Tree<R>
  readonly #exact = new Map<string, Tree<R>>()
  readonly #suffix = new Map<string, Tree<R>>()
  readonly #prefix = new Map<string, Tree<R>>()
  /** Every compiled route in rank order, for `explain()` only. */
  readonly #ranked: readonly CompiledRoute<R>[]

  // Per-call scratch state: match() is synchronous, so one set of fields is enough and saves
  // allocating a result holder per candidate.
  #bestRank = 0
  #best: CompiledRoute<R> | null = null
  #bestPath: string | null = null
  #bestExec: RegExpExecArray | null = null

  constructor(routes: readonly CompiledRoute<R>[]) {
    this.size = routes.length
    this.#ranked = routes
    this.#noHost = new PathNode<CompiledRoute<R>>('')
    for (const cr of routes) {
      const trees = new Set<Tree<R>>()
      if (cr.hosts === null) trees.add(this.#noHost)
      else {
        for (const h of cr.hosts) {
          const map = h.kind === HOST_EXACT ? this.#exact : h.kind === HOST_SUFFIX ? this.#suffix : this.#prefix
          trees.add(treeFor(map, h.value))
        }
      }
      for (const tree of trees) for (const key of cr.pathKeys) insertPath(tree, key, cr)
    }
    const byRank = (a: CompiledRoute<R>, b: CompiledRoute<R>): number => a.rank - b.rank
    sortPathTree(this.#noHost, byRank)
    for (const map of [this.#exact, this.#suffix, this.#prefix]) for (const t of map.values()) sortPathTree(t, byRank)
  }

  match(input: MatchInput): RouteMatch<R> | null {
    const path = normalizePath(input.path)
    if (path === null) return null

    let rawHost = input.host
    let port = input.port
    const colon = rawHost.indexOf(':')
    if (colon !== -1 && isDigitsFrom(rawHost, colon + 1)) {
      port = Number(rawHost.slice(colon + 1))
      rawHost = rawHost.slice(0, colon)
    }
    const host = canonicalHost(rawHost)

    this.#bestRank = Number.POSITIVE_INFINITY
    this.#best = null
    this.#bestPath = null
    this.#bestExec = null

    this.#scan(this.#noHost, input, path, host, port)
    if (this.#exact.size > 0) {
      const tree = this.#exact.get(host)
      if (tree !== undefined) this.#scan(tree, input, path, host, port)
    }
    if (this.#suffix.size > 0) {
      for (let p = host.indexOf('.'); p !== -1; p = host.indexOf('.', p + 1)) {
        const tree = this.#suffix.get(host.slice(p))
        if (tree !== undefined) this.#scan(tree, input, path, host, port)
      }
    }
    if (this.#prefix.size > 0) {
      for (let p = host.indexOf('.'); p !== -1; p = host.indexOf('.', p + 1)) {
        const tree = this.#prefix.get(host.slice(0, p + 1))
        if (tree !== undefined) this.#scan(tree, input, path, host, port)
      }
    }

    // Read back through a widened type: TS keeps the `null` assigned above despite the #scan calls.
    const best = this.#best as CompiledRoute<R> | null
    if (best === null) return null
    return buildMatch(best.route, path, this.#bestPath, this.#bestExec)
  }

  explain(input: MatchInput): RouteExplanation<R> {
    return explainRoutes(this.#ranked, input)
  }

  #scan(root: Tree<R>, input: MatchInput, path: string, host: string, port: number): void {
    let node: Tree<R> | null = root
    let offset = 0
    while (node !== null) {
      const items = node.items
      if (items !== null) {
        for (let i = 0; i < items.length; i++) {
          const cr = items[i] as CompiledRoute<R>
          if (cr.rank >= this.#bestRank) break
          if (this.#tryRoute(cr, input, path, host, port)) break
        }
      }
      node = nextPathNode(node, path, offset)
      if (node !== null) offset += node.label.length
    }
  }

  #tryRoute(cr: CompiledRoute<R>, input: MatchInput, path: string, host: string, port: number): boolean {
    if (!fieldsMatch(cr, input, host, port)) return false
    let matched: string | null = null
    let exec: RegExpExecArray | null = null
    if (cr.prefixes !== null) {
      for (let i = 0; i < cr.prefixes.length && matched === null; i++) {
        const p = cr.prefixes[i] as string
        if (path.startsWith(p)) matched = p
      }
      if (matched === null) return false
    } else if (cr.regexes !== null) {
      // Kong's expression ORs the regexes in the route's order: the first that matches wins.
      for (let i = 0; i < cr.regexes.length && exec === null; i++) exec = (cr.regexes[i] as BoundedRegex).exec(path)
      if (exec === null) return false
      matched = exec[0]
    }
    this.#bestRank = cr.rank
    this.#best = cr
    this.#bestPath = matched
    this.#bestExec = exec
    return true
  }
}

function capturesOf(exec: RegExpExecArray | null): Record<string, string> | null {
  // Kong exposes uri_captures only when the regex has groups besides the whole match.
  if (exec === null || (exec.length < 2 && exec.groups === undefined)) return null
  const captures: Record<string, string> = {}
  for (let i = 0; i < exec.length; i++) {
    const v = exec[i]
    if (v !== undefined) captures[String(i)] = v
  }
  if (exec.groups !== undefined) {
    for (const [name, v] of Object.entries(exec.groups)) if (v !== undefined) captures[name] = v
  }
  return captures
}

function buildMatch<R extends RouteInput>(route: R, path: string, matched: string | null, exec: RegExpExecArray | null): RouteMatch<R> {
  let prefix = '/'
  let strippedPath = path
  if (route.strip_path) {
    // Without a matched path (host-only routes) Kong strips the leading "/" only.
    const cut = matched === null ? 1 : matched.length
    if (matched !== null && matched !== '') prefix = matched
    strippedPath = sanitizePostfix(path.slice(cut))
  }
  return { route, path, strippedPath, prefix, captures: capturesOf(exec) }
}

/**
 * Compiles routes into an immutable router with Kong 3.9 `traditional_compatible` semantics.
 * Routes for stream protocols only (tcp, tls, udp, tls_passthrough) are left out.
 */
export function compileRouter<R extends RouteInput>(routes: readonly R[], options: CompileRouterOptions<R> = {}): Router<R> {
  const compiled: CompiledRoute<R>[] = []
  for (const route of routes) {
    if (!isHttpRoute(route)) continue
    try {
      const parts = splitRoute(route).map((part) => compileRoute(part))
      compiled.push(...parts)
    } catch (err) {
      options.onInvalidRoute?.(route, err instanceof Error ? err : new Error(String(err)))
    }
  }
  rankRoutes(compiled)
  return new CompiledRouter(compiled)
}
