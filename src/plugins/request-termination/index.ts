/**
 * The `request-termination` plugin (Kong 3.9, priority 2, `kong/plugins/request-termination`):
 * answers every request itself, with `status_code` (503) and either `{"message": …}` (`message`,
 * else Kong's default text for the status), or `body` with `content_type`, or — with `echo` — a
 * JSON copy of the request (Kong's shape: `message`, `kong{node_id, worker_pid, hostname}`,
 * `request{scheme, host, port, headers, query, body, raw_body, method, path}`, `matched_route`,
 * `matched_service`). With `trigger`, only requests carrying that header or query argument are
 * terminated; others go through untouched.
 *
 * @module
 */
import { hostname } from 'node:os'
import { typedefs as t, orDefault } from '../../schema/index.js'
import type { Field, InferFields } from '../../schema/index.js'
import type { Pdk } from '../../pdk/types.js'
import { KONG_COMPAT_VERSION } from '../../version.js'
import { routeLabel } from '../shared/consumer.js'
import type { Plugin, PluginSchema } from '../types.js'

/** Kong's default messages (`DEFAULT_RESPONSE` in the handler). */
export const DEFAULT_MESSAGES: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  404: 'Not found',
  405: 'Method not allowed',
  500: 'An unexpected error occurred',
  502: 'Bad Gateway',
  503: 'Service unavailable',
}

export const requestTerminationConfigFields = {
  status_code: {
    type: 'integer',
    default: 503,
    between: [100, 599],
    description: 'The response code to send. Must be an integer between 100 and 599.',
  },
  message: { type: 'string', description: 'The message to send, if using the default response generator.' },
  content_type: { type: 'string', description: 'Content type of the raw response configured with `config.body`.' },
  body: { type: 'string', description: 'The raw response body to send. This is mutually exclusive with the `config.message` field.' },
  echo: {
    type: 'boolean',
    required: true,
    default: false,
    description:
      'When set, the plugin will echo a copy of the request back to the client. The main usecase for this is debugging. It can be combined with `trigger` in order to debug requests on live systems without disturbing real traffic.',
  },
  trigger: { ...t.header_name, description: 'A string representing an HTTP header name.' },
} as const satisfies Record<string, Field>

const present = (v: unknown): boolean => typeof v === 'string' && v.length > 0

/** Kong's `custom_validator` on the config record (messages reported under `config`). */
export function validateTerminationConfig(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return undefined
  const c = value as Record<string, unknown>
  if (present(c['message']) && (present(c['content_type']) || present(c['body']))) return 'message cannot be used with content_type or body'
  if (present(c['content_type']) && !present(c['body'])) return 'content_type requires a body'
  if (c['echo'] === true && (present(c['content_type']) || present(c['body']))) return 'echo cannot be used with content_type and body'
  return undefined
}

export const requestTerminationSchema: PluginSchema = {
  config: requestTerminationConfigFields,
  config_validator: validateTerminationConfig,
  protocols: t.HTTP_PROTOCOLS,
}

/** The validated `config`, inferred from its schema. */
export type RequestTerminationConfig = InferFields<typeof requestTerminationConfigFields>

let nodeId = ''

export async function requestTerminationAccess(kong: Pdk, conf: RequestTerminationConfig): Promise<void> {
  const status = orDefault(conf.status_code, requestTerminationConfigFields.status_code)
  if (conf.trigger != null) {
    const query = kong.request.getQuery()
    // Kong tests truthiness: a bare `?trigger` counts, an absent one does not.
    if (kong.request.getHeader(conf.trigger) === undefined && query[conf.trigger] === undefined) return
  }
  if (conf.echo) {
    const raw = await kong.request.getRawBody()
    const parsed = await kong.request.getBody()
    const request: Record<string, unknown> = {
      scheme: kong.request.getScheme(),
      host: kong.request.getHost(),
      port: kong.request.getPort(),
      headers: kong.request.getHeaders(),
      query: kong.request.getQuery(),
      ...(parsed !== null ? { body: parsed.args } : {}),
      raw_body: raw.toString('utf8'),
      method: kong.request.getMethod(),
      path: kong.request.getPath(),
    }
    const content: Record<string, unknown> = {
      message: conf.message ?? DEFAULT_MESSAGES[status],
      kong: { node_id: nodeId, worker_pid: process.pid, hostname: hostname() },
      request,
    }
    const route = kong.router.getRoute()
    const service = kong.router.getService()
    if (route !== null) content['matched_route'] = route
    if (service !== null) content['matched_service'] = service
    kong.log.debug(`echoing the request with ${status} on ${routeLabel(kong)}`)
    kong.response.exit(status, content)
    return
  }
  if (conf.body != null) {
    kong.response.exit(status, conf.body, conf.content_type != null ? { 'Content-Type': conf.content_type } : undefined)
    return
  }
  const message = conf.message ?? DEFAULT_MESSAGES[status]
  kong.response.exit(status, message !== undefined ? { message } : null)
}

export const requestTermination: Plugin<RequestTerminationConfig> = {
  name: 'request-termination',
  version: KONG_COMPAT_VERSION,
  priority: 2,
  schema: requestTerminationSchema,
  init(ctx) {
    nodeId = ctx.nodeId
  },
  access: requestTerminationAccess,
}

export default requestTermination
