/**
 * `turnpike trace` / `POST /trace`: one request explained before it is sent. The primary compiles
 * the current configuration with the workers' code (once per configuration version, on the first
 * trace) and runs the real runloop on the request against an upstream client that only records
 * what it would send: the route, the plugins' decisions and the upstream request are the proxy's
 * own, not a second implementation of them. The router adds why every other route missed
 * (`Router.explain`); the balancer's pick uses the node's current health view, on balancers of
 * its own (the workers' round-robin positions are not touched).
 *
 * Field names of {@link TraceResult} are stable (docs/trace.md).
 *
 * @module
 */
import { BalancerRegistry, HealthView, type Balancer } from '../balancer/balancer.js'
import { ErrorLog } from '../observability/error-log.js'
import { AccessLog } from '../observability/access-log.js'
import { resolveEntry, type PluginPlan } from '../plugins/plan.js'
import type { AnyPlugin } from '../plugins/types.js'
import { Proxy, type ProxySettings } from '../proxy/runloop.js'
import type { HostResolver } from '../proxy/resolver.js'
import { refusedBeforeRunloop } from '../proxy/request-head.js'
import type { BodySource, Downstream, HeaderList, ResponseHeaders, UpstreamClient, UpstreamRequest, UpstreamSink } from '../proxy/types.js'
import { httpsRedirectStatus, type RouteVerdict } from '../router/index.js'
import { buildSnapshot, type CompiledRoute, type ConfigPayload, type ConfigSnapshot, type SnapshotContext } from '../snapshot/snapshot.js'
import type { UpstreamTarget } from '../snapshot/target.js'
import { timedRequest, type TimedAnswer } from '../http/timed-request.js'
import type { TraceInput } from './trace-input.js'
import { fingerprint } from '../plugins/shared/consumer.js'
import { phasesOf, traceRegistry, TraceRecorder, type PluginRun } from './trace-plugins.js'

/** How many near misses a trace lists. */
export const NEAR_MISSES = 10
/** How long a dry run may take (DNS of a slow name included) before it is reported unfinished. */
const DRY_RUN_TIMEOUT_MS = 10_000
/** Bounds of `--send`: whatever the service's timeouts, a trace does not wait longer. */
const SEND_CONNECT_MAX_MS = 10_000
const SEND_READ_MAX_MS = 30_000
const KEEP_LOG_LINES = 50
/** Traces waiting for the one in progress; more are refused (429) rather than queued without bound. */
const MAX_WAITING = 16

export interface TracerDeps extends Pick<SnapshotContext, 'entities' | 'upstreamTrust' | 'references'> {
  /** The node's plugins (as loaded). */
  readonly plugins: readonly AnyPlugin[]
  readonly settings: ProxySettings
  /** A resolver with the node's `dns_*` settings (its own cache). */
  readonly resolver: HostResolver
  /** The proxy listeners (`proxy_listen`): the port a traced request arrives on. */
  readonly listeners?: readonly { readonly port: number; readonly ssl: boolean }[]
  /** The configuration the workers serve now. */
  payload(): ConfigPayload
  /** The node's upstream health, as the workers get it (upstream id → unhealthy address keys). */
  healthState(): Readonly<Record<string, readonly string[]>>
}

interface PriorityView {
  readonly fields: number
  readonly plain_hosts: boolean
  readonly header_count: number
  readonly regex: boolean
  readonly regex_priority: number
  readonly prefix_length: number
}

export interface TraceRoute {
  readonly id: string
  readonly name: string | null
  readonly service: { readonly id: string; readonly name: string | null } | null
  /** 0-based position in Kong's priority order (a split route counts once per path group). */
  readonly position: number
  readonly priority: PriorityView
  readonly matched_path: string | null
  readonly protocols: readonly string[]
  readonly strip_path: boolean
  readonly preserve_host: boolean
  /** What the runloop does after the match besides plugins (https redirect, gRPC checks). */
  readonly notes: readonly string[]
}

export interface TraceNearMiss {
  readonly id: string
  readonly name: string | null
  readonly position: number
  readonly reasons: readonly string[]
}

