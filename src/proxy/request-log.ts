/**
 * A request's log lines: the error-log context every line carries (client, request, upstream
 * actually used, host, request id, hint), the upstream-failure and plugin-failure lines, and the
 * access-log entry written when the request ends.
 */
import { firstRawValue } from '../codec/request-header-values.js'
import { UPSTREAM_SPEAKS_TLS } from '../errors/registry.js'
import type { LogContext } from '../observability/error-log.js'
import type { PluginInstance } from '../plugins/plan.js'
import type { Phase } from '../plugins/types.js'
import { probeSpeaksTls } from './protocol-probe.js'
import type { RequestContext } from './request-context.js'
import type { UpstreamFailure } from './upstream-failure.js'
import type { UpstreamTarget } from './types.js'

/** The service as log lines name it: `"name"`, else its id. */
export function serviceLabel(ctx: RequestContext): string {
  const s = ctx.compiledService
  if (s === null) return ''
  return s.name !== null ? `"${s.name}"` : s.id
}

/** The error-log context of this request, with `extra` fields (hint …) after it. */
export function logContext(ctx: RequestContext, extra: LogContext): LogContext {
  const d = ctx.d
  const t = ctx.target
  const host = d.headers['host']
  return {
    connection: d.connectionId,
    client: ctx.clientIp,
    request: `${d.method} ${d.url} HTTP/${d.httpVersion}`,
    ...(t !== null
      ? {
          upstream: `${t.scheme}://${t.address.includes(':') ? `[${t.address}]` : t.address}:${t.port}${ctx.upstreamPath}${ctx.upstreamQuery === null ? '' : `?${ctx.upstreamQuery}`}`,
          upstream_host: `${t.hostname}:${t.port}`,
        }
      : {}),
    ...(typeof host === 'string' ? { host } : {}),
    request_id: ctx.requestId,
    ...extra,
  }
}

export function logError(ctx: RequestContext, level: 'error' | 'warn' | 'info', message: string, extra: LogContext): void {
  ctx.proxy.errorLog.log(level, message, logContext(ctx, extra))
}

/** Characters of the upstream's `Server` header quoted in the line. */
const SERVER_SHOWN = 80

/**
 * A 5xx the upstream itself answered (nothing failed on the gateway's side: it connected, sent the
 * request and got a status back), in one `notice` line naming the address that answered. A 502
 * the gateway makes logs `[error] … while connecting to upstream` (or reading) instead; this
 * line is how the two are told apart. Logged once per request: a status ends the request (the
 * gateway retries on connection errors and timeouts, never on a status), so the address named is
 * the one whose answer the client got.
 */
export function logUpstreamStatus(ctx: RequestContext, status: number, raw: readonly string[]): void {
  const log = ctx.proxy.errorLog
  const t = ctx.target
  if (status < 500 || t === null || !log.enabled('notice')) return
  const v = firstRawValue(raw, 'server')
  const server = v === undefined || v.length <= SERVER_SHOWN ? v : `${v.slice(0, SERVER_SHOWN)}…`
  const address = `${t.address.includes(':') ? `[${t.address}]` : t.address}:${t.port}`
  log.log(
    'notice',
    `upstream produced ${status} itself: ${address}${t.hostname !== t.address ? ` (${t.hostname})` : ''} answered ${status} and the gateway passed it through${ctx.tries > 1 ? ` (attempt ${ctx.tries}: the earlier ones failed, see their lines)` : ''}`,
    logContext(ctx, {
      ...(server !== undefined ? { upstream_server: server } : {}),
      hint: `the ${status} comes from the upstream or something behind it (a load balancer, a proxy, the application); read its logs for this request, not the gateway's`,
    }),
  )
}

/** One failed upstream attempt, in nginx's words, with whether it is retried. */
export function logUpstreamFailure(ctx: RequestContext, failure: UpstreamFailure, retrying: boolean, free = false): void {
  const log = ctx.proxy.errorLog
  if (!log.enabled('error')) return
  const suffix = free
    ? ' (reused keep-alive connection; retrying on a new connection)'
    : retrying
      ? ` (attempt ${ctx.tries}; retrying)`
      : ''
  const ctxFields = logContext(ctx, { hint: failure.hint })
  const t = ctx.target as UpstreamTarget
  if (failure.kind === 'premature_close' && t.scheme === 'http' && !ctx.d.headersSent) {
    // Confirm the most common cause before saying it: try a TLS handshake with the upstream.
    void probeSpeaksTls(t.address, t.port, t.servername).then((tls) => {
      if (tls) ctxFields.hint = UPSTREAM_SPEAKS_TLS.hint(t)
      log.error(failure.log + suffix, ctxFields)
    })
    return
  }
  log.error(failure.log + suffix, ctxFields)
}

/** A plugin handler threw: the line names the plugin, its instance, the phase and the route. */
export function logPluginError(ctx: RequestContext, inst: PluginInstance, phase: Phase, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err)
  const route = ctx.match?.route
  const where = route === undefined ? '' : ` on route "${route.name ?? route.id}"`
  const stack =
    err instanceof Error && err.stack !== undefined
      ? err.stack
          .split('\n')
          .slice(1, 3)
          .map((l) => l.trim())
          .join(' <- ')
      : undefined
  ctx.proxy.errorLog.error(
    `plugin "${inst.name}" (instance ${inst.id}) failed in the ${phase} phase${where}: ${message}`,
    logContext(ctx, { ...(stack !== undefined ? { stack } : {}) }),
  )
}

/** The access-log line (Kong's format), when the access log is on. */
export function writeAccessLog(ctx: RequestContext): void {
  const accessLog = ctx.proxy.accessLog
  if (!accessLog.enabled) return
  const d = ctx.d
  const h = d.headers
  accessLog.write({
    remoteAddr: ctx.clientIp,
    method: d.method,
    url: d.url,
    httpVersion: d.httpVersion,
    status: ctx.responseStatus,
    bytesSent: ctx.bytes,
    referer: typeof h['referer'] === 'string' ? h['referer'] : undefined,
    userAgent: typeof h['user-agent'] === 'string' ? h['user-agent'] : undefined,
    requestId: ctx.requestId,
  })
}
