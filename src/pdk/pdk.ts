/**
 * The PDK implementation: a thin layer over the request exchange ({@link PdkHost}), created only
 * for requests whose route has plugins. One object per request; `ctx.plugin` is switched as each
 * plugin instance runs.
 */
import { decodeFormPairs } from '../admin/form-decode.js'
import type { ErrorLog } from '../observability/error-log.js'
import type { RequestHeaders, ResponseHeaders } from '../proxy/types.js'
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

/** What the PDK needs from the request exchange. */
export interface PdkHost {
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
  /** Response status and headers once known (header/body filter, log). */
  responseStatus: number
  responseHeaders: ResponseHeaders | null
  /** Response headers set before the response exists (access phase): applied when it does. */
  pendingResponseHeaders: ResponseHeaders | null
  responseSource: 'service' | 'exit' | 'error'
  upstreamStatus: number | undefined
  upstreamHeadersReceived: ResponseHeaders | null
  upstreamLatency(): number | undefined
  /** Reads the whole client body (kept for the upstream). */
  readBody(maxBytes: number): Promise<Buffer>
  exit(status: number, body: string | Buffer | Readonly<Record<string, unknown>> | null | undefined, headers: Readonly<Record<string, HeaderValue>> | undefined): void
  kongError(status: number, message: string | undefined, headers: Readonly<Record<string, HeaderValue>> | undefined): void
  serialize(): Record<string, unknown>
}

