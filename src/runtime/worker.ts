/**
 * A proxy worker process: receives configurations from the control plane, compiles them into
 * snapshots (keeping the previous one if compiling fails) and serves proxy traffic.
 */
import type { HttpServer as Server } from '../http/node-proxy-server.js'
import type { GatewayConfig } from '../config/index.js'
import { createProxyServer, type ConnectionStats } from '../http/node-proxy-server.js'
import { outbound, setOutboundTlsProtocols } from '../http/outbound.js'
import { UndiciUpstream } from '../http/undici-upstream.js'
import { H2Upstream, SchemeUpstream } from '../http/h2-upstream.js'
import { CertificateContexts, type ListenerTls, SessionCache, tlsPolicy } from '../http/tls.js'
import { AccessLog } from '../observability/access-log.js'
import { ErrorLog } from '../observability/error-log.js'
import { openLogSink } from '../observability/log-file.js'
import { HostResolver, dnsOptions } from '../proxy/resolver.js'
import { Proxy } from '../proxy/runloop.js'
import { BalancerRegistry, HealthView } from '../balancer/balancer.js'
import { SNAPSHOT_CORE_ENTITIES } from '../entities/index.js'
import { entityRegistry } from '../plugins/entity.js'
import { loadPlugins, type PluginRegistry } from '../plugins/registry.js'
import { storeEntity } from '../schema/index.js'
import { buildSnapshot, type ConfigPayload } from '../snapshot/snapshot.js'
import { loadUpstreamTrust } from './upstream-trust.js'
import { SnapshotSwitch } from '../snapshot/switch.js'
import { ReferenceResolver } from '../snapshot/vault-references.js'
import { onRegexTimeout, REGEX_MATCH_TIMEOUT_MS } from '../regex/bounded-regex.js'
import { nodeId } from './node-id.js'
import type { ToPrimary, ToWorker } from './messages.js'
import { listenFailure } from './listen-failure.js'
import { workerListenOptions } from './accept-mode.js'
import { listenerCertificates } from './tls-certificates.js'
import { proxySettings, UPSTREAM_MAX_HEADER_SIZE } from './proxy-settings.js'
import { CounterClient } from '../counters/client.js'
import { createDispatcher } from './dispatch.js'
import { PluginCalls } from './plugin-calls.js'

function send(msg: ToPrimary): void {
  process.send?.(msg)
}

