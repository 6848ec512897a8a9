/**
 * The `http-log` plugin (Kong 3.9, priority 12, log phase): sends each request's log (Kong's
 * serializer shape) to an HTTP endpoint, through Kong's bounded queue with batching and retries.
 * Logging runs after the client has its answer and never waits for the log server: a slow or
 * dead log server costs queue memory (bounded by `queue.max_entries`), never request latency.
 *
 * @module
 */
import type { HttpRequester } from '../../codec/outbound.js'
import type { Pdk, PdkLog } from '../../pdk/types.js'
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin } from '../types.js'
import { warnCustomFieldsIgnored } from '../shared/custom-fields.js'
import { uninitialisedHttp } from '../shared/http-client.js'
import { Queue, type QueueConfig } from './queue.js'
import { orDefault } from '../../schema/index.js'
import { httpLogConfigFields, httpLogSchema, queueField, type HttpLogConfig } from './schema.js'

/** The configuration as the sender reads it: method, content type and timeouts always set. */
export interface SenderConf extends HttpLogConfig {
  readonly method: NonNullable<HttpLogConfig['method']>
  readonly content_type: NonNullable<HttpLogConfig['content_type']>
  readonly timeout: number
  readonly keepalive: number
}

export interface HttpLogPrepared {
  readonly conf: SenderConf
  readonly queueKey: string
  readonly queueName: string
  readonly queueConf: QueueConfig
  readonly origin: string
  readonly path: string
  readonly headers: Record<string, string>
  readonly host: string
}

/** Kong 3.9's handling of the deprecated fields: folded into `queue`. */
export function effectiveQueue(conf: HttpLogConfig): QueueConfig {
  const q = conf.queue
  const f = queueField.fields
  return {
    max_batch_size: conf.queue_size != null && q.max_batch_size === 1 ? conf.queue_size : orDefault(q.max_batch_size, f.max_batch_size),
    max_coalescing_delay:
      conf.flush_timeout != null && q.max_coalescing_delay === 1
        ? conf.flush_timeout
        : orDefault(q.max_coalescing_delay, f.max_coalescing_delay),
    max_entries: orDefault(q.max_entries, f.max_entries),
    max_bytes: q.max_bytes,
    max_retry_time: orDefault(q.max_retry_time, f.max_retry_time),
    initial_retry_delay: orDefault(q.initial_retry_delay, f.initial_retry_delay),
    max_retry_delay: orDefault(q.max_retry_delay, f.max_retry_delay),
    concurrency_limit: orDefault(q.concurrency_limit, f.concurrency_limit),
  }
}

/** `conf` with the defaults of the fields the sender reads where an explicit null was stored. */
function senderConf(conf: HttpLogConfig): SenderConf {
  const f = httpLogConfigFields
  return {
    ...conf,
    method: orDefault(conf.method, f.method),
    content_type: orDefault(conf.content_type, f.content_type),
    timeout: orDefault(conf.timeout, f.timeout),
    keepalive: orDefault(conf.keepalive, f.keepalive),
  }
}

export function prepareHttpLog(stored: HttpLogConfig, instance: Readonly<Record<string, unknown>>): HttpLogPrepared {
  const conf = senderConf(stored)
  const u = new URL(conf.http_endpoint)
  const headers: Record<string, string> = { 'content-type': conf.content_type }
  for (const [k, v] of Object.entries(conf.headers ?? {})) headers[k.toLowerCase()] = v
  if (u.username !== '' || u.password !== '') {
    headers['authorization'] =
      `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
  }
  const queueConf = effectiveQueue(conf)
  const id = typeof instance['id'] === 'string' ? instance['id'] : 'unknown'
  return {
    conf,
    queueConf,
    queueName: id,
    queueKey: `${id}:${JSON.stringify(stored)}`,
    origin: u.origin,
    path: `${u.pathname}${u.search}`,
    headers,
    host: `${u.hostname}:${u.port === '' ? (u.protocol === 'https:' ? '443' : '80') : u.port}`,
  }
}

/** Kong's payload: one JSON object when `max_batch_size` is 1, else a JSON array. */
export function payload(entries: readonly unknown[], maxBatchSize: number): string {
  return maxBatchSize === 1 && entries.length === 1 ? JSON.stringify(entries[0]) : JSON.stringify(entries)
}

const queues = new Map<string, Queue<Record<string, unknown>>>()

/** The node's outbound HTTP client, handed over by the plugin's init. */
let http: HttpRequester = uninitialisedHttp

/** Sends one batch: true on a 2xx/3xx answer, else the reason (Kong's wording). */
export async function sendBatch(p: HttpLogPrepared, entries: readonly unknown[]): Promise<true | string> {
  const body = payload(entries, p.queueConf.max_batch_size)
  const timeout = Math.max(1, p.conf.timeout)
  const res = await http.request({
    method: p.conf.method,
    origin: p.origin,
    path: p.path,
    headers: { ...p.headers, 'content-length': String(Buffer.byteLength(body)) },
    body,
    connectTimeoutMs: timeout,
    readTimeoutMs: timeout,
    totalTimeoutMs: timeout,
    keepAlive: { idleMs: p.conf.keepalive, connections: 16 },
  })
  if (!res.ok)
    return `failed request to ${p.host}: ${res.failure.kind === 'timeout' ? 'timeout' : (res.failure.code ?? res.failure.message)}`
  if (res.status < 400) return true
  return `request to ${p.host} returned status code ${res.status} and body ${res.body.toString('utf8').slice(0, 512)}`
}

function queueFor(p: HttpLogPrepared, log: Pick<PdkLog, 'warn' | 'err'>): Queue<Record<string, unknown>> {
  let q = queues.get(p.queueKey)
  if (q === undefined) {
    q = new Queue(p.queueName, p.queueConf, (batch) => sendBatch(p, batch), { warn: (m) => log.warn(m), err: (m) => log.err(m) })
    queues.set(p.queueKey, q)
  }
  return q
}

/** The worker's plugin logger (no request attached: queue lines are not about one request). */
let workerLog: Pick<PdkLog, 'warn' | 'err'> | null = null

export function httpLogLog(kong: Pdk, p: HttpLogPrepared): void {
  warnCustomFieldsIgnored(kong, p.conf.custom_fields_by_lua, `http-log ${p.queueKey}`)
  queueFor(p, workerLog ?? kong.log).enqueue(kong.serialize())
}

export const httpLog: Plugin<HttpLogConfig, HttpLogPrepared> = {
  name: 'http-log',
  version: KONG_COMPAT_VERSION,
  priority: 12,
  schema: httpLogSchema,
  init(ctx) {
    workerLog = ctx.log
    http = ctx.http
  },
  prepare: prepareHttpLog,
  log: httpLogLog,
}

export default httpLog
