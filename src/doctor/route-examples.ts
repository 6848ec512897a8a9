/**
 * Example requests for the route checks: a request a route (restricted to one of its paths)
 * accepts, and whether one route's conditions cover another's (every request the second accepts,
 * the first accepts too). Conservative: "covers" is only claimed when it is certain; anything it
 * cannot prove (regex against regex, header patterns) is "does not cover".
 *
 * The router's own rules are used (exported by src/router/ for this): the doctor asks the same
 * questions the router answers, with no second copy of the matching rules here.
 *
 * @module
 */
import {
  canonicalHost,
  compilePathRegex,
  HOST_EXACT,
  HOST_PREFIX,
  HOST_SUFFIX,
  isRegexPath,
  literalPrefixOf,
  normalizePath,
  parseHostEntry,
  toByteString,
  type HostEntry,
  type MatchInput,
  type RouteInput,
} from '../router/index.js'

/** What the doctor reports as an example request (headers lower-case). */
export interface ExampleRequest {
  readonly method: string
  readonly scheme: 'http' | 'https'
  readonly host: string
  readonly path: string
  readonly headers: Readonly<Record<string, string>>
  readonly sni?: string
}

/** A route restricted to one path (or none), as the checks reason about it. */
export interface RoutePart {
  readonly route: RouteInput
  /** The configured path, or null for a route without paths. */
  readonly path: string | null
}

const REGEX_FILLERS = ['', '1', 'a', '/', '/1', '/a', 'x/1', '123', 'abc', '-', '_', '.json']

/** One host from a `hosts` entry: itself, `www.` + a suffix wildcard, a prefix wildcard + `com`. */
export function exampleHost(entry: string): string {
  const e = parseHostEntry(entry)
  const host = e.kind === HOST_EXACT ? e.value : e.kind === HOST_SUFFIX ? `www${e.value}` : `${e.value}com`
  return e.port === -1 ? host : `${host}:${e.port}`
}

/** A path the regex route path accepts (the literal prefix plus a few fillers), or null. */
export function exampleRegexPath(path: string): string | null {
  let re
  try {
    re = compilePathRegex(path)
  } catch {
    return null
  }
  const prefix = literalPrefixOf(path)
  const bases = prefix === '' ? ['/'] : [prefix]
  for (const base of bases) {
    for (const fill of REGEX_FILLERS) {
      const candidate = base + fill
      if (!candidate.startsWith('/')) continue
      const normalized = normalizePath(candidate)
      if (normalized !== null && re.test(normalized)) return candidate
    }
  }
  return null
}

/** A request path the part accepts: the prefix itself, or an example of the regex; null if none found. */
export function examplePath(part: RoutePart, tail = ''): string | null {
  if (part.path === null) return `/${tail}`
  if (isRegexPath(part.path)) return exampleRegexPath(part.path)
  return part.path + tail
}

function exampleHeaderValue(values: readonly string[]): string | null {
  for (const v of values) if (!v.startsWith('~*')) return v
  return null
}

/**
 * A request `part` accepts, built from its first method, host, header values and path; `prefer`
 * picks values another route also accepts when there is a choice. Null when no example could be
 * built (a header with only regex values, a regex path none of the fillers satisfies).
 */
export function exampleRequest(part: RoutePart, prefer?: RouteInput): ExampleRequest | null {
  const r = part.route
  const path = examplePath(part)
  if (path === null) return null
  const methods = r.methods !== null && r.methods.length > 0 ? r.methods : null
  const otherMethods = prefer?.methods !== null && prefer?.methods !== undefined && prefer.methods.length > 0 ? prefer.methods : null
  const method = methods === null ? (otherMethods?.[0] ?? 'GET') : (methods.find((m) => otherMethods?.includes(m) ?? true) ?? methods[0])
  let host = 'example.test'
  const hosts = r.hosts !== null && r.hosts.length > 0 ? r.hosts : null
  const otherHosts = prefer?.hosts !== null && prefer?.hosts !== undefined && prefer.hosts.length > 0 ? prefer.hosts : null
  if (hosts !== null) {
    const candidates = hosts.map(exampleHost)
    const otherEntries = otherHosts?.map(parseHostEntry) ?? null
    host = candidates.find((h) => otherEntries === null || hostAccepted(otherEntries, h)) ?? (candidates[0] as string)
  } else if (otherHosts !== null) {
    host = exampleHost(otherHosts[0] as string)
  }
  const headers: Record<string, string> = Object.create(null) as Record<string, string>
  for (const source of prefer === undefined ? [r] : [prefer, r]) {
    for (const [name, values] of Object.entries(source.headers ?? {})) {
      const v = exampleHeaderValue(values)
      if (v === null) {
        if (source === r) return null
        continue
      }
      headers[name.toLowerCase().replace(/_/g, '-')] = v
    }
  }
  const https = !r.protocols.includes('http') && !r.protocols.includes('grpc')
  const snis = r.snis !== null && r.snis.length > 0 ? r.snis : null
  const base = { method: method ?? 'GET', scheme: https ? ('https' as const) : ('http' as const), host, path, headers }
  if (snis === null || !https) return base
  const sni = snis[0] as string
  return { ...base, sni: sni.startsWith('*') ? `www${sni.slice(1)}` : sni.endsWith('*') ? `${sni}com`.replace('*', '') : sni }
}

