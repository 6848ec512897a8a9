/**
 * Upstream attempts, as undici's retry handler wraps a dispatch: resolve the service host (DNS,
 * cached) or pick a target from the upstream entity's balancer, send, and on failure classify it
 * (upstream-failure.ts), report it to passive health checks, and retry while the service's
 * `retries` and the request allow it; otherwise answer Kong's 502/503/504. The attempt's state
 * lives on the request context (no object per attempt).
 */
import type { Address, Balancer, PickFailure } from '../balancer/balancer.js'
import * as E from '../errors/registry.js'
import type { CompiledService } from '../snapshot/snapshot.js'
import { hostWithoutPort } from './forwarding.js'
import { wireHeaderList } from '../codec/header-values.js'
import { localError } from './local-response.js'
import type { RequestContext } from './request-context.js'
import { logError, logUpstreamFailure, serviceLabel } from './request-log.js'
import type { ResolveResult } from './resolver.js'
import { classifyUpstreamFailure, isIdempotent } from './upstream-failure.js'
import type { UpstreamErrorInfo, UpstreamSink, UpstreamTarget } from './types.js'

/** The request context, which is also the sink of its attempts (no closures per attempt). */
export type AttemptContext = RequestContext & UpstreamSink

/** Starts the next attempt: balancer, IP literal, or DNS (sync from the cache when it can). */
export function attempt(ctx: AttemptContext): void {
  const service = ctx.compiledService as CompiledService
  ctx.tries++
  const balancers = ctx.snapshot.balancers
  const balancer = balancers.size === 0 ? undefined : balancers.get(service.host.toLowerCase())
  if (balancer !== undefined) return balance(ctx, balancer)
  if (service.hostIsIp) {
    send(ctx, service.host)
    return
  }
  const resolver = ctx.proxy.resolver
  const resolved = resolver.resolve(service.host)
  if (resolved instanceof Promise) {
    resolved.then(
      (r) => afterResolve(ctx, r),
      (err: unknown) =>
        afterResolve(ctx, {
          ok: false,
          name: service.host,
          message: String(err),
          code: 'ERROR',
          notFound: false,
          tried: '[]',
          nameservers: resolver.nameservers,
        }),
    )
  } else afterResolve(ctx, resolved)
}

function afterResolve(ctx: AttemptContext, r: ResolveResult): void {
  if (ctx.clientGone) return ctx.finish()
  if (r.ok) return send(ctx, r.address, r.port ?? undefined)
  const service = ctx.compiledService as CompiledService
  // Kong (runloop/balancer/init.lua): log the try list; a name error or an empty answer is
  // 503 `name resolution failed`, any other failure (SERVFAIL, timeout …) 500 with the error.
  const e = r.notFound ? E.DNS_NOT_FOUND : E.DNS_ERROR
  logError(ctx, 'error', `DNS resolution failed: ${r.message}. Tried: ${r.tried}`, {
    resolver: r.nameservers,
    hint: e.hint({ host: service.host, service: serviceLabel(ctx), nameservers: r.nameservers, code: r.code }),
  })
  localError(ctx, e, E.errorMessage(e, { host: service.host, error: r.message }))
}

/** Picks a target address from the upstream's balancer (never DNS for the upstream name). */
function balance(ctx: AttemptContext, b: Balancer): void {
  if (ctx.clientGone) return ctx.finish()
  const waiting = b.refresh()
  if (waiting !== null && b.peers.length === 0) {
    waiting.then(
      () => balance(ctx, b),
      () => balance(ctx, b),
    )
    return
  }
  if (ctx.hash === undefined) {
    const d = ctx.d
    const q = d.url.indexOf('?')
    const h = b.hashFor({
      consumerId: ctx.consumer?.id ?? null,
      clientIp: ctx.clientIp,
      headers: ctx.headers,
      path: ctx.normalizedPath,
      query: q === -1 ? null : d.url.slice(q + 1),
      captures: ctx.match?.captures ?? null,
    })
    ctx.hash = h.hash
    ctx.setCookie = h.setCookie
  }
  const picked = b.pick(ctx.hash, ctx.tried)
  if (!picked.ok) return noPeer(ctx, b, picked.reason)
  const a = picked.address
  ctx.balancer = b
  ctx.address = a
  ;(ctx.tried ??= new Set()).add(a)
  setTargetHost(ctx, b, a)
  send(ctx, a.ip, a.port, a.target.host, a)
}