function firstValue(v: HeaderValue | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

function parseQuery(raw: string): Record<string, string | true | (string | true)[]> {
  const out: Record<string, string | true | (string | true)[]> = {}
  if (raw === '') return out
  for (const part of raw.split('&')) {
    if (part === '') continue
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

function removeHeader(list: string[], name: string): void {
  const lower = name.toLowerCase()
  for (let i = list.length - 2; i >= 0; i -= 2) if ((list[i] as string).toLowerCase() === lower) list.splice(i, 2)
}

function stringify(parts: readonly unknown[]): string {
  return parts.map((p) => (typeof p === 'string' ? p : p instanceof Error ? p.message : JSON.stringify(p))).join(' ')
}

/** The `kong` object for one request. */
export class RequestPdk implements Pdk {
  readonly #h: PdkHost
  /** The instance currently running: named in log lines. */
  pluginName = ''
  #pluginCtx = new Map<string, Record<string, unknown>>()
  #queryCache: Record<string, string | true | (string | true)[]> | null = null
  /** Values added with `kong.log.setSerializeValue`, applied over {@link serialize}'s output. */
  #serializeValues: Map<string, unknown> | null = null
  readonly ctx: { readonly shared: Record<string, unknown>; plugin: Record<string, unknown> }
  readonly request: PdkRequest
  readonly client: PdkClient
  readonly response: PdkResponse
  readonly service: { readonly request: PdkServiceRequest; readonly response: PdkServiceResponse }
  readonly router: PdkRouter
  readonly log: PdkLog
  readonly entities: PdkEntities
  readonly timing: Pdk['timing']

  constructor(host: PdkHost) {
    this.#h = host
    const h = host
    this.ctx = { shared: {}, plugin: {} }
    this.entities = host.entities
    const rawQuery = (): string => {
      const q = h.rawUrl.indexOf('?')
      return q === -1 ? '' : h.rawUrl.slice(q + 1)
    }
    this.request = {
      getId: () => h.requestId,
      getMethod: () => h.method,
      getScheme: () => h.scheme,
      getHost: () => h.hostHeader.replace(/:\d+$/, '').toLowerCase(),
      getPort: () => h.localPort,
      getForwardedScheme: () => (h.trusted ? firstValue(h.headers['x-forwarded-proto'])?.toLowerCase() : undefined) ?? h.scheme,
      getForwardedHost: () => (h.trusted ? firstValue(h.headers['x-forwarded-host'])?.split(',')[0]?.trim() : undefined) ?? this.request.getHost(),
      getForwardedPort: () => {
        const v = h.trusted ? Number(firstValue(h.headers['x-forwarded-port'])) : NaN
        return Number.isInteger(v) && v > 0 ? v : h.localPort
      },
      getHttpVersion: () => h.httpVersion,
      getPath: () => h.normalizedPath,
      getRawPath: () => {
        const q = h.rawUrl.indexOf('?')
        return q === -1 ? h.rawUrl : h.rawUrl.slice(0, q)
      },
      getPathWithQuery: () => h.rawUrl,
      getRawQuery: rawQuery,
      getQueryArg: (name) => {
        const v = this.request.getQuery()[name]
        return Array.isArray(v) ? v[0] : v
      },
      getQuery: () => (this.#queryCache ??= parseQuery(rawQuery())),
      getHeader: (name) => firstValue(h.headers[name.toLowerCase()]),
      getHeaders: () => h.headers,
      getRawBody: (maxBytes = 8 * 1024 * 1024) => h.readBody(maxBytes),
      getBody: async (maxBytes = 8 * 1024 * 1024) => {
        const raw = await h.readBody(maxBytes)
        if (raw.length === 0) return null
        // Only the media type is case-insensitive: a multipart boundary must keep its case.
        const ct = firstValue(h.headers['content-type']) ?? ''
        const mimetype = (ct.split(';')[0] ?? '').trim().toLowerCase()
        try {
          if (mimetype === 'application/json' || mimetype.endsWith('+json')) {
            const parsed: unknown = JSON.parse(raw.toString('utf8'))
            return parsed !== null && typeof parsed === 'object' ? { mimetype, args: parsed as Record<string, unknown> } : null
          }
          if (mimetype === 'application/x-www-form-urlencoded') {
            return { mimetype, args: decodeFormPairs(new URLSearchParams(raw.toString('utf8'))) }
          }
          if (mimetype === 'multipart/form-data') {
            const form = await new Request('http://body.local/', { method: 'POST', headers: { 'content-type': ct }, body: raw }).formData()
            const args: Record<string, unknown> = {}
            form.forEach((v, k) => {
              if (typeof v === 'string') args[k] = v
            })
            return { mimetype, args }
          }
        } catch {
          return null
        }
        return null
      },
    }
    this.client = {
      getIp: () => h.clientIp,
      getForwardedIp: () => h.clientIp,
      getPeerIp: () => h.peerIp,
      getPort: () => h.peerPort,
      getProtocol: () => h.scheme,
      getConsumer: () => h.consumer,
      getCredential: () => h.credential,
      authenticate: (consumer, credential) => {
        h.consumer = consumer
        h.credential = credential
      },
    }
    this.response = {
      exit: (status, body, headers) => h.exit(status, body, headers),
      error: (status, message, headers) => h.kongError(status, message, headers),
      getStatus: () => h.responseStatus,
      getHeader: (name) => firstValue(h.responseHeaders?.[name.toLowerCase()]),
      getHeaders: () => h.responseHeaders ?? {},
      getSource: () => h.responseSource,
      // Before the response exists (access phase) Kong still accepts header changes: they are kept
      // and applied to whatever response goes out, proxied or generated.
      setHeader: (name, value) => {
        const target = h.responseHeaders ?? (h.pendingResponseHeaders ??= {})
        target[name.toLowerCase()] = value
      },
      addHeader: (name, value) => {
        const target = h.responseHeaders ?? (h.pendingResponseHeaders ??= {})
        const key = name.toLowerCase()
        const prev = target[key]
        target[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
      },
      clearHeader: (name) => {
        if (h.responseHeaders !== null) delete h.responseHeaders[name.toLowerCase()]
        else if (h.pendingResponseHeaders !== null) delete h.pendingResponseHeaders[name.toLowerCase()]
      },
      setStatus: (status) => {
        h.responseStatus = status
      },
    }
    this.service = {
      request: {
        setHeader: (name, value) => {
          removeHeader(h.upstreamHeaders, name)
          for (const v of Array.isArray(value) ? value : [value]) h.upstreamHeaders.push(name.toLowerCase(), v)
        },
        addHeader: (name, value) => {
          h.upstreamHeaders.push(name.toLowerCase(), value)
        },
        clearHeader: (name) => removeHeader(h.upstreamHeaders, name),
        setMethod: (method) => {
          h.upstreamMethod = method.toUpperCase()
        },
        setPath: (path) => {
          h.upstreamPath = path
        },
        setRawQuery: (query) => {
          h.upstreamQuery = query === '' ? null : query
        },
        setQuery: (args) => {
          const q = encodeQuery(args)
          h.upstreamQuery = q === '' ? null : q
        },
        setRawBody: (body) => {
          h.upstreamBody = typeof body === 'string' ? Buffer.from(body) : body
          removeHeader(h.upstreamHeaders, 'content-length')
          removeHeader(h.upstreamHeaders, 'transfer-encoding')
          h.upstreamHeaders.push('content-length', String(h.upstreamBody.length))
        },
        getHeaders: () => {
          const out: Record<string, HeaderValue> = {}
          const list = h.upstreamHeaders
          for (let i = 0; i + 1 < list.length; i += 2) {
            const name = (list[i] as string).toLowerCase()
            const value = list[i + 1] as string
            const prev = out[name]
            out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
          }
          return out
        },
        getHeader: (name) => {
          const lower = name.toLowerCase()
          const list = h.upstreamHeaders
          for (let i = 0; i + 1 < list.length; i += 2) if ((list[i] as string).toLowerCase() === lower) return list[i + 1]
          return undefined
        },
        getRawQuery: () => h.upstreamQuery ?? '',
        getPath: () => h.upstreamPath,
        getMethod: () => h.upstreamMethod,
      },
      response: {
        getStatus: () => h.upstreamStatus,
        getHeader: (name) => firstValue(h.upstreamHeadersReceived?.[name.toLowerCase()]),
        getHeaders: () => h.upstreamHeadersReceived ?? {},
      },
    }
    this.router = {
      getRoute: () => h.route,
      getService: () => h.service,
      getCaptures: () => h.captures,
    }
    const log = (level: 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'crit') => (...parts: unknown[]) => {
      if (!h.errorLog.enabled(level)) return
      h.errorLog.log(level, `[${this.pluginName === '' ? 'kong' : this.pluginName}] ${stringify(parts)}`, { request_id: h.requestId })
    }
    this.log = {
      debug: log('debug'), info: log('info'), notice: log('notice'), warn: log('warn'), err: log('error'), crit: log('crit'),
      setSerializeValue: (key, value) => {
        ;(this.#serializeValues ??= new Map()).set(key, value)
      },
    }
    this.timing = {
      startedAt: h.startedAt,
      kong: () => performance.now() - h.startedAt - (h.upstreamLatency() ?? 0),
      upstream: () => h.upstreamLatency(),
      total: () => performance.now() - h.startedAt,
    }
  }

  /** Switches `ctx.plugin` and log naming to the instance about to run. */
  enter(pluginName: string, instanceId: string): void {
    this.pluginName = pluginName
    let c = this.#pluginCtx.get(instanceId)
    if (c === undefined) {
      c = {}
      this.#pluginCtx.set(instanceId, c)
    }
    this.ctx.plugin = c
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