function hostAccepted(entries: readonly HostEntry[], hostWithPort: string): boolean {
  const colon = hostWithPort.indexOf(':')
  const host = canonicalHost(colon === -1 ? hostWithPort : hostWithPort.slice(0, colon))
  const port = colon === -1 ? -1 : Number(hostWithPort.slice(colon + 1))
  return entries.some((e) => {
    if (e.port !== -1 && e.port !== port) return false
    if (e.kind === HOST_EXACT) return host === e.value
    if (e.kind === HOST_SUFFIX) return host.endsWith(e.value)
    return host.startsWith(e.value)
  })
}

/** The router's input for an example (port 80/443 unless the Host names one). */
export function matchInputOf(example: ExampleRequest): MatchInput {
  return {
    method: example.method,
    scheme: example.scheme,
    host: example.host,
    port: example.scheme === 'https' ? 443 : 80,
    path: example.path,
    headers: example.headers,
    sni: example.sni,
  }
}

function listCovers(wide: readonly string[] | null, narrow: readonly string[] | null): boolean {
  if (wide === null || wide.length === 0) return true
  if (narrow === null || narrow.length === 0) return false
  return narrow.every((n) => wide.includes(n))
}

/** Whether host entry `w` accepts every host `n` accepts. */
function hostEntryCovers(w: HostEntry, n: HostEntry): boolean {
  if (w.port !== -1 && w.port !== n.port) return false
  if (w.kind === HOST_EXACT) return n.kind === HOST_EXACT && n.value === w.value
  if (w.kind === HOST_SUFFIX) return (n.kind === HOST_EXACT || n.kind === HOST_SUFFIX) && n.value.endsWith(w.value)
  return (n.kind === HOST_EXACT || n.kind === HOST_PREFIX) && n.value.startsWith(w.value)
}

/** A route's conditions in the form coverage compares, computed once per route. */
interface Facts {
  readonly hosts: readonly HostEntry[] | null
  /** Header name as the request carries it → lower-cased accepted values. */
  readonly headers: ReadonlyMap<string, ReadonlySet<string>> | null
  readonly snis: readonly string[] | null
}

const FACTS = new WeakMap<RouteInput, Facts>()

function factsOf(r: RouteInput): Facts {
  let f = FACTS.get(r)
  if (f === undefined) {
    let headers: Map<string, Set<string>> | null = null
    for (const [name, values] of Object.entries(r.headers ?? {})) {
      headers ??= new Map()
      headers.set(name.toLowerCase().replace(/_/g, '-'), new Set(values.map((v) => v.toLowerCase())))
    }
    f = {
      hosts: r.hosts !== null && r.hosts.length > 0 ? r.hosts.map(parseHostEntry) : null,
      headers,
      snis: r.snis !== null && r.snis.length > 0 ? r.snis.map((s) => s.toLowerCase()) : null,
    }
    FACTS.set(r, f)
  }
  return f
}

function product(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = []
  for (const x of a) for (const y of b) out.push(`${x}\u0001${y}`)
  return out
}

/**
 * The keys a route is filed under as a possible coverer: by its exact hosts (`*` when it has a
 * wildcard, `''` when none) and by the values of its first header (`''` when none). A route that
 * covers another is found under one of that route's {@link lookupKeys}.
 */