/** Host header for a target (spec §2.3): the upstream's host_header, else the target's host. */
function setTargetHost(ctx: AttemptContext, b: Balancer, a: Address): void {
  if (ctx.match?.route.preserve_host === true) return
  const service = ctx.compiledService as CompiledService
  const h = ctx.upstreamHeaders
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] !== 'host') continue
    const current = h[i + 1]
    // A plugin that set its own Host keeps it.
    if (current !== service.hostHeader && current !== ctx.targetHost) return
    const defaultPort = a.port === (service.protocol === 'https' || service.protocol === 'grpcs' ? 443 : 80)
    const host = a.target.host.includes(':') ? `[${a.target.host}]` : a.target.host
    const value = b.upstream.host_header ?? (defaultPort ? host : `${host}:${a.port}`)
    h[i + 1] = value
    ctx.targetHost = value
    return
  }
}

/** Nothing to pick: Kong's 503 on the first try, its balancer-phase line on retries. */
function noPeer(ctx: AttemptContext, b: Balancer, reason: PickFailure): void {
  const service = ctx.compiledService as CompiledService
  const hint = E.NO_PEER.hint({
    upstream: b.upstream.name,
    reason,
    targets:
      b.targets.length === 0
        ? null
        : b.targets
            .map((t) => `${t.host}:${t.port}${t.weight === 0 ? ' (weight 0)' : t.addresses.length === 0 ? ` (${t.dns})` : ''}`)
            .join(', '),
  })
  if (ctx.tries > 1) {
    logError(
      ctx,
      'error',
      `failed to retry the dns/balancer resolver for ${service.host}' with: failure to get a peer from the ring-balancer`,
      { hint },
    )
    localError(ctx, E.NO_PEER_ON_RETRY)
    return
  }
  logError(ctx, 'error', `failure to get a peer from the ring-balancer (${reason})`, { hint })
  localError(ctx, E.NO_PEER)
}

/** The current attempt's address is done with (least-connections counts, latency EWMA). */
export function releasePeer(ctx: RequestContext, latencyMs: number | null): void {
  const a = ctx.address
  if (a === null) return
  ctx.address = null
  ;(ctx.balancer as Balancer).release(a, latencyMs)
}

/** Sends the request to `address` (a balancer's `peer` when the service has an upstream entity). */
function send(ctx: AttemptContext, address: string, srvPort?: number, targetHost?: string, peer?: Address): void {
  const service = ctx.compiledService as CompiledService
  let target: UpstreamTarget
  if (srvPort === undefined && targetHost === undefined && ctx.sni === null) target = serviceTarget(service, address)
  else {
    const servername = ctx.sni ?? (targetHost !== undefined ? hostWithoutPort(ctx.targetHost ?? targetHost) : service.sni)
    // An SRV answer gives the port (Kong ignores the service's port then).
    target =
      peer !== undefined
        ? peerTarget(service, peer, servername)
        : buildTarget(service, address, srvPort ?? service.port, targetHost ?? service.host, servername)
  }
  ctx.target = target
  ctx.attempts.push(target)
  if (ctx.sentAt === 0) ctx.sentAt = performance.now()
  const d = ctx.d
  const upgrade = d.headers['upgrade']
  ctx.proxy.upstream.send(
    target,
    {
      method: ctx.upstreamMethod,
      path: ctx.upstreamQuery === null ? ctx.upstreamPath : `${ctx.upstreamPath}?${ctx.upstreamQuery}`,
      // Values plugins set may hold text node and undici refuse (see header-values.ts). Without
      // plugins the list is the client's headers (its parser refused what could not be sent on)
      // and the gateway's own (upstreamHeaders: peer bytes, hostnames, numbers), sendable as is.
      headers: ctx.plan === null ? ctx.upstreamHeaders : wireHeaderList(ctx.upstreamHeaders),
      body: ctx.upstreamBody ?? d.body,
      // Kong forwards only WebSocket upgrades (others, h2c …, go as plain requests), always as
      // `Upgrade: websocket` (its runloop sets `$upstream_upgrade` to that literal).
      upgrade:
        typeof upgrade === 'string' && upgrade.toLowerCase() === 'websocket' && isUpgradeRequest(d.headers['connection'])
          ? 'websocket'
          : null,
    },
    ctx,
  )
}

/**
 * The upstream's response headers arrived: passive health checks see the status, the latency
 * algorithm the time to the headers. The address stays counted as busy until the body is through
 * (the request's end releases it).
 */
export function attemptAnswered(ctx: RequestContext, status: number): void {
  const a = ctx.address
  if (a === null) return
  const b = ctx.balancer as Balancer
  b.reportStatus(a, status)
  b.release(a, ctx.headersAt - ctx.sentAt)
  a.active++
}

