/**
 * Plugin-iteration micro-benchmark: what the plugin machinery costs per request — the route's
 * plan walked in access order, each entry's configuration picked for the consumer (Kong's scope
 * precedence, decided at configuration time except for consumer-scoped configurations), the `kong`
 * object made for the request, the running instance switched, each handler called, then the
 * header_filter pass over the collected instances. The plan, `resolveEntry` and `RequestPdk` are
 * the runloop's own; the loop mirrors the runloop's access and header_filter loops. The handlers
 * do what small plugins do (read a request header, set an upstream and a response header), so the
 * numbers include the PDK calls. Not a test; run after building:
 *   node build/bench/plugins.bench.js
 */
import { RequestPdk, type PdkHost } from '../src/pdk/pdk.js'
import type { PluginRow } from '../src/plugins/entity.js'
import { PlanCompiler, resolveEntry, type PluginInstance, type PluginPlan } from '../src/plugins/plan.js'
import { PluginRegistry } from '../src/plugins/registry.js'
import type { AnyPlugin } from '../src/plugins/types.js'
import type { Pdk } from '../src/pdk/types.js'
import type { ErrorLog } from '../src/observability/error-log.js'
import { ResponseHeaderSet } from '../src/codec/response-headers.js'

const ROUTE = 'route-1'
const SERVICE = 'service-1'

function makePlugin(i: number): AnyPlugin {
  const header = `X-Bench-${i}`
  return {
    name: `bench-${i}`,
    version: '1.0.0',
    priority: 1000 - i,
    schema: { config: {} },
    access(kong: Pdk) {
      if (kong.request.getHeader('apikey') !== undefined) kong.service.request.setHeader(header, 'on')
    },
    headerFilter(kong: Pdk) {
      kong.response.setHeader(header, 'on')
    },
  }
}

function row(name: string, id: string, scope: { route?: string; consumer?: string }): PluginRow {
  return {
    id,
    name,
    instance_name: null,
    created_at: 1,
    updated_at: 1,
    enabled: true,
    protocols: ['http', 'https'],
    config: {},
    tags: null,
    ordering: null,
    route: scope.route === undefined ? null : { id: scope.route },
    service: null,
    consumer: scope.consumer === undefined ? null : { id: scope.consumer },
  }
}

/** A plan of `n` route plugins; the first also has `consumers` consumer-scoped configurations. */
function makePlan(n: number, consumers: number): PluginPlan {
  const plugins = Array.from({ length: n }, (_, i) => makePlugin(i))
  const rows: PluginRow[] = plugins.map((p, i) => row(p.name, `p${i}`, { route: ROUTE }))
  for (let c = 0; c < consumers; c++) rows.push(row('bench-0', `c${c}`, { consumer: `consumer-${c}` }))
  const plan = new PlanCompiler(rows, new PluginRegistry(plugins)).planFor(ROUTE, SERVICE)
  if (plan === null) throw new Error('no plan')
  return plan
}

const errorLog = { enabled: () => false, log: () => {}, warn: () => {}, error: () => {} } as unknown as ErrorLog

/** The request as the runloop's exchange shows it to the PDK (only what these handlers use). */
class BenchHost implements PdkHost {
  requestId = '0123456789abcdef0123456789abcdef'
  method = 'GET'
  scheme = 'http'
  hostHeader = 'example.test'
  localPort = 8000
  httpVersion = '1.1'
  rawUrl = '/api/items'
  normalizedPath = '/api/items'
  headers: Record<string, string> = { host: 'example.test', apikey: 'k', accept: '*/*' }
  clientIp = '127.0.0.1'
  peerIp = '127.0.0.1'
  peerPort = 40000
  trusted = false
  route = { id: ROUTE }
  service = { id: SERVICE }
  captures = null
  entities = { select: () => null, selectByUnique: () => null, listByForeign: () => [], consumer: () => null }
  errorLog = errorLog
  startedAt = 0
  consumer: PdkHost['consumer'] = null
  credential: PdkHost['credential'] = null
  upstreamHeaders = ['host', 'upstream.test', 'x-forwarded-for', '127.0.0.1', 'accept', '*/*']
  upstreamMethod = 'GET'
  upstreamPath = '/items'
  upstreamQuery: string | null = null
  upstreamBody: Buffer | null = null
  responseStatus = 200
  responseSource: 'service' | 'exit' | 'error' = 'service'
  upstreamStatus: number | undefined = 200
  upstreamHeadersReceived = null
  resp = ResponseHeaderSet.ofList(['Content-Type', 'text/plain', 'Content-Length', '100'])
  get responseHeaders(): Record<string, string | string[]> {
    return this.resp.object()
  }
  responseHeader(name: string): string | undefined {
    return this.resp.get(name)
  }
  setResponseHeader(name: string, value: string | string[]): void {
    this.resp.set(name, value)
  }
  addResponseHeader(name: string, value: string): void {
    this.resp.add(name, value)
  }
  clearResponseHeader(name: string): void {
    this.resp.clear(name)
  }
  upstreamLatency(): number | undefined {
    return 1
  }
  readBody(): Promise<Buffer> {
    return Promise.resolve(Buffer.alloc(0))
  }
  exit(): void {}
  kongError(): void {}
  serialize(): Record<string, unknown> {
    return {}
  }
}

/** One request through the plan: access (collecting instances) then header_filter. */
function runRequest(plan: PluginPlan, consumerId: string | null): number {
  const host = new BenchHost()
  const kong = new RequestPdk(host)
  const collected: PluginInstance[] = []
  for (const entry of plan.entries) {
    const inst = resolveEntry(entry, consumerId)
    if (inst === null || !inst.http) continue
    collected.push(inst)
    const access = inst.plugin.access
    if (access === undefined) continue
    kong.enter(inst.name, inst.id)
    void access.call(inst.plugin, kong, inst.conf)
  }
  for (const inst of collected) {
    const hf = inst.plugin.headerFilter
    if (hf === undefined) continue
    kong.enter(inst.name, inst.id)
    hf.call(inst.plugin, kong, inst.conf)
  }
  return host.upstreamHeaders.length
}

function bench(plugins: number, consumers: number): void {
  const plan = makePlan(plugins, consumers)
  const ids = Array.from({ length: 64 }, (_, i) => (consumers === 0 ? null : `consumer-${(i * 7919) % consumers}`))
  let sink = 0
  for (let i = 0; i < 50_000; i++) sink += runRequest(plan, ids[i & 63] ?? null) // warm-up
  const iterations = 300_000
  const start = performance.now()
  for (let i = 0; i < iterations; i++) sink += runRequest(plan, ids[i & 63] ?? null)
  const ms = performance.now() - start
  const nsPerRequest = (ms * 1e6) / iterations
  console.log(
    `${String(plugins).padStart(3)} plugins, ${String(consumers).padStart(6)} consumer-scoped configs: ` +
      `${Math.round((iterations / ms) * 1000).toLocaleString('en-US')} requests/s, ${nsPerRequest.toFixed(0)} ns/request, ` +
      `${(nsPerRequest / plugins).toFixed(0)} ns per plugin (checksum ${sink % 997})`,
  )
}

bench(1, 0)
bench(5, 0)
bench(20, 0)
bench(5, 10)
bench(5, 10_000)