/** Runs a worker until the primary tells it to stop. */
export async function runWorker(config: GatewayConfig): Promise<void> {
  // The same plugins as the primary (it refuses to start if they do not load).
  const registry: PluginRegistry = await loadPlugins(config.plugins, config.plugins_path)
  const schemas = entityRegistry(registry, { vaults: config.vaults, database: config.database })
  const entityLayouts = Object.values(schemas)
    .filter((e) => !SNAPSHOT_CORE_ENTITIES.includes(e.name))
    .map((e) => storeEntity(e))
  const errorLog = new ErrorLog(openLogSink(config.proxy_error_log), config.log_level)
  // Kong's PCRE logs a match that exceeds its match limit and treats it as no match; so do we.
  onRegexTimeout((source, length) => {
    errorLog.error(
      `regex match stopped after ${REGEX_MATCH_TIMEOUT_MS} ms and treated as no match: pattern ${JSON.stringify(source.slice(0, 200))} on ${length} characters of input`,
    )
  })
  const accessSink =
    config.proxy_access_log === 'off' ? null : openLogSink(config.proxy_access_log, { batchBytes: 32 * 1024, encoding: 'latin1' })
  const accessLog = new AccessLog(accessSink)
  // Lines are buffered (32 KiB) so busy workers write in batches; a quiet gateway still shows each
  // line within a second, as `tail -f` users expect. The periodic write is asynchronous: a
  // synchronous flush (with its fsync) would stall requests on a slow disk.
  if (accessSink !== null) setInterval(() => accessSink.drain(), 1000).unref()
  // grpc/grpcs services go over HTTP/2 sessions, every other one over the HTTP/1.1 pools.
  const upstream = new SchemeUpstream(
    new UndiciUpstream({
      keepaliveIdleTimeout: config.upstream_keepalive_idle_timeout,
      keepaliveMaxRequests: config.upstream_keepalive_max_requests,
      maxHeaderSize: UPSTREAM_MAX_HEADER_SIZE,
    }),
    new H2Upstream({ keepaliveIdleTimeout: config.upstream_keepalive_idle_timeout }),
  )
  const connections: ConnectionStats = { accepted: 0, active: 0 }
  let proxy: Proxy | null = null
  const servers: Server[] = []
  let stopping = false

  // TLS listeners: the policy of kong.conf's ssl_* settings, the default certificates (the
  // primary made or checked them before forking) and a context per stored certificate, prepared
  // when a configuration is applied; the handshake's SNI callback only looks them up.
  const tlsPolicyOf = tlsPolicy(config)
  const certificateContexts = new CertificateContexts(tlsPolicyOf, (id, err) =>
    errorLog.error(`certificate ${id} cannot be served, its SNIs get the default certificate: ${err.message}`),
  )
  const proxyTls = (): ListenerTls => ({
    policy: tlsPolicyOf,
    // Only needed without tickets: with them, clients resume by ticket, and OpenSSL would hand every
    // TLSv1.3 handshake's tickets to the cache for nothing.
    ...(config.ssl_session_tickets ? {} : { sessionCache: new SessionCache(config.ssl_session_cache_size, config.ssl_session_timeout) }),
    defaults: listenerCertificates(config, 'proxy', { generate: false }),
    select: (name) => {
      const c = snapshots.current?.certificates.find(name)
      if (c?.unresolved === true) return null
      return c === undefined || c === null ? undefined : certificateContexts.get(c.id)
    },
  })

  /** A listener could not be opened: the primary prints the reason and stops; exit once it has the message. */
  const listenFailed = (error: string): void => {
    errorLog.crit(error)
    if (process.send === undefined) process.exit(1)
    process.send({ type: 'listen-failed', error } satisfies ToPrimary, () => process.exit(1))
  }

  const listen = (p: Proxy): void => {
    const all = config.proxy_listen
    let pending = all.length
    if (pending === 0) send({ type: 'listening' })
    let tls: ListenerTls | undefined
    try {
      tls = all.some((l) => l.ssl) ? proxyTls() : undefined
    } catch (err) {
      return listenFailed(`could not open the TLS proxy listeners: ${(err as Error).message}`)
    }
    // Kong's template puts `http2 on` in the proxy server block when one listener has the flag:
    // nginx then serves HTTP/2 on every listener of the block.
    const http2 = all.some((l) => l.http2)
    for (const l of all) {
      const server = createProxyServer(
        p,
        {
          scheme: l.ssl ? 'https' : 'http',
          // nginx's keepalive_timeout 0 closes every connection after its response
          keepAliveTimeout: Math.max(config.nginx_http_keepalive_timeout, 1) / 1000,
          keepAliveRequests: config.nginx_http_keepalive_timeout === 0 ? 1 : config.nginx_http_keepalive_requests,
          headerTimeout: config.nginx_http_client_header_timeout,
          bodyTimeout: config.nginx_http_client_body_timeout,
          http2,
          ...(l.ssl && tls !== undefined ? { tls, errorLog, plainPort: all.find((p) => !p.ssl)?.port } : {}),
        },
        connections,
      )
      servers.push(server)
      server.on('error', (err: NodeJS.ErrnoException) => {
        // Before listening, the listen itself failed; later errors (accept) are not about the address.
        listenFailed(server.listening ? `proxy listener ${l.host}:${l.port} failed: ${err.message}` : listenFailure(err, l, 'proxy_listen'))
      })
      server.listen(workerListenOptions(l), () => {
        if (--pending === 0) send({ type: 'listening' })
      })
    }
  }

  const resolver = new HostResolver(dnsOptions(config))
  // Load balancing: one health view per node, pushed by the primary; proxied outcomes that passive
  // health checks count go back to it.
  const healthView = new HealthView()
  const balancers = new BalancerRegistry({
    resolver,
    health: healthView,
    report: (upstreamId, a, outcome) =>
      send({ type: 'passive', upstream: upstreamId, ip: a.ip, port: a.port, hostname: a.target.host, outcome }),
  })
  // lua_ssl_trusted_certificate: read once; every configuration's services share it.
  const upstreamTrust = loadUpstreamTrust(config)
  // lua_ssl_protocols: the TLS versions of the gateway's own connections (plugins' HTTP clients).
  setOutboundTlsProtocols(config.lua_ssl_protocols)
  // Vault references are resolved from this process's environment, inherited from the primary.
  const references = new ReferenceResolver(schemas, { loaded: config.vaults, envPrefix: config.vault_env_prefix, env: process.env })
  const snapshots = new SnapshotSwitch((payload) =>
    buildSnapshot(payload, {
      registry,
      balancers,
      upstreamTrust,
      entities: entityLayouts,
      onSkip: (row, reason) => errorLog.warn(`plugin instance ${String(row['id'])} is not run: ${reason}`),
      references,
      onReferenceProblem: (p) =>
        errorLog.warn(`unable to resolve reference ${p.reference} (${p.error}) in ${p.entity} ${p.id} field ${p.field}`, {
          code: p.code,
          hint: p.hint,
        }),
    }),
  )
  // Node services plugins get through their init context: the node-wide counters (leased from the
  // primary), the outbound HTTP client and answering the primary's calls from their endpoints.
  const counters = new CounterClient((msg) => send(msg))
  const pluginCalls = new PluginCalls()
  for (const plugin of registry.all()) {
    if (plugin.init === undefined) continue
    const log =
      (level: 'debug' | 'info' | 'notice' | 'warn' | 'error' | 'crit') =>
      (...parts: unknown[]) =>
        errorLog.log(level, `[${plugin.name}] ${parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' ')}`)
    await plugin.init({
      nodeId: nodeId(config.prefix, config.node_id),
      log: { debug: log('debug'), info: log('info'), notice: log('notice'), warn: log('warn'), err: log('error'), crit: log('crit') },
      counters,
      http: outbound,
      onPrimaryCall: (op, answer) => pluginCalls.register(plugin.name, op, answer),
    })
  }
  /** Counters and memory for the primary's `/status` (every second, and once the proxy exists). */
  const sendStats = (): void => {
    if (proxy === null) return
    send({
      type: 'stats',
      stats: {
        totalRequests: proxy.stats.totalRequests,
        activeRequests: proxy.stats.activeRequests,
        connectionsAccepted: connections.accepted,
        connectionsActive: connections.active,
        heapUsed: process.memoryUsage().heapUsed,
      },
    })
  }
  const apply = (payload: ConfigPayload): void => {
    const result = snapshots.apply(payload)
    if (!result.ok) {
      errorLog.error(
        `configuration version ${payload.version} was not applied, still serving version ${result.serving ?? 'none'}: ${result.error}`,
      )
      send({ type: 'config-failed', version: payload.version, error: result.error })
      return
    }
    const snapshot = result.snapshot
    certificateContexts.update(snapshot.certificates.all)
    if (proxy === null) {
      proxy = new Proxy({ snapshot, settings: proxySettings(config), upstream, resolver, errorLog, accessLog })
      listen(proxy)
      sendStats()
    } else proxy.swap(snapshot)
    if (errorLog.enabled('debug'))
      errorLog.debug(
        `configuration version ${payload.version} applied (${snapshot.routeCount} routes, compiled in ${result.compileMs.toFixed(1)} ms)`,
      )
    send({ type: 'applied', version: payload.version, compileMs: result.compileMs, routes: snapshot.routeCount })
  }

  const shutdown = (timeoutMs: number): void => {
    if (stopping) return
    stopping = true
    for (const s of servers) {
      // A listen still in progress is left alone: closing it makes node's cluster code throw when
      // the primary's answer arrives (start-up failing on another port). Exiting releases it.
      if (!s.listening) continue
      s.close()
      s.closeIdleConnections()
    }
    const deadline = Date.now() + timeoutMs
    const tick = (): void => {
      const active = proxy?.stats.activeRequests ?? 0
      if (active === 0 || Date.now() >= deadline) {
        if (active > 0) errorLog.warn(`graceful shutdown timed out with ${active} requests still in flight`)
        for (const s of servers) s.closeAllConnections()
        errorLog.flush()
        accessSink?.flush()
        void upstream.close().finally(() => process.exit(0))
        return
      }
      // Connections that finished their last request are idle now: close them too.
      for (const s of servers) s.closeIdleConnections()
      setTimeout(tick, 50).unref()
    }
    tick()
  }

  const dispatch = createDispatcher<ToWorker>(
    {
      config: (msg) => apply(msg.payload),
      shutdown: (msg) => shutdown(msg.timeoutMs),
      health: (msg) => healthView.set(msg.state),
      'counter:grant': (msg) => counters.onMessage(msg),
      'counter:recall': (msg) => counters.onMessage(msg),
      'counter:cluster-result': (msg) => counters.onMessage(msg),
      'plugin:call': (msg) => void pluginCalls.answer(msg).then(send),
    },
    (line) => errorLog.warn(line),
  )
  process.on('message', (msg: unknown) => dispatch(msg))
  // The primary handles signals; a worker ignores them so Ctrl-C stops the whole group gracefully.
  process.on('SIGINT', () => {})
  process.on('SIGTERM', () => {})
  process.on('disconnect', () => shutdown(1000))
  // Messages sent before a listener exists are lost, and an ES module worker installs its listener
  // late: tell the primary when it may send the configuration.
  send({ type: 'booted' })
  setInterval(sendStats, 1000).unref()
}