/** The attempt failed: classify, log, report to passive health, then retry or answer 502/504. */
export function attemptFailed(ctx: AttemptContext, error: Error, info: UpstreamErrorInfo): void {
  const t = ctx.target as UpstreamTarget
  const d = ctx.d
  const settings = ctx.proxy.settings
  const failure = classifyUpstreamFailure(error, info, {
    // gRPC over TLS fails the ways HTTPS does (handshake, verification).
    scheme: t.scheme === 'https' || t.scheme === 'grpcs' ? 'https' : 'http',
    hostname: t.hostname,
    address: t.address,
    port: t.port,
    connectTimeout: t.connectTimeout,
    readTimeout: t.readTimeout,
    writeTimeout: t.writeTimeout,
    keepaliveIdleTimeout: settings.keepaliveIdleTimeout,
    maxHeaderSize: settings.maxHeaderSize,
    method: d.method,
    hasBody: d.body !== null,
  })
  if (d.headersSent) {
    // Mid-body failure: the status is gone already; cut the client connection as nginx does.
    logUpstreamFailure(ctx, failure, false)
    d.destroy()
    ctx.finish()
    return
  }
  const service = ctx.compiledService as CompiledService
  const resendable = isIdempotent(d.method) && d.body === null
  const failedAddress = ctx.address
  if (failedAddress !== null) {
    releasePeer(ctx, null)
    // Passive health checks: a timeout or a TCP-level failure of this target (not a stale keep-alive).
    if (failure.kind !== 'stale_keepalive') {
      ;(ctx.balancer as Balancer).report(
        failedAddress,
        failure.health === 'timeout' ? { kind: 'timeout', detail: failure.log } : { kind: 'tcp_failure', detail: failure.log },
      )
    }
  }
  // nginx: an error on a cached (keep-alive) connection does not use up a try (`u->peer.tries++`
  // in ngx_http_upstream_next), so a stale connection is retried even with retries=0. Bounded:
  // the adapter's "reused" flag is a heuristic (bytes read on the socket), and the connection
  // that replaces a stale one is normally fresh.
  const free = failure.kind === 'stale_keepalive' && resendable && ctx.freeRetries < 2
  if (free) {
    ctx.freeRetries++
    ctx.tries--
  }
  const retry =
    ctx.tries <= service.retries &&
    (failure.beforeSend ||
      (resendable &&
        (failure.kind === 'stale_keepalive' ||
          failure.kind === 'reset' ||
          failure.kind === 'premature_close' ||
          failure.kind === 'read_timeout')))
  logUpstreamFailure(ctx, failure, retry, free)
  if (retry) {
    attempt(ctx)
    return
  }
  localError(ctx, failure.error)
}

/**
 * Addresses remembered per service: a DNS name answers with a handful at a time; one whose
 * answers keep changing would otherwise add targets until the next configuration change.
 */
const MAX_SERVICE_TARGETS = 64

/** The target for a service's own host resolved to `address`: built once per service and address. */
export function serviceTarget(service: CompiledService, address: string): UpstreamTarget {
  let t = service.targets.get(address)
  if (t === undefined) {
    if (service.targets.size >= MAX_SERVICE_TARGETS) service.targets.clear()
    t = buildTarget(service, address, service.port, service.host, service.sni)
    service.targets.set(address, t)
  }
  return t
}

/**
 * The target for a balancer address, built once per service and address: the common request
 * reuses it (and so its connection pool, found without building a key). A different SNI (a route
 * that preserves the client's Host) builds and remembers a new one.
 */
export function peerTarget(service: CompiledService, peer: Address, servername: string): UpstreamTarget {
  let t = service.peerTargets.get(peer)
  if (t === undefined || t.servername !== servername) {
    t = buildTarget(service, peer.ip, peer.port, peer.target.host, servername)
    service.peerTargets.set(peer, t)
  }
  return t
}

function buildTarget(service: CompiledService, address: string, port: number, hostname: string, servername: string): UpstreamTarget {
  return {
    scheme: service.protocol,
    address,
    port,
    hostname,
    connectTimeout: service.connect_timeout,
    readTimeout: service.read_timeout,
    writeTimeout: service.write_timeout,
    tls: service.tls,
    servername,
  }
}

function isUpgradeRequest(connection: string | string[] | undefined): boolean {
  return typeof connection === 'string' && /\bupgrade\b/i.test(connection)
}
