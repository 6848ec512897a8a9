/**
 * A route prepared for matching: every field turned into the cheapest form to test.
 *
 * @module
 */

import type { MatchInput, RouteInput } from '../types.js'
import { hostMatches, parseHostEntry, type HostEntry } from './hosts.js'
import { normalizePath } from './normalize-path.js'
import { comparePriority, isRegexPath, priorityOf, type PriorityKey, type SplitRoute } from './priority.js'
import { boundedRegex, type BoundedRegex } from '../../regex/bounded-regex.js'
import { compilePathRegex, literalPrefixOf, toByteString } from './regex-path.js'

/** One header condition: the request must carry the header with one of the accepted values. */
export interface HeaderRule {
  /** Lower-case request header name (`_` in the route's name read as `-`, as nginx does). */
  readonly name: string
  /** Accepted lower-case values compared for equality. */
  readonly values: readonly string[]
  /** `~*` values: lower-cased patterns, unanchored search on the lower-cased request value. */
  readonly patterns: readonly BoundedRegex[]
}

export interface CompiledRoute<R extends RouteInput> {
  /** Position in the global priority order: lower is tried first. */
  rank: number
  readonly id: string
  readonly route: R
  readonly priority: PriorityKey
  readonly methods: readonly string[] | null
  readonly hosts: readonly HostEntry[] | null
  readonly headers: readonly HeaderRule[] | null
  readonly snis: readonly string[] | null
  /** Normalized prefix paths (all the same length after splitting). */
  readonly prefixes: readonly string[] | null
  readonly regexes: readonly BoundedRegex[] | null
  /** Keys under which the route is indexed in the path tree (`''` = every path). */
  readonly pathKeys: readonly string[]
}

function nonEmpty<T>(list: readonly T[] | null | undefined): list is readonly T[] {
  return list !== null && list !== undefined && list.length > 0
}

function compileHeaders(headers: RouteInput['headers']): HeaderRule[] | null {
  if (headers === null) return null
  const rules: HeaderRule[] = []
  for (const [rawName, rawValues] of Object.entries(headers)) {
    const values: string[] = []
    const patterns: BoundedRegex[] = []
    for (const v of rawValues) {
      // Kong lower-cases the whole value, the regex source included.
      if (v.startsWith('~*')) patterns.push(boundedRegex(v.slice(2).toLowerCase()))
      else values.push(v.toLowerCase())
    }
    rules.push({ name: rawName.toLowerCase().replace(/_/g, '-'), values, patterns })
  }
  return rules.length === 0 ? null : rules
}

export function stripTrailingDot(sni: string): string {
  return sni.length > 1 && sni.endsWith('.') ? sni.slice(0, -1) : sni
}

/** Prepares a (split) route; throws `RoutePathRegexError` on an invalid regex path. */
export function compileRoute<R extends RouteInput>(split: SplitRoute<R>): CompiledRoute<R> {
  const r = split.route
  const prefixes: string[] = []
  const regexes: BoundedRegex[] = []
  const keys = new Set<string>()
  for (const p of split.paths ?? []) {
    if (isRegexPath(p)) {
      regexes.push(compilePathRegex(p))
      keys.add(literalPrefixOf(p))
    } else {
      // Request paths are normalized; a route prefix is compared in the same form.
      const normalized = normalizePath(toByteString(p)) ?? toByteString(p)
      prefixes.push(normalized)
      keys.add(normalized)
    }
  }
  if (keys.size === 0) keys.add('')
  return {
    rank: 0,
    id: split.id,
    route: r,
    priority: priorityOf(split),
    methods: nonEmpty(r.methods) ? r.methods : null,
    hosts: nonEmpty(r.hosts) ? r.hosts.map(parseHostEntry) : null,
    headers: compileHeaders(r.headers),
    snis: nonEmpty(r.snis) ? r.snis.map((s) => stripTrailingDot(s).toLowerCase()) : null,
    prefixes: prefixes.length > 0 ? prefixes : null,
    regexes: regexes.length > 0 ? regexes : null,
    pathKeys: [...keys],
  }
}

/** Sorts routes in Kong's priority order and records each one's rank. */
export function rankRoutes<R extends RouteInput>(routes: CompiledRoute<R>[]): void {
  routes.sort((a, b) => comparePriority(a.priority, a.id, b.priority, b.id))
  for (let i = 0; i < routes.length; i++) (routes[i] as CompiledRoute<R>).rank = i
}

export function headerValueMatches(rule: HeaderRule, value: string): boolean {
  const v = value.toLowerCase()
  const values = rule.values
  for (let i = 0; i < values.length; i++) if (values[i] === v) return true
  const patterns = rule.patterns
  for (let i = 0; i < patterns.length; i++) if ((patterns[i] as BoundedRegex).test(v)) return true
  return false
}

function headersMatch(rules: readonly HeaderRule[], headers: MatchInput['headers']): boolean {
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as HeaderRule
    const value = headers[rule.name]
    if (value === undefined) return false
    if (typeof value === 'string') {
      if (!headerValueMatches(rule, value)) return false
    } else {
      let any = false
      for (let j = 0; j < value.length && !any; j++) any = headerValueMatches(rule, value[j] as string)
      if (!any) return false
    }
  }
  return true
}

/**
 * Kong's `tls.sni` conditions (router/transform.lua): `*.example.com` matches names ending in
 * `.example.com`, `example.*` names starting with `example.`, anything else the name exactly.
 */
export function sniMatches(snis: readonly string[], sni: string): boolean {
  for (const s of snis) {
    if (s.startsWith('*') ? sni.endsWith(s.slice(1)) : s.endsWith('*') ? sni.startsWith(s.slice(0, -1)) : sni === s) return true
  }
  return false
}

/**
 * Tests every condition except the path. `host` is the canonical request host, `port` the
 * Host header's port or the listener port.
 */
export function fieldsMatch(cr: CompiledRoute<RouteInput>, input: MatchInput, host: string, port: number): boolean {
  const methods = cr.methods
  if (methods !== null) {
    let found = false
    for (let i = 0; i < methods.length && !found; i++) found = methods[i] === input.method
    if (!found) return false
  }
  if (cr.hosts !== null && !hostMatches(cr.hosts, host, port)) return false
  // SNIs only count on https requests (Kong #6425).
  if (cr.snis !== null && input.scheme === 'https') {
    const sni = input.sni === undefined ? '' : stripTrailingDot(input.sni).toLowerCase()
    if (!sniMatches(cr.snis, sni)) return false
  }
  if (cr.headers !== null && !headersMatch(cr.headers, input.headers)) return false
  return true
}
