/**
 * The PDK implementation: a thin layer over the request exchange ({@link PdkHost}), created only
 * for requests whose route has plugins. One object per request, its namespaces (`kong.request` …)
 * made on first use; `ctx.plugin` is switched as each plugin instance runs.
 */
import { decodeFlatPairs } from '../codec/form-decode.js'
import { firstHeaderValue, lowerHeaderName, removeHeaderPairs } from '../codec/header-names.js'
import type { RequestHeaders, ResponseHeaders } from '../codec/header-types.js'
import { JSON_MAX_DEPTH, jsonDeeperThan } from '../codec/json-depth.js'
import { headerObject } from '../codec/response-headers.js'
import { joinedHeaderValue } from '../codec/request-header-values.js'
import type { ErrorLog } from '../observability/error-log.js'
import type {
  Consumer,
  Credential,
  EntityRow,
  HeaderValue,
  Pdk,
  PdkClient,
  PdkEntities,
  PdkLog,
  PdkRequest,
  PdkResponse,
  PdkRouter,
  PdkServiceRequest,
  PdkServiceResponse,
} from './types.js'

/**
 * Kong's `lua_max_post_args` and `lua_max_uri_args` default: `kong.request.get_body` and
 * `get_query` read the first 100 arguments and ignore the rest, as nginx's `get_post_args` and
 * `get_uri_args` do.
 */
export const PDK_MAX_ARGS = 100

/** What the PDK needs from the request exchange. */
export interface PdkHost {
  /** `lua_max_post_args` (default 100): form arguments get_body reads. */
  readonly maxPostArgs?: number
  /** `lua_max_uri_args` (default 100): query arguments get_query reads. */
  readonly maxUriArgs?: number
  readonly requestId: string
  readonly method: string
  readonly scheme: string
  readonly hostHeader: string
  readonly localPort: number
  readonly httpVersion: string
  readonly rawUrl: string
  readonly normalizedPath: string
  readonly headers: RequestHeaders
  readonly clientIp: string
  readonly peerIp: string
  readonly peerPort: number
  readonly trusted: boolean
  readonly route: EntityRow | null
  readonly service: EntityRow | null
  readonly captures: Readonly<Record<string, string>> | null
  readonly entities: PdkEntities
  readonly errorLog: ErrorLog
  readonly startedAt: number
  consumer: Consumer | null
  credential: Credential | null
  /** Flat upstream header list (name, value, …), mutable until the request is sent. */
  upstreamHeaders: string[]
  upstreamMethod: string
  upstreamPath: string
  /** Query string sent upstream, without `?` (null: none). */
  upstreamQuery: string | null
  /** Replacement body for the upstream request (null: stream the client's). */
  upstreamBody: Buffer | null
  /** Response status once known (header/body filter, log). */
  responseStatus: number
  /** The response's headers as an object (lower-case names) once the response exists. */
  readonly responseHeaders: ResponseHeaders | null
  /** First value of a response header (any case); undefined before the response exists. */
  responseHeader(name: string): string | undefined
  /**
   * Changes to the response headers. Before the response exists (access phase) Kong still
   * accepts them: they are kept and applied to whatever response goes out, proxied or generated.
   */
  setResponseHeader(name: string, value: HeaderValue): void
  addResponseHeader(name: string, value: string): void
  clearResponseHeader(name: string): void
  responseSource: 'service' | 'exit' | 'error'
  upstreamStatus: number | undefined
  readonly upstreamHeadersReceived: ResponseHeaders | null
  upstreamLatency(): number | undefined
  /** Reads the whole client body (kept for the upstream). */
  readBody(maxBytes: number): Promise<Buffer>
  exit(
    status: number,
    body: string | Buffer | Readonly<Record<string, unknown>> | null | undefined,
    headers: Readonly<Record<string, HeaderValue>> | undefined,
  ): void
  kongError(status: number, message: string | undefined, headers: Readonly<Record<string, HeaderValue>> | undefined): void
  serialize(): Record<string, unknown>
}