export interface TracePlugin {
  readonly name: string
  readonly id: string
  /** `global`, `service`, `route`, `consumer`, or a combination (`route+consumer`). */
  readonly scope: string
  readonly priority: number
  readonly phases: readonly string[]
  /**
   * `refuses` (answers with an error status), `answers` (answers itself with a success, e.g. a CORS
   * preflight), `passes`, `authenticates`, `not-run` (its handler is not run by a trace),
   * `skipped` (an earlier plugin answered, or no route matched).
   */
  readonly outcome: 'refuses' | 'answers' | 'passes' | 'authenticates' | 'not-run' | 'skipped'
  /** One line: what it decides on this request. */
  readonly decision: string
  /** Its own log lines while deciding (credentials fingerprinted by the plugins). */
  readonly log: readonly string[]
}

export interface TraceBalancer {
  readonly upstream: string
  readonly algorithm: string
  readonly healthy: boolean
  readonly addresses: readonly { address: string; target: string; weight: number; healthy: boolean; picked: boolean }[]
  readonly why: string
}

export interface TraceUpstreamRequest {
  readonly method: string
  /** scheme://address:port/path?query: where the bytes go. */
  readonly url: string
  readonly path: string
  readonly host_header: string | null
  readonly headers: readonly [string, string][]
  readonly added_headers: readonly string[]
  readonly removed_headers: readonly string[]
  readonly body_bytes: number | null
  readonly target: {
    readonly scheme: string
    readonly address: string
    readonly port: number
    readonly hostname: string
    readonly servername: string
    readonly tls_verify: boolean
    readonly connect_timeout: number
    readonly read_timeout: number
    readonly write_timeout: number
    readonly balancer: TraceBalancer | null
  }
}

export interface TraceResult {
  readonly request: {
    readonly method: string
    readonly url: string
    readonly headers: readonly (readonly [string, string])[]
    readonly body_bytes: number
    readonly client_ip: string
  }
  readonly configuration_version: number
  readonly route: TraceRoute | null
  readonly near_misses: readonly TraceNearMiss[]
  readonly plugins: readonly TracePlugin[]
  /** The gateway answers the request itself (no route, a plugin's refusal, a redirect, DNS failure…): what the client gets. */
  readonly response: { readonly status: number; readonly message: string | null; readonly headers: Readonly<Record<string, string>> } | null
  readonly upstream_request: TraceUpstreamRequest | null
  /** `--send` only: the request sent, timed. */
  readonly sent: (TimedAnswer & { readonly dns_ms: number | null }) | null
  /**
   * True when a route matched and the request reaches the upstream, or a plugin answers it with a
   * success (a CORS preflight): the CLI exits 0. False for no route, a refusal, a redirect, a failure.
   */
  readonly ok: boolean
  /** The runloop's own error log lines for this request (debug level). */
  readonly log: readonly string[]
}

/** The current configuration cannot be compiled for tracing (the workers keep the previous one too). */
export class TraceConfigError extends Error {
  override readonly name = 'TraceConfigError'
}

/** Too many traces at once. */
export class TraceBusyError extends Error {
  override readonly name = 'TraceBusyError'
}

/** A Downstream that is no connection: the traced request in, the gateway's answer recorded. */
class TraceDownstream implements Downstream {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>
  readonly rawHeaders: string[] = []
  readonly httpVersion = '1.1'
  readonly remoteAddress: string
  readonly remotePort = 54321
  readonly localPort: number
  readonly scheme: 'http' | 'https'
  readonly sni: string | undefined
  readonly connectionId = 0
  readonly body: BodySource | null
  headersSent = false
  status = 0
  responseHeaders: ResponseHeaders | HeaderList = {}
  responseBody: Buffer[] = []
  #done: () => void = () => {}
  #close: () => void = () => {}
  readonly finished: Promise<void>

