/**
 * The plugins as `turnpike trace` runs them: the node's own plugins, each wrapped so that a dry
 * run of the real runloop shows what it decides on one request without a side effect.
 *
 * - Plugins whose access handler only reads the request and the configuration's entities
 *   (authentication, acl, ip-restriction, request-termination, request-size-limiting, cors,
 *   bot-detection, request-transformer) run their real handler: the decision is the one the proxy
 *   would take, from the same code (no second copy of a key lookup or an ACL check).
 * - Every other plugin (counters, caches, identity providers, loggers, custom plugins) is not run:
 *   it is listed with what it would do (rate-limiting: the limits it would count against).
 * - No plugin's response or log handlers run: nothing is logged, counted or cached.
 *
 * @module
 */
import type { AnyPlugin } from '../plugins/types.js'
import { PluginRegistry } from '../plugins/registry.js'

/** The `kong` object handlers receive (the PDK's type, reached through the plugin contract). */
type Kong = Parameters<NonNullable<AnyPlugin['access']>>[0]

/** Bundled plugins whose access handler has no effect beyond the request it answers or changes. */
const RUN_IN_TRACE: ReadonlySet<string> = new Set([
  'key-auth',
  'basic-auth',
  'jwt',
  'hmac-auth',
  'acl',
  'ip-restriction',
  'request-termination',
  'request-size-limiting',
  'cors',
  'bot-detection',
  'request-transformer',
])

/** What one plugin instance did (or would do) on the traced request. */
export interface PluginRun {
  readonly id: string
  readonly name: string
  /** The real access handler ran on the request. */
  readonly ran: boolean
  /** It answered the request itself (`kong.response.exit` / `error`): nothing goes upstream. */
  exited: boolean
  /** The consumer and credential known after it ran (authentication plugins set them). */
  consumer: { readonly id: string; readonly username: string | null } | null
  credential: string | null
  /** What it said in the error log while deciding (its own words: the reason of a refusal). */
  readonly log: string[]
  /** For a plugin that did not run: what it would do. */
  readonly note: string | null
}

/** The runs of one trace, in the order the access phase reached them. */
export class TraceRecorder {
  readonly runs: PluginRun[] = []
  current: PluginRun | null = null
}

interface Wrapped {
  readonly inner: unknown
  readonly row: Readonly<Record<string, unknown>>
}

/** Calls every function on its own object: the PDK's classes keep their state in private fields. */
function bound<T extends object>(target: T, overrides: Readonly<Record<string | symbol, unknown>>): T {
  return new Proxy(target, {
    get(t, p) {
      if (Object.hasOwn(overrides, p)) return overrides[p]
      const v: unknown = Reflect.get(t, p)
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v
    },
  })
}

function limitsOf(conf: Readonly<Record<string, unknown>>): string {
  const parts: string[] = []
  for (const unit of ['second', 'minute', 'hour', 'day', 'month', 'year']) {
    const v = conf[unit]
    if (typeof v === 'number') parts.push(`${v}/${unit}`)
  }
  return parts.length === 0 ? 'no limit set' : parts.join(', ')
}

/** What a plugin that is not run would do, from its configuration alone. */
function noteFor(name: string, conf: Readonly<Record<string, unknown>>): string {
  if (name === 'rate-limiting') {
    const by = typeof conf['limit_by'] === 'string' ? conf['limit_by'] : 'consumer'
    const policy = typeof conf['policy'] === 'string' ? conf['policy'] : 'local'
    return `would count this request against ${limitsOf(conf)} by ${by} (policy ${policy}; current counts not read) → 429 once a limit is reached`
  }
  if (name === 'proxy-cache') return 'would look the response up in the cache (not looked up: the cache lives in the workers)'
  return 'runs (no decision before the request is sent)'
}

function wrap(plugin: AnyPlugin, recorder: () => TraceRecorder | null): AnyPlugin {
  const runs = RUN_IN_TRACE.has(plugin.name) && plugin.access !== undefined
  const prepare = plugin.prepare
  const access = plugin.access
  return {
    name: plugin.name,
    version: plugin.version,
    priority: plugin.priority,
    schema: plugin.schema,
    ...(plugin.entities !== undefined ? { entities: plugin.entities } : {}),
    // Only the plugins that run need their prepared form; the others keep the configuration.
    prepare(conf: unknown, row: Readonly<Record<string, unknown>>): Wrapped {
      return { inner: runs && prepare !== undefined ? prepare.call(plugin, conf, row) : conf, row }
    },
    access(kong: Kong, w: Wrapped): void | Promise<void> {
      const rec = recorder()
      const run: PluginRun = {
        id: String(w.row['id']),
        name: plugin.name,
        ran: runs,
        exited: false,
        consumer: null,
        credential: null,
        log: [],
        note: runs ? null : noteFor(plugin.name, (w.row['config'] ?? {}) as Readonly<Record<string, unknown>>),
      }
      rec?.runs.push(run)
      if (!runs || rec === null) return
      rec.current = run
      const exit = (): void => {
        run.exited = true
      }
      const response = kong.response
      const spy = bound(kong, {
        response: bound(response, {
          exit: (...a: Parameters<typeof response.exit>) => (exit(), response.exit(...a)),
          error: (...a: Parameters<typeof response.error>) => (exit(), response.error(...a)),
        }),
      })
      const done = (): void => {
        const c = kong.client.getConsumer()
        run.consumer = c === null ? null : { id: c.id, username: typeof c.username === 'string' ? c.username : null }
        const cred = kong.client.getCredential()
        run.credential = cred === null ? null : String(cred.id)
        rec.current = null
      }
      const result = (access as NonNullable<AnyPlugin['access']>).call(plugin, spy, w.inner)
      if (result instanceof Promise) return result.then(done)
      done()
    },
  }
}

/** The node's plugins wrapped for tracing; `recorder()` names the trace in progress. */
export function traceRegistry(plugins: readonly AnyPlugin[], recorder: () => TraceRecorder | null): PluginRegistry {
  return new PluginRegistry(plugins.map((p) => wrap(p, recorder)))
}

/** Phases a plugin has handlers for, in the order they run. */
export function phasesOf(plugin: AnyPlugin | undefined): string[] {
  if (plugin === undefined) return []
  const out: string[] = []
  if (plugin.rewrite !== undefined) out.push('rewrite')
  if (plugin.access !== undefined) out.push('access')
  if (plugin.headerFilter !== undefined) out.push('header_filter')
  if (plugin.bodyFilter !== undefined) out.push('body_filter')
  if (plugin.log !== undefined) out.push('log')
  return out
}
