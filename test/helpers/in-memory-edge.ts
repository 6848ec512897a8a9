/**
 * An in-memory `Downstream` / `UpstreamClient` pair (the seams of src/proxy/types.ts) so that the
 * runloop runs in unit tests without sockets: the downstream records what the gateway answers,
 * the upstream plays a script per attempt (a response, a failure, or nothing until aborted) and
 * records what was sent. Plus `makeProxy`, a `Proxy` over a compiled snapshot with its error and
 * access logs kept in memory.
 */
import type { DnsClientOptions } from '../../src/dns/types.js'
import type { Route, Service } from '../../src/entities/index.js'
import { routeRow as storedRoute, serviceRow as storedService } from './entity-rows.js'
import { AccessLog } from '../../src/observability/access-log.js'
import { ErrorLog } from '../../src/observability/error-log.js'
import type { LogSink } from '../../src/observability/log-file.js'
import { TrustedIps } from '../../src/proxy/forwarding.js'
import { HostResolver } from '../../src/proxy/resolver.js'
import { Proxy, type ProxySettings } from '../../src/proxy/runloop.js'
import type {
  BodySource,
  Downstream,
  HeaderList,
  RequestHeaders,
  ResponseHeaders,
  UpstreamClient,
  UpstreamControl,
  UpstreamErrorInfo,
  UpstreamRequest,
  UpstreamSink,
  UpstreamTarget,
} from '../../src/proxy/types.js'
import type { ConfigSnapshot } from '../../src/snapshot/snapshot.js'

export interface RequestSpec {
  method?: string
  url?: string
  /** Lower-case names. `host` defaults to `gw.test`. */
  headers?: Record<string, string>
  body?: Buffer | null
  scheme?: 'http' | 'https'
  remoteAddress?: string
}