  constructor(input: TraceInput, localPort: number) {
    this.method = input.method
    this.url = input.query === null ? input.path : `${input.path}?${input.query}`
    this.remoteAddress = input.clientIp
    this.localPort = localPort
    this.scheme = input.scheme
    this.sni = input.scheme === 'https' ? input.authority.replace(/:\d+$/, '').replace(/^\[|\]$/g, '') : undefined
    for (const [name, value] of input.headers) {
      this.rawHeaders.push(name, value)
      const key = name.toLowerCase()
      const prev = this.headers[key]
      this.headers[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
    }
    const body = input.body
    this.body =
      body === null
        ? null
        : {
            async *[Symbol.asyncIterator]() {
              yield body
            },
          }
    this.finished = new Promise((resolve) => (this.#done = resolve))
  }
  respond(status: number, headers: ResponseHeaders, body: string | Buffer | null): void {
    this.status = status
    this.responseHeaders = headers
    if (body !== null) this.responseBody.push(Buffer.from(body))
    this.headersSent = true
    this.#done()
  }
  writeHead(status: number, headers: ResponseHeaders | HeaderList): void {
    this.status = status
    this.responseHeaders = headers
    this.headersSent = true
  }
  write(chunk: Uint8Array): boolean {
    this.responseBody.push(Buffer.from(chunk))
    return true
  }
  end(lastChunk?: Uint8Array | null): void {
    if (lastChunk !== undefined && lastChunk !== null) this.responseBody.push(Buffer.from(lastChunk))
    this.#done()
  }
  onDrain(): void {}
  onClose(cb: () => void): void {
    this.#close = cb
  }
  destroy(): void {
    this.#done()
  }
  /** Gives up on a run that does not end (the runloop then finishes as for a client gone). */
  abandon(): void {
    this.#close()
    this.#done()
  }
}

interface Captured {
  readonly target: UpstreamTarget
  readonly request: UpstreamRequest
  readonly body: Buffer | null
}

async function readBody(body: UpstreamRequest['body']): Promise<Buffer | null> {
  if (body === null) return null
  if (Buffer.isBuffer(body)) return body
  const parts: Buffer[] = []
  for await (const chunk of body) parts.push(Buffer.from(chunk))
  return Buffer.concat(parts)
}

/** An upstream client that sends nothing: it records the request and answers an empty 204. */
class CaptureUpstream implements UpstreamClient {
  captured: Captured | null = null
  send(target: UpstreamTarget, request: UpstreamRequest, sink: UpstreamSink): void {
    void readBody(request.body).then(
      (body) => {
        this.captured = { target, request, body }
        sink.onSent()
        sink.onHeaders(204, [], { pause() {}, resume() {}, abort() {} })
        sink.onEnd(null)
      },
      (err: unknown) =>
        sink.onError(err instanceof Error ? err : new Error(String(err)), { reused: false, sent: false, headersReceived: false }),
    )
  }
  close(): Promise<void> {
    return Promise.resolve()
  }
}

function priorityView(v: RouteVerdict): PriorityView {
  const p = v.priority
  return {
    fields: p.weight,
    plain_hosts: p.plainHostOnly,
    header_count: p.headerCount,
    regex: p.regex,
    regex_priority: p.regexPriority,
    prefix_length: p.prefixLength,
  }
}

function scopeOf(row: Readonly<Record<string, unknown>>): string {
  const parts = ['route', 'service', 'consumer'].filter((k) => row[k] !== null && row[k] !== undefined)
  return parts.length === 0 ? 'global' : parts.join('+')
}

/** The closest misses: fewest failed conditions first, listed in priority order, one per route. */
function nearMisses(verdicts: readonly RouteVerdict[], winnerId: string | null): TraceNearMiss[] {
  const best = new Map<string, RouteVerdict>()
  for (const v of verdicts) {
    if (v.matched || v.route.id === winnerId) continue
    const prev = best.get(v.route.id)
    if (prev === undefined || v.reasons.length < prev.reasons.length) best.set(v.route.id, v)
  }
  return [...best.values()]
    .sort((a, b) => a.reasons.length - b.reasons.length || a.rank - b.rank)
    .slice(0, NEAR_MISSES)
    .sort((a, b) => a.rank - b.rank)
    .map((v) => ({ id: v.route.id, name: v.route.name, position: v.rank, reasons: v.reasons }))
}

function headerText(v: string | string[] | undefined): string | null {
  return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v
}

function answerMessage(body: Buffer): string | null {
  const text = body.toString('utf8')
  try {
    const parsed: unknown = JSON.parse(text)
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string')
      return (parsed as { message: string }).message
  } catch {
    // not JSON
  }
  return text === '' ? null : text.slice(0, 200)
}

/**
 * A log line's message: without its time and pid prefix (`2026/01/01 00:00:00 [info] 1#0: `) and
 * without the request context the error log appends (`, client: …, request_id: "…"`).
 */
function logText(line: string): string {
  const text = line.replace(/^\S+ \S+ \[\w+\] \d+#\d+: (\*\d+ )?/, '').trimEnd()
  const context = text.indexOf(', client: ')
  return (context === -1 ? text : text.slice(0, context)).replace(/, request_id: "[^"]*"$/, '')
}

function passDecision(run: PluginRun, input: TraceInput): string {
  switch (run.name) {
    case 'acl':
      return "allowed: the consumer's groups fit the allow/deny lists"
    case 'ip-restriction':
      return `allowed: client IP ${input.clientIp}`
    case 'request-size-limiting':
      return `allowed: body of ${input.body?.length ?? 0} bytes within the limit`
    case 'cors':
      return input.method === 'OPTIONS'
        ? 'not a CORS preflight (no Origin/Access-Control-Request-Method): passes'
        : 'adds CORS headers to the response'
    case 'request-transformer':
      return 'changes the upstream request (see upstream_request)'
    case 'bot-detection':
      return 'allowed: the User-Agent is not a refused bot'
    default:
      return 'passes'
  }
}

/** Headers that carry credentials whatever the plugins: shown fingerprinted. */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie']

/** A credential as a trace shows it: its first 4 characters and a fingerprint. */
export function maskSecret(value: string): string {
  return `${value.slice(0, 4)}… (${fingerprint(value)})`
}

/** Header and query names that carry credentials on this route: the fixed ones and key-auth's `key_names`. */
function secretNames(plan: PluginPlan | null): Set<string> {
  const names = new Set(SECRET_HEADERS)
  for (const e of plan?.entries ?? []) {
    const instances = [e.instance, ...(e.byConsumer?.values() ?? [])]
    for (const inst of instances) {
      const keys = (inst?.row['config'] as { key_names?: unknown } | undefined)?.key_names
      if (Array.isArray(keys)) for (const k of keys) if (typeof k === 'string') names.add(k.toLowerCase())
    }
  }
  return names
}

function maskPairs(pairs: readonly (readonly [string, string])[], secret: ReadonlySet<string>): [string, string][] {
  return pairs.map(([n, v]) => [n, secret.has(n.toLowerCase()) ? maskSecret(v) : v])
}

/** `path?query` with the values of secret query arguments masked. */
function maskTarget(target: string, secret: ReadonlySet<string>): string {
  const q = target.indexOf('?')
  if (q === -1) return target
  const args = target
    .slice(q + 1)
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=')
      if (eq === -1) return part
      let name = part.slice(0, eq)
      try {
        name = decodeURIComponent(name)
      } catch {
        // kept as sent
      }
      return secret.has(name.toLowerCase()) ? `${part.slice(0, eq)}=${encodeURIComponent(maskSecret(part.slice(eq + 1)))}` : part
    })
  return `${target.slice(0, q)}?${args.join('&')}`
}

export class Tracer {
  readonly #deps: TracerDeps
  readonly #health = new HealthView()
  readonly #balancers: BalancerRegistry
  #recorder: TraceRecorder | null = null
  readonly #registry
  #cached: { version: number; snapshot: ConfigSnapshot } | null = null
  /** Dry runs one at a time: the plugin wrappers report to the trace in progress. */
  #queue: Promise<unknown> = Promise.resolve()
  #waiting = 0

  constructor(deps: TracerDeps) {
    this.#deps = deps
    this.#balancers = new BalancerRegistry({ resolver: deps.resolver, health: this.#health, report: null })
    this.#registry = traceRegistry(deps.plugins, () => this.#recorder)
  }

  /** The snapshot of the current configuration, compiled on first use per version. */
  snapshot(): ConfigSnapshot {
    const payload = this.#deps.payload()
    if (this.#cached?.version === payload.version) return this.#cached.snapshot
    let snapshot: ConfigSnapshot
    try {
      snapshot = buildSnapshot(payload, {
        registry: this.#registry,
        entities: this.#deps.entities,
        balancers: this.#balancers,
        ...(this.#deps.upstreamTrust !== undefined ? { upstreamTrust: this.#deps.upstreamTrust } : {}),
        ...(this.#deps.references !== undefined ? { references: this.#deps.references } : {}),
      })
    } catch (err) {
      throw new TraceConfigError(`configuration version ${payload.version} cannot be compiled for tracing: ${(err as Error).message}`)
    }
    this.#cached = { version: payload.version, snapshot }
    return snapshot
  }

  trace(input: TraceInput): Promise<TraceResult> {
    if (this.#waiting >= MAX_WAITING) throw new TraceBusyError(`${MAX_WAITING} traces are already waiting; try again later`)
    this.#waiting++
    const run = this.#queue.then(() => {
      this.#waiting--
      return this.#trace(input)
    })
    this.#queue = run.catch(() => {})
    return run
  }

  async #trace(input: TraceInput): Promise<TraceResult> {
    const snapshot = this.snapshot()
    this.#health.set(this.#deps.healthState())
    const d = new TraceDownstream(input, this.#localPort(input))
    const host = headerText(d.headers['host']) ?? ''
    const explanation = snapshot.router.explain({
      method: input.method,
      scheme: input.scheme,
      host,
      port: d.localPort,
      path: input.path,
      headers: d.headers,
      sni: d.sni,
    })

    // The dry run: the real runloop, plugins wrapped, the upstream recorded.
    const recorder = new TraceRecorder()
    const lines: string[] = []
    const sink = {
      write: (line: string): void => {
        const target = recorder.current?.log ?? lines
        if (target.length < KEEP_LOG_LINES) target.push(logText(line))
      },
      flush() {},
      drain() {},
    }
    const capture = new CaptureUpstream()
    const proxy = new Proxy({
      snapshot,
      settings: this.#deps.settings,
      upstream: capture,
      resolver: this.#deps.resolver,
      errorLog: new ErrorLog(sink, 'debug'),
      accessLog: new AccessLog(null),
    })
    this.#recorder = recorder
    let timer: NodeJS.Timeout | undefined
    try {
      // The server adapter's checks first (nginx's 400/413/414/494), as node-proxy-server does.
      const refused = refusedBeforeRunloop(
        { method: d.method, target: d.url, httpVersion: d.httpVersion, rawHeaders: d.rawHeaders },
        d.headers['content-length'],
        this.#deps.settings.clientMaxBodySize,
      )
      if (refused === null) proxy.handle(d)
      else {
        lines.push(`refused before routing with ${refused}, as nginx does (malformed head, repeated Host, body over client_max_body_size…)`)
        proxy.reject(d, refused)
      }
      const timedOut = await Promise.race([
        d.finished.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), DRY_RUN_TIMEOUT_MS))),
      ])
      if (timedOut) {
        lines.push(`the dry run did not finish within ${DRY_RUN_TIMEOUT_MS} ms`)
        d.abandon()
      }
    } finally {
      clearTimeout(timer)
      this.#recorder = null
    }

    const winner = explanation.winner
    const route = winner === null ? null : (winner.route as CompiledRoute)
    const captured = capture.captured
    const refused = recorder.runs.find((r) => r.exited) ?? null
    const answered = captured === null
    // Header names come from plugin configurations (`__proto__` is a valid token): no prototype.
    const responseHeaders = Object.create(null) as Record<string, string>
    if (answered && !Array.isArray(d.responseHeaders))
      for (const [k, v] of Object.entries(d.responseHeaders)) responseHeaders[k] = Array.isArray(v) ? v.join(', ') : v

    let sent: TraceResult['sent'] = null
    if (input.send && captured !== null) sent = await this.#send(captured)
    const secret = secretNames(route === null ? snapshot.globalPlan : route.plan)

    return {
      request: {
        method: input.method,
        url: `${input.scheme}://${input.authority}${maskTarget(d.url, secret)}`,
        headers: maskPairs(input.headers, secret),
        body_bytes: input.body?.length ?? 0,
        client_ip: input.clientIp,
      },
      configuration_version: snapshot.version,
      route: route === null || winner === null ? null : this.#routeView(route, winner, input),
      near_misses: nearMisses(explanation.verdicts, route?.id ?? null),
      plugins: this.#plugins(route, snapshot, recorder, input, d.status),
      response: answered ? { status: d.status, message: answerMessage(Buffer.concat(d.responseBody)), headers: responseHeaders } : null,
      upstream_request: captured === null ? null : this.#upstreamView(captured, route, snapshot, input, secret),
      sent,
      ok: route !== null && (!answered || (refused !== null && d.status < 400)),
      log: lines,
    }
  }