export function coverKeys(r: RouteInput): string[] {
  const f = factsOf(r)
  const hosts =
    f.hosts === null ? [''] : f.hosts.some((h) => h.kind !== HOST_EXACT) ? ['*'] : [...new Set(f.hosts.map((h) => `=${h.value}`))]
  let headers = ['']
  if (f.headers !== null) {
    const first = [...f.headers.keys()].sort()[0] as string
    headers = [...(f.headers.get(first) ?? [])].map((v) => `${first}\u0000${v}`)
  }
  return product(hosts, headers)
}

/** The keys under which the routes that may cover `r` are filed (see {@link coverKeys}). */
export function lookupKeys(r: RouteInput): string[] {
  const f = factsOf(r)
  const hosts = ['']
  if (f.hosts !== null) {
    hosts.push('*')
    const first = f.hosts[0] as HostEntry
    if (first.kind === HOST_EXACT) hosts.push(`=${first.value}`)
  }
  const headers = ['']
  for (const [name, values] of f.headers ?? []) {
    const v = values.values().next()
    if (v.done !== true) headers.push(`${name}\u0000${v.value}`)
  }
  return product(hosts, headers)
}

function hostsCover(wide: Facts, narrow: Facts): boolean {
  const w = wide.hosts
  if (w === null) return true
  if (narrow.hosts === null) return false
  return narrow.hosts.every((n) => w.some((e) => hostEntryCovers(e, n)))
}

function headersCover(wide: Facts, narrow: Facts): boolean {
  if (wide.headers === null) return true
  if (narrow.headers === null) return false
  for (const [name, values] of wide.headers) {
    const n = narrow.headers.get(name)
    if (n === undefined) return false
    for (const v of n) if (!values.has(v)) return false
  }
  return true
}

/** The normalized form a prefix path is compared in. */
export function normalizedPrefix(path: string): string {
  const bytes = toByteString(path)
  return normalizePath(bytes) ?? bytes
}

const LITERAL_REGEX = /^(?:[^\\.[\]()*+?{}|^$]|\\[^A-Za-z0-9])*$/
const ANYTHING_AFTER = /(?:\.\*|\(\.\*\)|\(\?P?<[A-Za-z_][A-Za-z0-9_]*>\.\*\))?\$?$/

/**
 * The prefix a regex path behaves as, when it is one: a literal followed by nothing or by `.*`
 * (`~/api`, `~/api/.*`, `~/api/(?<rest>.*)$`); null otherwise. Such a regex outranks every prefix
 * route of the same weight, the classic way a route ends up shadowed.
 */
export function regexAsPrefix(path: string): string | null {
  const source = toByteString(path.slice(1)).replace(/^\^+/, '')
  const tail = ANYTHING_AFTER.exec(source)
  if (tail === null) return null
  // `$` alone would anchor the end: an exact path, not a prefix.
  if (tail[0].endsWith('$') && !tail[0].includes('*')) return null
  const head = source.slice(0, source.length - tail[0].length)
  if (!LITERAL_REGEX.test(head)) return null
  return head.replace(/\\(.)/g, '$1')
}

/** What a path accepts, for coverage: every path starting with a prefix, or an opaque regex. */
function prefixForm(path: string): string | null {
  if (!isRegexPath(path)) return normalizedPrefix(path)
  // A regex is anchored at the start: every path it matches starts with its literal prefix.
  if (toByteString(path.slice(1)).startsWith('(?i)')) return null
  return regexAsPrefix(path)
}

/** Whether `wide`'s path accepts every path `narrow`'s path accepts. */
function pathCovers(wide: string | null, narrow: string | null): boolean {
  if (wide === null) return true
  if (narrow === null) return false
  if (wide === narrow) return true
  const w = prefixForm(wide)
  if (w === null) return false
  if (!isRegexPath(narrow)) return normalizedPrefix(narrow).startsWith(w)
  if (toByteString(narrow.slice(1)).startsWith('(?i)')) return false
  return literalPrefixOf(narrow).startsWith(w)
}

/**
 * Whether every request `narrow` accepts is accepted by `wide` (methods, hosts, headers, SNIs
 * and path). Protocols play no part: the router does not filter http-family routes by scheme.
 */
export function covers(wide: RoutePart, narrow: RoutePart): boolean {
  const w = wide.route
  const n = narrow.route
  if (!listCovers(w.methods, n.methods)) return false
  const wf = factsOf(w)
  const nf = factsOf(n)
  return hostsCover(wf, nf) && headersCover(wf, nf) && listCovers(wf.snis, nf.snis) && pathCovers(wide.path, narrow.path)
}
