/**
 * The router's explanation of one request: every compiled route in priority order with the reason
 * it did or did not match, for `turnpike trace`. It reads the same compiled routes `match()` uses,
 * tests them one by one (no index), and is never on a request's path.
 *
 * @module
 */
import type { BoundedRegex } from '../../regex/bounded-regex.js'
import type { MatchInput, RouteExplanation, RouteInput, RouteVerdict } from '../types.js'
import { fieldsMatch, headerValueMatches, sniMatches, stripTrailingDot, type CompiledRoute, type HeaderRule } from './compiled-route.js'
import { canonicalHost, hostMatches, HOST_EXACT, HOST_SUFFIX, type HostEntry } from './hosts.js'
import { normalizePath } from './normalize-path.js'
import { isRegexPath } from './priority.js'

/** Longest text of a request value quoted in a reason. */
const SHOWN = 80

function shown(text: string): string {
  return text.length > SHOWN ? `${text.slice(0, SHOWN)}…` : text
}

function list(items: readonly string[]): string {
  const head = items.slice(0, 8).map(shown)
  return `[${head.join(', ')}${items.length > 8 ? `, … ${items.length - 8} more` : ''}]`
}

function hostText(e: HostEntry): string {
  const h = e.kind === HOST_EXACT ? e.value : e.kind === HOST_SUFFIX ? `*${e.value}` : `${e.value}*`
  return e.port === -1 ? h : `${h}:${e.port}`
}

function splitHost(input: MatchInput): { host: string; port: number } {
  let rawHost = input.host
  let port = input.port
  const colon = rawHost.indexOf(':')
  if (colon !== -1 && /^\d+$/.test(rawHost.slice(colon + 1))) {
    port = Number(rawHost.slice(colon + 1))
    rawHost = rawHost.slice(0, colon)
  }
  return { host: canonicalHost(rawHost), port }
}

function headerReasons(rules: readonly HeaderRule[], headers: MatchInput['headers']): string[] {
  const out: string[] = []
  for (const rule of rules) {
    const accepted = [...rule.values, ...rule.patterns.map((p) => `~*${p.source}`)]
    const value = headers[rule.name]
    if (value === undefined) {
      out.push(`header ${rule.name} missing (route wants ${list(accepted)})`)
      continue
    }
    const values = typeof value === 'string' ? [value] : value
    if (!values.some((v) => headerValueMatches(rule, v)))
      out.push(`header ${rule.name}: ${shown(values.join(', '))} not in ${list(accepted)}`)
  }
  return out
}

/** Why each field of `cr` does (not) fit the request: empty when every field but the path fits. */
function fieldReasons(cr: CompiledRoute<RouteInput>, input: MatchInput, host: string, port: number): string[] {
  const out: string[] = []
  if (cr.methods !== null && !cr.methods.includes(input.method)) out.push(`method ${shown(input.method)} not in ${list(cr.methods)}`)
  if (cr.hosts !== null && !hostMatches(cr.hosts, host, port)) {
    const withPort = cr.hosts.some((h) => h.port !== -1)
    out.push(`host ${shown(host === '' ? '(none)' : host)}${withPort ? `:${port}` : ''} not in ${list(cr.hosts.map(hostText))}`)
  }
  if (cr.snis !== null && input.scheme === 'https') {
    const sni = stripTrailingDot(input.sni ?? '').toLowerCase()
    if (!sniMatches(cr.snis, sni)) out.push(`sni ${shown(sni === '' ? '(none)' : sni)} not in ${list(cr.snis)}`)
  }
  if (cr.headers !== null) out.push(...headerReasons(cr.headers, input.headers))
  return out
}

/** The path condition: the matched text, or why it fails. */
function pathVerdict(cr: CompiledRoute<RouteInput>, path: string): { matched: string | null; reason: string | null } {
  if (cr.prefixes !== null) {
    for (const p of cr.prefixes) if (path.startsWith(p)) return { matched: p, reason: null }
    const what = cr.prefixes.length === 1 ? (cr.prefixes[0] as string) : `any of ${list(cr.prefixes)}`
    return { matched: null, reason: `path ${shown(path)} does not start with ${what}` }
  }
  if (cr.regexes !== null) {
    for (const r of cr.regexes) {
      const m = (r as BoundedRegex).exec(path)
      if (m !== null) return { matched: m[0], reason: null }
    }
    // All of a route's regex paths form one group: the route's own spelling of them.
    const sources = (cr.route.paths ?? []).filter(isRegexPath)
    return { matched: null, reason: `path ${shown(path)} does not match ${sources.length === 1 ? sources[0] : `any of ${list(sources)}`}` }
  }
  return { matched: '', reason: null }
}

/**
 * Explains `input` against routes already in rank order. The first route with no reason is the
 * one `match()` picks; `fieldsMatch` is asked too, so the verdict cannot drift from the matcher.
 */
export function explainRoutes<R extends RouteInput>(ranked: readonly CompiledRoute<R>[], input: MatchInput): RouteExplanation<R> {
  const path = normalizePath(input.path)
  const { host, port } = splitHost(input)
  const verdicts: RouteVerdict<R>[] = []
  let winner: RouteVerdict<R> | null = null
  for (const cr of ranked) {
    const reasons = fieldReasons(cr, input, host, port)
    let matchedPath: string | null = null
    if (path === null) reasons.push('the request path has invalid percent-encoding (answered 400 before routing)')
    else {
      const v = pathVerdict(cr, path)
      if (v.reason !== null) reasons.push(v.reason)
      matchedPath = v.matched
    }
    const fits = reasons.length === 0 && path !== null && fieldsMatch(cr, input, host, port)
    if (reasons.length === 0 && !fits) reasons.push('does not fit the request')
    if (fits && winner !== null) reasons.push(`would match too, but ranks after the chosen route (position ${winner.rank})`)
    const verdict: RouteVerdict<R> = {
      route: cr.route,
      rank: cr.rank,
      priority: cr.priority,
      matched: fits && winner === null,
      reasons,
      matchedPath,
    }
    if (verdict.matched) winner = verdict
    verdicts.push(verdict)
  }
  return { path, host, port, winner, verdicts }
}
