/**
 * The `correlation-id` plugin (Kong 3.9, priority 100001 — it was 1 until 3.8 —,
 * `kong/plugins/correlation-id`): gives each request an id in a header (`header_name`,
 * `Kong-Request-ID` by default) sent upstream, unless the client already sent a non-empty one,
 * which is kept. With `echo_downstream` the id is also sent back to the client.
 *
 * Generators: `uuid` (a random UUID), `uuid#counter` (a per-worker UUID and a counter:
 * `<uuid>#<n>`, the default), `tracker` (`<server_addr>-<server_port>-<pid>-<connection>-
 * <connection_requests>-<time>`). The id is also in the log serializer's output as
 * `correlation_id`.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import { typedefs as t } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { Pdk } from '../../pdk/types.js'
import { KONG_COMPAT_VERSION } from '../../version.js'
import type { Plugin, PluginSchema } from '../types.js'

export const GENERATORS = ['uuid', 'uuid#counter', 'tracker'] as const
export type Generator = (typeof GENERATORS)[number]

export const correlationIdConfigFields = {
  header_name: { type: 'string', default: 'Kong-Request-ID', description: 'The HTTP header name to use for the correlation ID.' },
  generator: {
    type: 'string',
    required: true,
    default: 'uuid#counter',
    one_of: GENERATORS,
    description:
      'The generator to use for the correlation ID. Accepted values are `uuid`, `uuid#counter`, and `tracker`. See [Generators](#generators).',
  },
  echo_downstream: {
    type: 'boolean',
    required: true,
    default: false,
    description: 'Whether to echo the header back to downstream (the client).',
  },
} as const satisfies Record<string, Field>

export const correlationIdSchema: PluginSchema = {
  config: correlationIdConfigFields,
  protocols: t.HTTP_PROTOCOLS,
}

/** The validated `config`, inferred from its schema. */
export type CorrelationIdConfig = InferFields<typeof correlationIdConfigFields>

/** Per-worker state of the `uuid#counter` generator. */
const worker = { uuid: randomUUID(), counter: 0 }
/** Requests seen per connection, for the `tracker` generator (keys: `<peer ip>:<peer port>`). */
let trackerConnections = new Map<string, { id: number; requests: number }>()
let trackerNextConnection = 0

/** Kong's generators. `kong` is needed by `tracker` only. */
export function generateId(generator: Generator, kong?: Pdk): string {
  switch (generator) {
    case 'uuid':
      return randomUUID()
    case 'uuid#counter':
      return `${worker.uuid}#${++worker.counter}`
    case 'tracker': {
      // nginx's $connection / $connection_requests, approximated by the client's address and port
      // (one TCP connection) seen by this worker.
      const key = kong === undefined ? '' : `${kong.client.getPeerIp()}:${kong.client.getPort()}`
      let c = trackerConnections.get(key)
      if (c === undefined) {
        if (trackerConnections.size > 10_000) trackerConnections = new Map()
        c = { id: ++trackerNextConnection, requests: 0 }
        trackerConnections.set(key, c)
      }
      c.requests++
      const host = kong?.request.getHost() ?? '127.0.0.1'
      const port = kong?.request.getPort() ?? 0
      return `${host}-${port}-${process.pid}-${c.id}-${c.requests}-${(Date.now() / 1000).toFixed(3)}`
    }
  }
}

export function correlationIdAccess(kong: Pdk, conf: CorrelationIdConfig): void {
  const name = conf.header_name ?? 'Kong-Request-ID'
  let id = kong.request.getHeader(name)
  if (id === undefined || id === '') {
    id = generateId(conf.generator, kong)
    kong.service.request.setHeader(name, id)
  }
  kong.log.setSerializeValue?.('correlation_id', id)
  if (conf.echo_downstream) kong.ctx.plugin['id'] = id
}

export function correlationIdHeaderFilter(kong: Pdk, conf: CorrelationIdConfig): void {
  if (!conf.echo_downstream) return
  const name = conf.header_name ?? 'Kong-Request-ID'
  // Without the access phase (the request ended before it), Kong takes the client's or a new one.
  let id = kong.ctx.plugin['id'] as string | undefined
  id ??= kong.request.getHeader(name)
  if (id === undefined || id === '') id = generateId(conf.generator, kong)
  kong.response.setHeader(name, id)
}

export const correlationId: Plugin<CorrelationIdConfig> = {
  name: 'correlation-id',
  version: KONG_COMPAT_VERSION,
  priority: 100001,
  schema: correlationIdSchema,
  init() {
    worker.uuid = randomUUID()
    worker.counter = 0
  },
  access: correlationIdAccess,
  headerFilter: correlationIdHeaderFilter,
}

export default correlationId
