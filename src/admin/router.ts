/**
 * A small path router for the Admin API. Patterns use Kong's `/endpoints` notation
 * (`/services/{services}/routes`); static segments win over parameters, so
 * `/schemas/{name}/validate` and `/upstreams/{upstreams}/targets/all` coexist with generic
 * patterns.
 *
 * @module
 */
import type { AdminRequest, AdminResponse } from './types.js'
import type { ParsedBody } from './request-body.js'
import { percentDecodeUtf8 } from '../codec/percent-utf8.js'
import { invalidUtf8Message } from '../schema/index.js'

/** What a handler receives. */
export interface AdminContext {
  readonly req: AdminRequest
  /** URL-decoded path parameters by name. */
  readonly params: Readonly<Record<string, string>>
  /** Path parameters as received (still percent-encoded), for `next` links. */
  readonly rawParams: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  /** Parsed body (POST/PUT/PATCH only; empty otherwise). */
  readonly body: ParsedBody
}

export type AdminHandler = (ctx: AdminContext) => Promise<AdminResponse>

/** One path with its handlers by upper-case method. */
export interface AdminRoute {
  readonly path: string
  readonly methods: Readonly<Partial<Record<string, AdminHandler>>>
  /** The handler reads `req.body` itself (any content type; `/config` takes YAML). */
  readonly rawBody?: boolean
}

export interface RouteMatch {
  readonly route: AdminRoute
  readonly params: Record<string, string>
  readonly rawParams: Record<string, string>
}

interface Compiled {
  readonly route: AdminRoute
  readonly segments: readonly { readonly param?: string; readonly text: string }[]
}

/** Thrown for a path segment whose bytes are not UTF-8 (`position`: the first bad byte, 1-based). */
export class BadPathError extends Error {
  readonly param: string
  readonly position: number
  constructor(param: string, position: number) {
    super(invalidUtf8Message(position))
    this.name = 'BadPathError'
    this.param = param
    this.position = position
  }
}

function splitPath(path: string): string[] {
  let p = path
  // Kong resolves `/services/` like `/services`.
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1)
  return p === '/' || p === '' ? [] : p.replace(/^\//, '').split('/')
}

/** Matches request paths against registered routes. */
export class AdminRouter {
  readonly #routes: Compiled[] = []

  /** Registers a route; a later route with the same path replaces the earlier one. */
  add(route: AdminRoute): void {
    const segments = splitPath(route.path).map((s) => {
      const m = /^\{(.+)\}$/.exec(s)
      return m === null ? { text: s } : { param: m[1] ?? '', text: s }
    })
    const index = this.#routes.findIndex((r) => r.route.path === route.path)
    const compiled = { route, segments }
    if (index >= 0) this.#routes[index] = compiled
    else this.#routes.push(compiled)
  }

  /** Every registered path, in Kong's `/endpoints` order. */
  paths(): string[] {
    const key = (p: string): string => p.replaceAll('/', '\u0000')
    return this.#routes.map((r) => r.route.path).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0))
  }

  /** Finds the route for a raw (percent-encoded) path, or null. */
  match(path: string): RouteMatch | null {
    const raw = splitPath(path)
    let best: { compiled: Compiled; score: string } | null = null
    for (const compiled of this.#routes) {
      if (compiled.segments.length !== raw.length) continue
      let score = ''
      let ok = true
      for (let i = 0; i < raw.length; i++) {
        const seg = compiled.segments[i]
        if (seg === undefined) break
        if (seg.param === undefined) {
          if (seg.text !== raw[i]) {
            ok = false
            break
          }
          score += '1'
        } else score += '0'
      }
      if (ok && (best === null || score > best.score)) best = { compiled, score }
    }
    if (best === null) return null
    const params: Record<string, string> = {}
    const rawParams: Record<string, string> = {}
    best.compiled.segments.forEach((seg, i) => {
      if (seg.param === undefined) return
      const value = raw[i] ?? ''
      rawParams[seg.param] = value
      // Raw non-ASCII bytes arrive as latin-1 characters; they and %XX escapes are UTF-8 bytes.
      const decoded = percentDecodeUtf8(value)
      if (!decoded.ok) throw new BadPathError(seg.param, decoded.position)
      params[seg.param] = decoded.value
    })
    return { route: best.compiled.route, params, rawParams }
  }
}
