/**
 * Upstream response headers on their way to the client, as flat `[name, value …]` lists.
 *
 * An upstream response is forwarded without ever building a header object: the list the upstream
 * client produced is copied once, minus the hop-by-hop headers, and the gateway's own headers are
 * appended. Only when a plugin needs to read or change the headers is an object made of the list
 * ({@link headerObject}).
 */
import { firstHeaderValue, lowerHeaderName, removeHeaderPairs } from './header-names.js'
import type { HeaderList, ResponseHeaders } from './header-types.js'
import { setOwn } from '../schema/index.js'

/**
 * Whether a response header describes the upstream connection rather than the message (nginx's
 * proxy module and Kong's header_filter drop them). Names arrive in any case: the length is
 * checked first so that most names are never lower-cased.
 */
function isHopByHop(name: string): boolean {
  switch (name.length) {
    case 2:
      return name.toLowerCase() === 'te'
    case 7: {
      const l = name.toLowerCase()
      return l === 'trailer' || l === 'upgrade'
    }
    case 10: {
      const l = name.toLowerCase()
      return l === 'connection' || l === 'keep-alive'
    }
    case 16:
      return name.toLowerCase() === 'proxy-connection'
    case 17:
      return name.toLowerCase() === 'transfer-encoding'
    default:
      return false
  }
}

function isNamed(name: string, lower: string): boolean {
  return name.length === lower.length && name.toLowerCase() === lower
}

/** Other headers a `Connection` value names (hop-by-hop by that naming), or null when it names none. */
function namedByConnection(value: string): Set<string> | null {
  const whole = value.toLowerCase()
  if (whole === 'keep-alive' || whole === 'close') return null
  let named: Set<string> | null = null
  for (const t of whole.split(',')) {
    const name = t.trim()
    if (name !== '' && name !== 'close' && name !== 'keep-alive' && name !== 'upgrade') (named ??= new Set()).add(name)
  }
  return named
}

/**
 * The headers to forward for a proxied response: the upstream's, minus hop-by-hop ones (and those
 * its `Connection` names) unless the response is the protocol switch itself (101 keeps them), then
 * `Via` with `via` appended to the upstream's value(s) when `via` is not null, and `Server` set to
 * `server` when the upstream sent none and `server` is not null (Kong passes the upstream's on).
 * `keepTrailer`: the client asked for trailers (`TE: trailers`), so the `Trailer` header stays, as
 * Kong's header_filter keeps it.
 */
export function forwardedResponseHeaders(
  raw: HeaderList,
  switching: boolean,
  via: string | null,
  server: string | null,
  keepTrailer = false,
): HeaderList {
  const out: HeaderList = []
  let upstreamVia: string | null = null
  let hasServer = false
  let connection: string | null = null
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    if (!switching && isHopByHop(name) && !(keepTrailer && isNamed(name, 'trailer'))) {
      // Of the two 10-letter hop-by-hop names, Connection is the one starting with c/C.
      if (name.length === 10 && (name[0] === 'c' || name[0] === 'C')) connection = connection === null ? value : `${connection}, ${value}`
      continue
    }
    if (via !== null && isNamed(name, 'via')) {
      upstreamVia = upstreamVia === null ? value : `${upstreamVia}, ${value}`
      continue
    }
    if (name.length === 6 && isNamed(name, 'server')) hasServer = true
    out.push(name, value)
  }
  if (connection !== null) {
    const named = namedByConnection(connection)
    if (named !== null) {
      for (let i = 0; i < out.length;) {
        if (named.has((out[i] as string).toLowerCase())) out.splice(i, 2)
        else i += 2
      }
    }
  }
  if (via !== null) out.push('via', upstreamVia === null ? via : `${upstreamVia}, ${via}`)
  if (server !== null && !hasServer) out.push('server', server)
  return out
}

/** A header object (lower-case names, arrays for repeated names) made of a list, for plugins. */
export function headerObject(list: HeaderList): ResponseHeaders {
  const h: ResponseHeaders = {}
  for (let i = 0; i < list.length; i += 2) {
    const name = lowerHeaderName(list[i] as string)
    const value = list[i + 1] as string
    // Own values only, and `__proto__` defined as an own name: a header called `constructor`
    // or `__proto__` is an ordinary header, never the object's prototype.
    const prev = Object.hasOwn(h, name) ? h[name] : undefined
    if (prev === undefined) setOwn(h, name, value)
    else if (Array.isArray(prev)) prev.push(value)
    else h[name] = [prev, value]
  }
  return h
}

/** The Content-Length value of a header list, or -1 when absent or not a plain number. */
export function contentLength(list: HeaderList): number {
  for (let i = 0; i < list.length; i += 2) {
    const name = list[i] as string
    if (name.length === 14 && name.toLowerCase() === 'content-length') {
      const v = list[i + 1] as string
      return /^\d{1,15}$/.test(v) ? Number(v) : -1
    }
  }
  return -1
}

function firstOf(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/**
 * A response's headers as plugins read and change them (`kong.response.*`). A proxied response's
 * headers stay the flat list they arrived as — changes are made on it, case-insensitively, and it
 * goes to the client as a list — until something asks for an object (`getHeaders`, the log
 * serializer); from then on the object is the headers. The list given is never changed: it is
 * copied on the first change.
 */
export class ResponseHeaderSet {
  #list: HeaderList | null
  #object: ResponseHeaders | null
  #owned: boolean

  private constructor(list: HeaderList | null, object: ResponseHeaders | null) {
    this.#list = list
    this.#object = object
    this.#owned = false
  }

  static ofList(list: HeaderList): ResponseHeaderSet {
    return new ResponseHeaderSet(list, null)
  }

  static ofObject(headers: ResponseHeaders): ResponseHeaderSet {
    return new ResponseHeaderSet(null, headers)
  }

  /** The first value of a header (any case). */
  get(name: string): string | undefined {
    if (this.#object !== null) return firstOf(this.#object[lowerHeaderName(name)])
    return firstHeaderValue(this.#list as HeaderList, name)
  }

  /** Replaces every value of a header (any case) with `value`. */
  set(name: string, value: string | string[]): void {
    const lower = lowerHeaderName(name)
    if (this.#object !== null) {
      this.#object[lower] = value
      return
    }
    const list = this.#mutableList()
    removeHeaderPairs(list, lower)
    if (Array.isArray(value)) for (const v of value) list.push(lower, v)
    else list.push(lower, value)
  }

  /** Adds a value, keeping those already there. */
  add(name: string, value: string): void {
    const lower = lowerHeaderName(name)
    if (this.#object === null) {
      this.#mutableList().push(lower, value)
      return
    }
    const prev = this.#object[lower]
    this.#object[lower] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }

  clear(name: string): void {
    const lower = lowerHeaderName(name)
    if (this.#object !== null) delete this.#object[lower]
    else removeHeaderPairs(this.#mutableList(), lower)
  }

  /** The headers as an object (lower-case names, arrays for repeated ones); changes go to it from now on. */
  object(): ResponseHeaders {
    if (this.#object === null) {
      this.#object = headerObject(this.#list as HeaderList)
      this.#list = null
    }
    return this.#object
  }

  /** What goes to the client: the list, or the object once one was made. */
  forWrite(): ResponseHeaders | HeaderList {
    return this.#object ?? (this.#list as HeaderList)
  }

  #mutableList(): HeaderList {
    if (!this.#owned) {
      this.#list = (this.#list as HeaderList).slice()
      this.#owned = true
    }
    return this.#list as HeaderList
  }
}