/** A client request held in memory; what the gateway answers is recorded. */
export class MemoryDownstream implements Downstream {
  readonly method: string
  readonly url: string
  readonly headers: RequestHeaders
  readonly rawHeaders: readonly string[]
  readonly httpVersion = '1.1'
  readonly remoteAddress: string
  readonly remotePort = 40000
  readonly localPort = 8000
  readonly scheme: 'http' | 'https'
  readonly connectionId = 1
  readonly body: BodySource | null
  status = 0
  responseHeaders: ResponseHeaders | HeaderList | null = null
  readonly chunks: Buffer[] = []
  /** How the response went out: `respond` (complete), `stream` (writeHead … end), `destroyed`. */
  how: 'respond' | 'stream' | 'destroyed' | null = null
  ended = false
  #close: (() => void) | null = null
  #settle!: () => void
  /** Settles when the response is complete (or the connection destroyed). */
  readonly done = new Promise<void>((resolve) => (this.#settle = resolve))

  constructor(spec: RequestSpec = {}) {
    this.method = spec.method ?? 'GET'
    this.url = spec.url ?? '/'
    const headers: Record<string, string> = { host: 'gw.test', ...spec.headers }
    this.headers = headers
    this.rawHeaders = Object.entries(headers).flat()
    this.remoteAddress = spec.remoteAddress ?? '127.0.0.1'
    this.scheme = spec.scheme ?? 'http'
    const b = spec.body ?? null
    this.body =
      b === null
        ? null
        : (async function* () {
            yield b
          })()
  }

  get headersSent(): boolean {
    return this.how !== null
  }
  /** The body sent, as text. */
  get text(): string {
    return Buffer.concat(this.chunks).toString()
  }
  /** A response header (any case) from either shape the gateway used. */
  header(name: string): string | string[] | undefined {
    const h = this.responseHeaders
    if (h === null) return undefined
    const lower = name.toLowerCase()
    if (Array.isArray(h)) {
      for (let i = 0; i < h.length; i += 2) if ((h[i] as string).toLowerCase() === lower) return h[i + 1]
      return undefined
    }
    return h[lower]
  }

  respond(status: number, headers: ResponseHeaders, body: string | Buffer | null): void {
    this.status = status
    this.responseHeaders = headers
    this.how = 'respond'
    if (body !== null && this.method !== 'HEAD') this.chunks.push(Buffer.from(body))
    this.ended = true
    this.#settle()
  }
  writeHead(status: number, headers: ResponseHeaders | HeaderList): void {
    this.status = status
    this.responseHeaders = headers
    this.how = 'stream'
  }
  write(chunk: Uint8Array): boolean {
    this.chunks.push(Buffer.from(chunk))
    return true
  }
  end(lastChunk?: Uint8Array | null): void {
    if (lastChunk != null) this.chunks.push(Buffer.from(lastChunk))
    this.ended = true
    this.#settle()
  }
  onDrain(_cb: () => void): void {}
  onClose(cb: () => void): void {
    this.#close = cb
  }
  destroy(): void {
    this.how = 'destroyed'
    this.#settle()
  }
  /** The client goes away (as a socket close would report it). */
  abort(): void {
    this.#close?.()
    this.#settle()
  }
}

/** What one upstream attempt does. */
export type Attempt =
  | { readonly status: number; readonly headers?: HeaderList; readonly body?: string | readonly string[] }
  | {
      readonly error: string
      readonly message?: string
      readonly sent?: boolean
      readonly headersReceived?: boolean
      readonly reused?: boolean
    }
  /** Nothing happens until the gateway aborts the attempt. */
  | 'hang'

export interface SentRequest {
  readonly target: UpstreamTarget
  readonly request: UpstreamRequest
  /** Where the attempt's outcome goes (for a test that plays it by hand). */
  readonly sink: UpstreamSink
  /** A control whose abort sets `aborted`. */
  readonly control: UpstreamControl
  /** Set when the gateway aborted this attempt (client gone). */
  aborted: boolean
}

/** An upstream that plays one scripted {@link Attempt} per send, in order (the last one repeats). */
export class MemoryUpstream implements UpstreamClient {
  readonly sent: SentRequest[] = []
  readonly #script: readonly Attempt[]

  constructor(...script: Attempt[]) {
    this.#script = script
  }

  send(target: UpstreamTarget, request: UpstreamRequest, sink: UpstreamSink): void {
    const record: SentRequest = {
      target,
      request,
      sink,
      aborted: false,
      control: { pause() {}, resume() {}, abort: () => void (record.aborted = true) },
    }
    const control = record.control
    const step = this.#script[Math.min(this.sent.length, this.#script.length - 1)] ?? 'hang'
    this.sent.push(record)
    // Answers come later, as a socket's would.
    queueMicrotask(() => {
      if (step === 'hang') {
        sink.onSent()
        return
      }
      if ('error' in step) {
        const err = Object.assign(new Error(step.message ?? step.error), { code: step.error })
        const info: UpstreamErrorInfo = {
          sent: step.sent ?? false,
          headersReceived: step.headersReceived ?? false,
          reused: step.reused ?? false,
        }
        sink.onError(err, info)
        return
      }
      sink.onSent()
      const body = typeof step.body === 'string' ? [step.body] : (step.body ?? [])
      const length = body.reduce((n, c) => n + Buffer.byteLength(c), 0)
      sink.onHeaders(step.status, [...(step.headers ?? ['Content-Type', 'text/plain']), 'Content-Length', String(length)], control)
      for (const chunk of body) sink.onData(Buffer.from(chunk))
      sink.onEnd()
    })
  }

  async close(): Promise<void> {}
}

/** A log sink that keeps its lines. */
export class MemorySink implements LogSink {
  readonly lines: string[] = []
  write(line: string): void {
    this.lines.push(line)
  }
  flush(): void {}
  drain(): void {}
}

/** Kong's default settings, as `proxySettings` derives them from a default configuration. */
export function defaultSettings(overrides: Partial<ProxySettings> = {}): ProxySettings {
  return {
    realIp: { trusted: new TrustedIps([]), header: 'x-real-ip', recursive: false },
    viaHeader: true,
    serverHeader: true,
    proxyLatency: true,
    upstreamLatency: true,
    responseLatency: true,
    upstreamStatus: false,
    requestIdDownstream: true,
    requestIdUpstream: true,
    allowDebugHeader: false,
    errorDefaultType: 'text/plain',
    keepaliveIdleTimeout: 60,
    maxHeaderSize: 160 * 1024,
    clientMaxBodySize: 1024 * 1024,
    maxPostArgs: 100,
    maxUriArgs: 100,
    ...overrides,
  }
}

export interface MemoryProxy {
  readonly proxy: Proxy
  readonly upstream: MemoryUpstream
  readonly errorLog: MemorySink
  readonly accessLog: MemorySink
  /** Runs one request through the proxy and waits for its response. */
  request(spec?: RequestSpec): Promise<MemoryDownstream>
}

/** A `Proxy` over `snapshot` and `upstream`, its logs in memory. */
export function makeProxy(
  snapshot: ConfigSnapshot,
  upstream: MemoryUpstream,
  settings: Partial<ProxySettings> = {},
  dns: DnsClientOptions = {},
): MemoryProxy {
  const errorSink = new MemorySink()
  const accessSink = new MemorySink()
  const proxy = new Proxy({
    snapshot,
    settings: defaultSettings(settings),
    upstream,
    // A name not in `dns.hostsFile` goes to a nameserver that does not answer (port 9).
    resolver: new HostResolver({ nameservers: ['127.0.0.1:9'], hostsFile: '/dev/null', timeoutMs: 100, attempts: 1, ...dns }),
    errorLog: new ErrorLog(errorSink, 'info'),
    accessLog: new AccessLog(accessSink),
  })
  return {
    proxy,
    upstream,
    errorLog: errorSink,
    accessLog: accessSink,
    async request(spec: RequestSpec = {}): Promise<MemoryDownstream> {
      const d = new MemoryDownstream(spec)
      proxy.handle(d)
      await d.done
      return d
    },
  }
}

/** The ids of {@link serviceRow} and {@link routeRow}. */
export const SERVICE_ID = '2f1c9a4e-6b0d-4c55-9f3e-0a8b7c6d5e41'
export const ROUTE_ID = '7d3e5b2a-1c4f-4e8a-b6d9-3f2a1e0c9b87'
/** A service row as the DAO stores it: IP-literal host (no DNS), path `/v1`; `extra` overrides fields. */
export const serviceRow = (extra: Partial<Service> = {}): Service => ({
  ...storedService({ id: SERVICE_ID, name: 'orders', host: '10.0.0.7', port: 8080, path: '/v1' }),
  ...extra,
})
/** A route row on `/orders` for {@link serviceRow}, as the DAO stores it; `extra` overrides fields. */
export const routeRow = (extra: Partial<Route> = {}): Route => ({
  ...storedRoute({ id: ROUTE_ID, name: 'orders-route', paths: ['/orders'], service: { id: SERVICE_ID } }),
  ...extra,
})