function firstValue(v: HeaderValue | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/**
 * A header by lower-case name, own values only: node's header objects inherit from
 * Object.prototype, and `getHeader('constructor')` must not return a function.
 */
function ownHeader(headers: Readonly<Record<string, HeaderValue | undefined>> | null, lower: string): HeaderValue | undefined {
  return headers !== null && Object.hasOwn(headers, lower) ? headers[lower] : undefined
}

/** The query's arguments, the first `maxArgs` of them (nginx's `get_uri_args`). */
function parseQuery(raw: string, maxArgs: number): Record<string, string | true | (string | true)[]> {
  // Null prototype: a `__proto__` or `constructor` argument is an ordinary name.
  const out = Object.create(null) as Record<string, string | true | (string | true)[]>
  if (raw === '') return out
  let count = 0
  for (const part of raw.split('&')) {
    if (part === '') continue
    if (++count > maxArgs) break
    const eq = part.indexOf('=')
    const decode = (s: string): string => {
      try {
        return decodeURIComponent(s.replace(/\+/g, ' '))
      } catch {
        return s
      }
    }
    const name = decode(eq === -1 ? part : part.slice(0, eq))
    const value: string | true = eq === -1 ? true : decode(part.slice(eq + 1))
    const prev = out[name]
    if (prev === undefined) out[name] = value
    else if (Array.isArray(prev)) prev.push(value)
    else out[name] = [prev, value]
  }
  return out
}

function encodeQuery(args: Readonly<Record<string, string | true | readonly (string | true)[]>>): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(args)) {
    for (const one of Array.isArray(v) ? (v as (string | true)[]) : [v as string | true]) {
      parts.push(one === true ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(one)}`)
    }
  }
  return parts.join('&')
}

function stringify(parts: readonly unknown[]): string {
  return parts.map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : JSON.stringify(p))).join(' ')
}

/*
 * The namespaces below are classes: their methods live once on the prototypes, and a request
 * allocates only the namespaces its plugins touch (key-auth uses three of them), instead of a
 * closure per PDK function for every request.
 */

/** What every namespace holds: the exchange it reads and changes. */
abstract class HostView {
  protected readonly h: PdkHost

  constructor(h: PdkHost) {
    this.h = h
  }
}

class RequestApi extends HostView implements PdkRequest {
  #query: Record<string, string | true | (string | true)[]> | null = null

  getId(): string {
    return this.h.requestId
  }
  getMethod(): string {
    return this.h.method
  }
  getScheme(): string {
    return this.h.scheme
  }
  getHost(): string {
    return this.h.hostHeader.replace(/:\d+$/, '').toLowerCase()
  }
  getPort(): number {
    return this.h.localPort
  }
  getForwardedScheme(): string {
    const h = this.h
    return (h.trusted ? firstValue(h.headers['x-forwarded-proto'])?.toLowerCase() : undefined) ?? h.scheme
  }
  getForwardedHost(): string {
    const h = this.h
    return (h.trusted ? firstValue(h.headers['x-forwarded-host'])?.split(',')[0]?.trim() : undefined) ?? this.getHost()
  }
  getForwardedPort(): number {
    const h = this.h
    const v = h.trusted ? Number(firstValue(h.headers['x-forwarded-port'])) : NaN
    return Number.isInteger(v) && v > 0 ? v : h.localPort
  }
  getHttpVersion(): string {
    return this.h.httpVersion
  }
  getPath(): string {
    return this.h.normalizedPath
  }
  getRawPath(): string {
    const url = this.h.rawUrl
    const q = url.indexOf('?')
    return q === -1 ? url : url.slice(0, q)
  }
  getPathWithQuery(): string {
    return this.h.rawUrl
  }
  getRawQuery(): string {
    const url = this.h.rawUrl
    const q = url.indexOf('?')
    return q === -1 ? '' : url.slice(q + 1)
  }
  getQueryArg(name: string): string | true | undefined {
    const v = this.getQuery()[name]
    return Array.isArray(v) ? v[0] : v
  }
  getQuery(): Readonly<Record<string, string | true | (string | true)[]>> {
    return (this.#query ??= parseQuery(this.getRawQuery(), this.h.maxUriArgs ?? PDK_MAX_ARGS))
  }
  getHeader(name: string): string | undefined {
    const lower = lowerHeaderName(name)
    return joinedHeaderValue(lower, ownHeader(this.h.headers, lower))
  }
  getHeaders(): Readonly<Record<string, HeaderValue | undefined>> {
    return this.h.headers
  }
  getRawBody(maxBytes = 8 * 1024 * 1024): Promise<Buffer> {
    return this.h.readBody(maxBytes)
  }
  async getBody(maxBytes = 8 * 1024 * 1024): Promise<{ readonly mimetype: string; readonly args: Record<string, unknown> } | null> {
    const h = this.h
    const raw = await h.readBody(maxBytes)
    if (raw.length === 0) return null
    // Only the media type is case-insensitive: a multipart boundary must keep its case.
    const ct = firstValue(h.headers['content-type']) ?? ''
    const mimetype = (ct.split(';')[0] ?? '').trim().toLowerCase()
    try {
      if (mimetype === 'application/json' || mimetype.endsWith('+json')) {
        const text = raw.toString('utf8')
        // cjson's nesting limit: Kong's get_body cannot decode deeper JSON either.
        if (jsonDeeperThan(text, JSON_MAX_DEPTH)) return null
        const parsed: unknown = JSON.parse(text)
        return parsed !== null && typeof parsed === 'object' ? { mimetype, args: parsed as Record<string, unknown> } : null
      }
      if (mimetype === 'application/x-www-form-urlencoded') {
        return { mimetype, args: decodeFlatPairs(new URLSearchParams(raw.toString('utf8')), h.maxPostArgs ?? PDK_MAX_ARGS) }
      }
      if (mimetype === 'multipart/form-data') {
        const form = await new Request('http://body.local/', { method: 'POST', headers: { 'content-type': ct }, body: raw }).formData()
        const fields: [string, string][] = []
        form.forEach((v, k) => {
          if (typeof v === 'string') fields.push([k, v])
        })
        return { mimetype, args: decodeFlatPairs(fields, Number.MAX_SAFE_INTEGER) }
      }
    } catch {
      return null
    }
    return null
  }
}

class ClientApi extends HostView implements PdkClient {
  getIp(): string {
    return this.h.clientIp
  }
  getForwardedIp(): string {
    return this.h.clientIp
  }
  getPeerIp(): string {
    return this.h.peerIp
  }
  getPort(): number {
    return this.h.peerPort
  }
  getProtocol(): string {
    return this.h.scheme
  }
  getConsumer(): Consumer | null {
    return this.h.consumer
  }
  getCredential(): Credential | null {
    return this.h.credential
  }
  authenticate(consumer: Consumer | null, credential: Credential | null): void {
    this.h.consumer = consumer
    this.h.credential = credential
  }
}

class ResponseApi extends HostView implements PdkResponse {
  exit(
    status: number,
    body?: string | Buffer | Readonly<Record<string, unknown>> | null,
    headers?: Readonly<Record<string, HeaderValue>>,
  ): void {
    this.h.exit(status, body, headers)
  }
  error(status: number, message?: string, headers?: Readonly<Record<string, HeaderValue>>): void {
    this.h.kongError(status, message, headers)
  }
  getStatus(): number {
    return this.h.responseStatus
  }
  getHeader(name: string): string | undefined {
    return this.h.responseHeader(name)
  }
  getHeaders(): Readonly<Record<string, HeaderValue | undefined>> {
    return this.h.responseHeaders ?? {}
  }
  getSource(): 'service' | 'exit' | 'error' {
    return this.h.responseSource
  }
  setHeader(name: string, value: HeaderValue): void {
    this.h.setResponseHeader(name, value)
  }
  addHeader(name: string, value: string): void {
    this.h.addResponseHeader(name, value)
  }
  clearHeader(name: string): void {
    this.h.clearResponseHeader(name)
  }
  setStatus(status: number): void {
    this.h.responseStatus = status
  }
}

class ServiceRequestApi extends HostView implements PdkServiceRequest {
  setHeader(name: string, value: HeaderValue): void {
    const list = this.h.upstreamHeaders
    removeHeaderPairs(list, name)
    const lower = lowerHeaderName(name)
    if (Array.isArray(value)) for (const v of value) list.push(lower, v)
    else list.push(lower, value)
  }
  addHeader(name: string, value: string): void {
    this.h.upstreamHeaders.push(lowerHeaderName(name), value)
  }
  clearHeader(name: string): void {
    removeHeaderPairs(this.h.upstreamHeaders, name)
  }
  setMethod(method: string): void {
    this.h.upstreamMethod = method.toUpperCase()
  }
  setPath(path: string): void {
    this.h.upstreamPath = path
  }
  setRawQuery(query: string): void {
    this.h.upstreamQuery = query === '' ? null : query
  }
  setQuery(args: Readonly<Record<string, string | true | readonly (string | true)[]>>): void {
    const q = encodeQuery(args)
    this.h.upstreamQuery = q === '' ? null : q
  }
  setRawBody(body: string | Buffer): void {
    const h = this.h
    const buf = typeof body === 'string' ? Buffer.from(body) : body
    h.upstreamBody = buf
    removeHeaderPairs(h.upstreamHeaders, 'content-length')
    removeHeaderPairs(h.upstreamHeaders, 'transfer-encoding')
    h.upstreamHeaders.push('content-length', String(buf.length))
  }
  getHeaders(): Readonly<Record<string, HeaderValue>> {
    return headerObject(this.h.upstreamHeaders)
  }
  getHeader(name: string): string | undefined {
    return firstHeaderValue(this.h.upstreamHeaders, name)
  }
  getRawQuery(): string {
    return this.h.upstreamQuery ?? ''
  }
  getPath(): string {
    return this.h.upstreamPath
  }
  getMethod(): string {
    return this.h.upstreamMethod
  }
}

class ServiceResponseApi extends HostView implements PdkServiceResponse {
  getStatus(): number | undefined {
    return this.h.upstreamStatus
  }
  getHeader(name: string): string | undefined {
    return firstValue(ownHeader(this.h.upstreamHeadersReceived, lowerHeaderName(name)))
  }
  getHeaders(): Readonly<Record<string, HeaderValue | undefined>> {
    return this.h.upstreamHeadersReceived ?? {}
  }
}

class ServiceApi extends HostView {
  #request: ServiceRequestApi | null = null
  #response: ServiceResponseApi | null = null

  get request(): PdkServiceRequest {
    return (this.#request ??= new ServiceRequestApi(this.h))
  }
  get response(): PdkServiceResponse {
    return (this.#response ??= new ServiceResponseApi(this.h))
  }
}

class RouterApi extends HostView implements PdkRouter {
  getRoute(): EntityRow | null {
    return this.h.route
  }
  getService(): EntityRow | null {
    return this.h.service
  }
  getCaptures(): Readonly<Record<string, string>> | null {
    return this.h.captures
  }
}

class LogApi extends HostView implements PdkLog {
  readonly #pdk: RequestPdk

  constructor(pdk: RequestPdk, h: PdkHost) {
    super(h)
    this.#pdk = pdk
  }

  #write(level: 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'crit', parts: readonly unknown[]): void {
    const log = this.h.errorLog
    if (!log.enabled(level)) return
    const name = this.#pdk.pluginName
    // The context every request line carries (nginx's, as Kong's plugin lines have it), the query
    // string left out: it may hold a credential (key-auth's `?apikey=`), and plugin lines are
    // the ones written about credentials.
    const h = this.h
    const q = h.rawUrl.indexOf('?')
    log.log(level, `[${name === '' ? 'kong' : name}] ${stringify(parts)}`, {
      client: h.clientIp,
      request: `${h.method} ${q === -1 ? h.rawUrl : `${h.rawUrl.slice(0, q)}?…`} HTTP/${h.httpVersion}`,
      ...(h.hostHeader !== '' ? { host: h.hostHeader } : {}),
      request_id: h.requestId,
    })
  }
  debug(...parts: unknown[]): void {
    this.#write('debug', parts)
  }
  info(...parts: unknown[]): void {
    this.#write('info', parts)
  }
  notice(...parts: unknown[]): void {
    this.#write('notice', parts)
  }
  warn(...parts: unknown[]): void {
    this.#write('warn', parts)
  }
  err(...parts: unknown[]): void {
    this.#write('error', parts)
  }
  crit(...parts: unknown[]): void {
    this.#write('crit', parts)
  }
  setSerializeValue(key: string, value: unknown): void {
    this.#pdk.setSerializeValue(key, value)
  }
}

class TimingApi extends HostView {
  get startedAt(): number {
    return this.h.startedAt
  }
  kong(): number {
    return performance.now() - this.h.startedAt - (this.h.upstreamLatency() ?? 0)
  }
  upstream(): number | undefined {
    return this.h.upstreamLatency()
  }
  total(): number {
    return performance.now() - this.h.startedAt
  }
}

/**
 * `kong.ctx`: `shared` for every plugin of the request, `plugin` private to the instance running
 * now. Both are made on first use: most plugins never touch them.
 */
class PluginContext {
  #shared: Record<string, unknown> | null = null
  #byInstance: Map<string, Record<string, unknown>> | null = null
  /** The running instance's id. */
  instance = ''

  get shared(): Record<string, unknown> {
    return (this.#shared ??= {})
  }

  get plugin(): Record<string, unknown> {
    const map = (this.#byInstance ??= new Map())
    let c = map.get(this.instance)
    if (c === undefined) {
      c = {}
      map.set(this.instance, c)
    }
    return c
  }
}

/** The `kong` object for one request. */
export class RequestPdk implements Pdk {
  readonly #h: PdkHost
  /** The instance currently running: named in log lines. */
  pluginName = ''
  /** Values added with `kong.log.setSerializeValue`, applied over {@link serialize}'s output. */
  #serializeValues: Map<string, unknown> | null = null
  readonly ctx = new PluginContext()
  #request: RequestApi | null = null
  #client: ClientApi | null = null
  #response: ResponseApi | null = null
  #service: ServiceApi | null = null
  #router: RouterApi | null = null
  #log: LogApi | null = null
  #timing: TimingApi | null = null

  constructor(host: PdkHost) {
    this.#h = host
  }

  get request(): PdkRequest {
    return (this.#request ??= new RequestApi(this.#h))
  }
  get client(): PdkClient {
    return (this.#client ??= new ClientApi(this.#h))
  }
  get response(): PdkResponse {
    return (this.#response ??= new ResponseApi(this.#h))
  }
  get service(): { readonly request: PdkServiceRequest; readonly response: PdkServiceResponse } {
    return (this.#service ??= new ServiceApi(this.#h))
  }
  get router(): PdkRouter {
    return (this.#router ??= new RouterApi(this.#h))
  }
  get log(): PdkLog {
    return (this.#log ??= new LogApi(this, this.#h))
  }
  get entities(): PdkEntities {
    return this.#h.entities
  }
  get timing(): Pdk['timing'] {
    return (this.#timing ??= new TimingApi(this.#h))
  }

  /** Switches `ctx.plugin` and log naming to the instance about to run. */
  enter(pluginName: string, instanceId: string): void {
    this.pluginName = pluginName
    this.ctx.instance = instanceId
  }

  /** `kong.log.setSerializeValue`. */
  setSerializeValue(key: string, value: unknown): void {
    ;(this.#serializeValues ??= new Map()).set(key, value)
  }

  serialize(): Record<string, unknown> {
    const out = this.#h.serialize()
    if (this.#serializeValues === null) return out
    for (const [key, value] of this.#serializeValues) {
      const path = key.split('.')
      let target: Record<string, unknown> = out
      for (const part of path.slice(0, -1)) {
        const next = target[part]
        if (next === null || typeof next !== 'object' || Array.isArray(next)) target[part] = {}
        target = target[part] as Record<string, unknown>
      }
      const last = path[path.length - 1] as string
      if (value === undefined) delete target[last]
      else target[last] = value
    }
    return out
  }
}