  /**
   * The listener port the request arrives on: the URL's port when a listener of the scheme has it,
   * else the first listener of the scheme (a URL of a load balancer in front, or without a port),
   * else the URL's port.
   */
  #localPort(input: TraceInput): number {
    const listeners = (this.#deps.listeners ?? []).filter((l) => l.ssl === (input.scheme === 'https'))
    if (listeners.length === 0 || listeners.some((l) => l.port === input.port)) return input.port
    return (listeners[0] as { port: number }).port
  }

  #routeView(route: CompiledRoute, winner: RouteVerdict, input: TraceInput): TraceRoute {
    const notes: string[] = []
    const redirect = input.scheme === 'http' ? httpsRedirectStatus(route, 'http') : null
    if (redirect !== null)
      notes.push(
        `protocol http not in [${route.protocols.join(', ')}] → ${redirect === 426 ? '426 Please use HTTPS protocol' : `redirect ${redirect} to https`}`,
      )
    if (route.compiledService === null) notes.push('the route has no service → 503 no Service found with those values')
    return {
      id: route.id,
      name: route.name,
      service: route.compiledService === null ? null : { id: route.compiledService.id, name: route.compiledService.name },
      position: winner.rank,
      priority: priorityView(winner),
      matched_path: winner.matchedPath,
      protocols: route.protocols,
      strip_path: route.strip_path,
      preserve_host: route.preserve_host,
      notes,
    }
  }

  #plugins(
    route: CompiledRoute | null,
    snapshot: ConfigSnapshot,
    recorder: TraceRecorder,
    input: TraceInput,
    answerStatus: number,
  ): TracePlugin[] {
    const plan: PluginPlan | null = route === null ? snapshot.globalPlan : route.plan
    if (plan === null) return []
    const runs = new Map(recorder.runs.map((r) => [r.id, r]))
    const consumer = [...recorder.runs].reverse().find((r) => r.consumer !== null)?.consumer ?? null
    const refuser = recorder.runs.find((r) => r.exited) ?? null
    const out: TracePlugin[] = []
    let previousConsumer: string | null = null
    for (const entry of plan.entries) {
      const inst = resolveEntry(entry, consumer?.id ?? null)
      if (inst === null || !(input.scheme === 'https' ? inst.https : inst.http)) continue
      const original = this.#deps.plugins.find((p) => p.name === inst.name)
      const run = runs.get(inst.id)
      let outcome: TracePlugin['outcome']
      let decision: string
      const log = run?.log ?? []
      if (route === null) {
        outcome = 'skipped'
        decision = 'no route matched: only its response and log phases run'
      } else if (run === undefined) {
        outcome = 'skipped'
        decision =
          refuser !== null
            ? `not reached: ${refuser.name} answered the request first (its response and log phases still run)`
            : 'not reached'
      } else if (!run.ran) {
        outcome = 'not-run'
        decision = run.note ?? 'runs (no decision before the request is sent)'
      } else if (run.exited) {
        const why = log.length > 0 ? `: ${log[log.length - 1]?.replace(/^\[[\w-]+\] /, '')}` : ''
        outcome = answerStatus >= 400 ? 'refuses' : 'answers'
        decision = outcome === 'refuses' ? `refuses the request${why}` : `answers the request itself with ${answerStatus}${why}`
      } else if (run.consumer !== null && run.consumer.id !== previousConsumer) {
        outcome = 'authenticates'
        decision = `authenticated: consumer ${run.consumer.username ?? run.consumer.id}${run.credential !== null ? ` (credential ${run.credential})` : ''}`
      } else {
        outcome = 'passes'
        decision = passDecision(run, input)
      }
      if (run?.consumer !== null && run?.consumer !== undefined) previousConsumer = run.consumer.id
      out.push({
        name: inst.name,
        id: inst.id,
        scope: scopeOf(inst.row),
        priority: inst.plugin.priority,
        phases: phasesOf(original),
        outcome,
        decision,
        log,
      })
    }
    return out
  }

  #upstreamView(
    c: Captured,
    route: CompiledRoute | null,
    snapshot: ConfigSnapshot,
    input: TraceInput,
    secret: ReadonlySet<string>,
  ): TraceUpstreamRequest {
    const h = c.request.headers
    const headers: [string, string][] = []
    for (let i = 0; i + 1 < h.length; i += 2) headers.push([h[i] as string, h[i + 1] as string])
    const sentNames = new Set(headers.map(([n]) => n.toLowerCase()))
    const clientNames = new Set(input.headers.map(([n]) => n.toLowerCase()))
    const clientValue = (n: string): string | undefined => input.headers.find(([k]) => k.toLowerCase() === n)?.[1]
    const added = [...sentNames].filter((n) => !clientNames.has(n) || headers.find(([k]) => k.toLowerCase() === n)?.[1] !== clientValue(n))
    const removed = [...clientNames].filter((n) => !sentNames.has(n))
    const t = c.target
    const service = route?.compiledService ?? null
    const bracket = t.address.includes(':') ? `[${t.address}]` : t.address
    const scheme = t.scheme === 'grpcs' ? 'https' : t.scheme === 'grpc' ? 'http' : t.scheme
    const path = maskTarget(c.request.path, secret)
    return {
      method: c.request.method,
      url: `${scheme}://${bracket}:${t.port}${path}`,
      path,
      host_header: headers.find(([k]) => k.toLowerCase() === 'host')?.[1] ?? null,
      headers: maskPairs(headers, secret),
      added_headers: added,
      removed_headers: removed,
      body_bytes: c.body?.length ?? null,
      target: {
        scheme: t.scheme,
        address: t.address,
        port: t.port,
        hostname: t.hostname,
        servername: t.servername,
        tls_verify: t.tls.verify,
        connect_timeout: t.connectTimeout,
        read_timeout: t.readTimeout,
        write_timeout: t.writeTimeout,
        balancer: service === null ? null : this.#balancerView(snapshot.balancers.get(service.host.toLowerCase()), t),
      },
    }
  }

  #balancerView(b: Balancer | undefined, t: UpstreamTarget): TraceBalancer | null {
    if (b === undefined) return null
    const id = b.upstream.id
    const addresses = b.peers.map((p) => ({
      address: `${p.ip}:${p.port}`,
      target: `${p.target.host}:${p.target.port}`,
      weight: p.weight,
      healthy: this.#health.healthy(id, p.key),
      picked: p.ip === t.address && p.port === t.port,
    }))
    const down = addresses.filter((a) => !a.healthy).map((a) => a.address)
    const why =
      `${b.upstream.algorithm} over ${addresses.length} address${addresses.length === 1 ? '' : 'es'} by weight` +
      (down.length > 0 ? `; unhealthy, not picked: ${down.join(', ')}` : '; all healthy')
    return { upstream: b.upstream.name, algorithm: b.upstream.algorithm, healthy: b.healthy(), addresses, why }
  }

  async #send(c: Captured): Promise<NonNullable<TraceResult['sent']>> {
    const t = c.target
    let dnsMs: number | null = null
    if (t.hostname !== t.address) {
      // The name the address came from, through the node's resolver (0 when cached, as for the proxy).
      const start = performance.now()
      await this.#deps.resolver.resolve(t.hostname)
      dnsMs = Math.round((performance.now() - start) * 100) / 100
    }
    const h = c.request.headers
    const answer = await timedRequest({
      scheme: t.scheme === 'https' || t.scheme === 'grpcs' ? 'https' : 'http',
      address: t.address,
      port: t.port,
      servername: t.servername,
      verify: t.tls.verify,
      ca: t.tls.ca,
      cert: t.tls.cert,
      key: t.tls.key,
      method: c.request.method,
      path: c.request.path,
      headers: h,
      body: c.body,
      connectTimeoutMs: Math.min(t.connectTimeout, SEND_CONNECT_MAX_MS),
      readTimeoutMs: Math.min(Math.max(t.readTimeout, t.writeTimeout), SEND_READ_MAX_MS),
      keepBytes: 2048,
    })
    return { dns_ms: dnsMs, ...answer }
  }
}
