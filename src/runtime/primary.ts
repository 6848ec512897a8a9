/**
 * The control plane of one gateway node (the primary process): owns the store, serves the Admin
 * API and the status listener, forks the proxy workers and pushes every configuration change to
 * them. Like nginx's master, it restarts a worker that dies and stops the group gracefully on
 * SIGTERM/SIGINT.
 */
import { loadUpstreamTrust } from './upstream-trust.js'
import { setOutboundTlsProtocols } from '../http/outbound.js'
import cluster, { type Worker } from 'node:cluster'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { HttpServer as Server } from '../http/node-proxy-server.js'
import { createServer as createNetServer } from 'node:net'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createAdminApi } from '../admin/index.js'
import type { NodeInfo } from '../admin/index.js'
import { ineffectiveSettings, publicConfiguration, sizeToBytes, urlOrigin } from '../config/index.js'
import type { GatewayConfig, ListenAddress } from '../config/index.js'
import { Dao } from '../dao/index.js'
import { DeclarativeNode, entityGraph } from '../declarative/index.js'
import { entityRegistry } from '../plugins/entity.js'
import { loadPlugins } from '../plugins/registry.js'
import { createAdminServer, logAdminFailure } from '../http/admin-server.js'
import { AccessLog } from '../observability/access-log.js'
import { ErrorLog } from '../observability/error-log.js'
import { openLogSink } from '../observability/log-file.js'
import { storeEntity } from '../schema/index.js'
import type { ConfigPayload } from '../snapshot/snapshot.js'
import { createStore, PostgresStore, pgMigrations, rateLimitMetrics } from '../store/index.js'
import type { Store } from '../store/index.js'
import { PRODUCT, VERSION } from '../version.js'
import { certificateChangeLogger, logStoredCertificates } from './certificate-log.js'
import { storeLocation, storeOptions } from './store-options.js'
import { followOtherNodes } from './cluster-changes.js'
import { createStatusApi } from './status-api.js'
import { type ToPrimary, type ToWorker, WORKER_CONFIG_ENV, type WorkerStats } from './messages.js'
import { createDispatcher } from './dispatch.js'
import { listenFailure } from './listen-failure.js'
import { acceptMode as listenerAcceptMode, describeAcceptMode, listenerName } from './accept-mode.js'
import { hasTlsListener, ignoredTlsSettings, listenerCertificates, type ListenerFamily } from './tls-certificates.js'
import { type ListenerTls, secureContext, tlsPolicy } from '../http/tls.js'
import { nodeId } from './node-id.js'
import { pidFile, runningPid } from './pid-file.js'
import { removeListenFile, writeListenFile } from './listen-file.js'
import { HealthChecker } from '../health/checker.js'
import { doctorRoutes } from '../doctor/admin-routes.js'
import { listenerFacts } from '../doctor/listeners.js'
import { NO_TRUST, type UpstreamTrust } from '../snapshot/upstream-tls.js'
import { HostResolver, dnsOptions } from '../proxy/resolver.js'
import { CounterService } from '../counters/service.js'
import type { CounterToPrimary } from '../counters/messages.js'
import { ClusterCounterService } from './cluster-counters.js'
import { ConfigPublisher } from './config-publisher.js'
import { WorkerFanout } from './plugin-calls.js'
import { type NodeServices, pluginEndpoints } from '../plugins/endpoints.js'
import { Tracer } from '../doctor/trace.js'
import { traceRoutes } from '../doctor/trace-api.js'
import { proxySettings } from './proxy-settings.js'
import { ReferenceResolver } from '../snapshot/vault-references.js'
import { SNAPSHOT_CORE_ENTITIES } from '../entities/index.js'

export { pidFile, runningPid } from './pid-file.js'

/** A start-up failure with a one-line message for the CLI. */
export class StartError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'StartError'
  }
}

/**
 * A reuseport listener is bound by each worker, and Linux lets any process of the same user join
 * a port that others hold with SO_REUSEPORT: a second gateway on the same address would share the
 * traffic silently instead of failing. Binding the address once without it first fails as a
 * plain listen does (address already in use) when anything holds it.
 */
async function probeAddress(l: ListenAddress): Promise<void> {
  const probe = createNetServer()
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err: NodeJS.ErrnoException) => reject(new StartError(listenFailure(err, l, 'proxy_listen'))))
    probe.listen({ host: l.host, port: l.port, exclusive: true }, () => resolve())
  })
  await new Promise<void>((resolve) => probe.close(() => resolve()))
}

/** The size of Kong's `lua_shared_dict kong` (nginx_kong.lua template). */
const KONG_DICT_BYTES = 5 * 1024 * 1024

function listenOn(server: Server, l: ListenAddress, setting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new StartError(listenFailure(err, l, setting))))
    server.listen({ host: l.host, port: l.port, ...(l.backlog !== undefined ? { backlog: l.backlog } : {}) }, () => resolve())
  })
}

/** The port a listener got (the configured one, or the system's choice for port 0). */
function boundPort(server: Server, l: ListenAddress): number {
  const a = server.address()
  return typeof a === 'object' && a !== null ? a.port : l.port
}

export interface RunningGateway {
  readonly dao: Dao
  /** Resolves when the gateway has stopped. */
  readonly stopped: Promise<void>
  stop(): Promise<void>
}

/** Starts the node in this process (foreground) and resolves once every worker is serving. */
export async function startGateway(config: GatewayConfig): Promise<RunningGateway> {
  const prefix = config.prefix
  const other = runningPid(prefix)
  if (other !== null && other !== process.pid)
    throw new StartError(`turnpike is already running in ${prefix} (pid ${other}); stop it first with: turnpike stop -p ${prefix}`)
  mkdirSync(join(prefix, 'pids'), { recursive: true })
  mkdirSync(join(prefix, 'logs'), { recursive: true })

  const errorLog = new ErrorLog(
    openLogSink(config.admin_error_log === config.proxy_error_log ? config.proxy_error_log : config.admin_error_log),
    config.log_level,
  )
  const adminAccess = new AccessLog(config.admin_access_log === 'off' ? null : openLogSink(config.admin_access_log))

  // --- store ---------------------------------------------------------------------------------
  const store: Store = createStore(storeOptions(config))
  // Plugins are loaded once: their schemas validate plugin configs, their entities (credentials) join the registry.
  let pluginRegistry
  try {
    pluginRegistry = await loadPlugins(config.plugins, config.plugins_path)
  } catch (err) {
    throw new StartError(`could not load plugins: ${(err as Error).message}`)
  }
  const ENTITIES = entityRegistry(pluginRegistry, { vaults: config.vaults, database: config.database })
  try {
    // PostgreSQL: Kong's check first: a database that is not bootstrapped, or lacks this
    // release's migrations, is refused with the command to run (nothing listens yet).
    if (store instanceof PostgresStore) await pgMigrations.checkSchemaState(store)
    await store.init(Object.values(ENTITIES).map((e) => storeEntity(e)))
  } catch (err) {
    await store.close().catch(() => {})
    const message = (err as Error).message
    if (message === pgMigrations.NEEDS_BOOTSTRAP_MSG || message === pgMigrations.NEW_MIGRATIONS_MSG) throw new StartError(message)
    throw new StartError(
      `could not open the ${config.database} store${config.database === 'off' ? '' : ` at ${storeLocation(config)}`}: ${message}`,
    )
  }
  const dao = new Dao(store, ENTITIES)
  // Set once the publisher exists (below); the declarative node calls it after replacing everything.
  let publish: () => Promise<void> = async () => {}
  // DB-less: `declarative_config` is loaded before the workers start; `/config` replaces it later.
  const declarative = new DeclarativeNode({
    store,
    graph: entityGraph(ENTITIES),
    database: config.database,
    file: config.declarative_config,
    inline: config.raw['declarative_config_string'],
    mapSize: config.raw['lmdb_map_size'],
    writable: config.raw['declarative_config_writable'] ?? 'off',
    publish: () => {
      changed()
      return publish()
    },
    log: errorLog,
  })
  try {
    await declarative.start()
  } catch (err) {
    await store.close().catch(() => {})
    throw err instanceof Error && err.name === 'StartError' ? new StartError(err.message) : err
  }
  await logStoredCertificates(errorLog, store)
  dao.onChange(certificateChangeLogger(errorLog))

  // --- workers -------------------------------------------------------------------------------
  const workerStats = new Map<number, WorkerStats>()
  const applied = new Map<number, number>()
  let payload: ConfigPayload = { version: 0, services: [], routes: [] }
  let stopping = false
  /**
   * Changes not yet live on every worker: when the oldest was made, and the version published
   * when the newest was made (they are all in a later one).
   */
  let pendingChange: { at: number; after: number } | null = null
  const changed = (): void => {
    if (pendingChange === null) pendingChange = { at: performance.now(), after: payload.version }
    else pendingChange.after = payload.version
  }

  const sendTo = (w: Worker, msg: ToWorker): void => {
    // A worker can exit between the check and the write: see the 'error' listener in fork().
    if (w.isConnected()) w.send(msg)
  }
  const broadcast = (msg: ToWorker): void => {
    for (const w of Object.values(cluster.workers ?? {})) if (w !== undefined) sendTo(w, msg)
  }
  if (config.node_id !== null)
    errorLog.warn(
      'setting node_id in the configuration is deprecated since Kong 3.9; it must be unique across the cluster (leave it unset to keep the id in the prefix)',
    )
  // Health checks run once per node, here; every worker gets the same view over IPC.
  const health = new HealthChecker({
    resolver: new HostResolver(dnsOptions(config)),
    log: errorLog,
    nodeId: nodeId(prefix, config.node_id),
    onChange: (state) => broadcast({ type: 'health', state }),
  })

  // Committed writes reach the workers through an in-memory copy of the configuration, coalesced.
  const publisher = new ConfigPublisher({
    store,
    entities: Object.keys(ENTITIES),
    schemas: ENTITIES,
    expiring: Object.values(ENTITIES)
      .filter((e) => e.ttl === true)
      .map((e) => e.name),
    coalesceMs: 5,
    publish: (next) => {
      payload = next
      health.configure(payload)
      broadcast({ type: 'config', payload })
    },
    onError: (err) => errorLog.error(`could not load the configuration from the store, workers keep the previous one: ${err.message}`),
  })
  publish = () => publisher.reloadAll()
  // PostgreSQL: this node's own writes, told to the consistency check (set once it runs).
  let ownChange: (entity: string) => void = () => {}
  dao.onChange((e) => {
    changed()
    ownChange(e.entity)
    publisher.change(e)
    declarative.onEntityChange()
  })

  const workerCount = Math.max(1, config.worker_processes)
  const entry = fileURLToPath(new URL('./worker-entry.js', import.meta.url))
  const acceptMode = connectionDistribution(workerCount)
  if (acceptMode !== null) cluster.schedulingPolicy = acceptMode === 'workers' ? cluster.SCHED_NONE : cluster.SCHED_RR
  cluster.setupPrimary({ exec: entry, args: [], silent: false })
  const workerEnv = { [WORKER_CONFIG_ENV]: JSON.stringify(config) }

  let startupListening = 0
  let resolveListening: () => void = () => {}
  let rejectListening: (e: Error) => void = () => {}
  const allListening = new Promise<void>((resolve, reject) => {
    resolveListening = resolve
    rejectListening = reject
  })

  // Node-wide rate-limiting counters (exact across workers), reached over IPC.
  const counters = new CounterService()
  // Plugin endpoints' questions to every worker (prometheus scrapes, proxy-cache lookups and purges).
  const fanout = new WorkerFanout(() => Object.values(cluster.workers ?? {}).filter((x): x is Worker => x !== undefined))
  const countersMessage = (msg: CounterToPrimary, w: Worker): void => counters.handle(w, msg)
  // rate-limiting's `cluster` policy: hits on the database's rows, run here for the workers.
  let databaseDown: () => Error | null = () => null
  const clusterCounters = new ClusterCounterService({
    metrics: rateLimitMetrics(store),
    log: errorLog,
    down: () => databaseDown(),
    reply: (workerId, msg) => {
      const w = cluster.workers?.[workerId]
      if (w !== undefined) sendTo(w, msg)
    },
  })
  const dispatch = createDispatcher<ToPrimary, [Worker]>(
    {
      booted: (_msg, w) => {
        sendTo(w, { type: 'config', payload })
        sendTo(w, { type: 'health', state: health.state() })
      },
      listening: () => {
        if (++startupListening === workerCount) resolveListening()
      },
      'listen-failed': (msg) => {
        if (startupListening < workerCount) rejectListening(new StartError(msg.error))
      },
      applied: (msg, w) => {
        applied.set(w.id, msg.version)
        const latest = payload.version
        const all = [...applied.values()].every((v) => v >= latest) && applied.size >= Object.keys(cluster.workers ?? {}).length
        if (all && pendingChange !== null && latest > pendingChange.after) {
          errorLog.info(
            `configuration version ${msg.version} (${msg.routes} routes) live on all ${applied.size} workers ${(performance.now() - pendingChange.at).toFixed(1)} ms after the change`,
          )
          pendingChange = null
        }
      },
      'config-failed': (msg, w) =>
        errorLog.error(
          `worker ${w.process.pid ?? '?'} kept its previous configuration: version ${msg.version} failed to compile: ${msg.error}`,
        ),
      stats: (msg, w) => {
        workerStats.set(w.id, msg.stats)
      },
      passive: (msg) => health.passive(msg.upstream, msg.ip, msg.port, msg.hostname, msg.outcome),
      'counter:acquire': countersMessage,
      'counter:returned': countersMessage,
      'counter:return': countersMessage,
      'counter:cluster': (msg, w) => clusterCounters.handle(w.id, msg),
      'plugin:reply': (msg) => fanout.reply(msg),
    },
    (line) => errorLog.warn(line),
  )
  const fork = (): Worker => {
    const w = cluster.fork(workerEnv)
    // A message sent to a worker that is exiting fails with EPIPE; the 'exit' handler below deals
    // with the worker, so the failed send is only noted.
    w.on('error', (err: Error) => errorLog.debug(`message to worker ${w.process.pid ?? '?'} not delivered: ${err.message}`))
    w.on('message', (msg: unknown) => dispatch(msg, w))
    return w
  }

  cluster.on('exit', (w, code, signal) => {
    workerStats.delete(w.id)
    counters.workerGone(w.id)
    applied.delete(w.id)
    if (stopping) return
    if (startupListening < workerCount) {
      rejectListening(
        new StartError(`a proxy worker exited during start-up (code ${code ?? signal ?? '?'}): see ${config.proxy_error_log}`),
      )
      return
    }
    errorLog.crit(`worker process ${w.process.pid ?? '?'} exited unexpectedly (${signal ?? `code ${code ?? '?'}`}); starting a new one`)
    fork()
  })

  // `lua_ssl_trusted_certificate` as loaded below, for the doctor's TLS checks.
  let upstreamTrustLoaded: UpstreamTrust = NO_TRUST
  // The TLS listeners' default certificates: Kong's *ssl_cert settings, or self-signed ones made
  // into <prefix>/ssl/ now, before any worker needs them; a pair that does not load stops the start.
  const policy = tlsPolicy(config)
  const listenerTls = new Map<ListenerFamily, ListenerTls>()
  try {
    for (const family of ['proxy', 'admin', 'status'] as const) {
      if (!hasTlsListener(config, family)) continue
      const defaults = listenerCertificates(config, family, { generate: true })
      try {
        secureContext(policy, defaults)
      } catch (err) {
        const p = family === 'proxy' ? '' : `${family}_`
        throw new StartError(`${p}ssl_cert / ${p}ssl_cert_key cannot be served: ${(err as Error).message}`)
      }
      listenerTls.set(family, { policy, defaults })
    }
    // The workers read lua_ssl_trusted_certificate too: a file that does not load stops the start here.
    try {
      // ... and so do https health probes that verify (Kong's cosockets), with lua_ssl_protocols.
      upstreamTrustLoaded = loadUpstreamTrust(config)
      health.setTrust(upstreamTrustLoaded)
      setOutboundTlsProtocols(config.lua_ssl_protocols)
    } catch (err) {
      throw new StartError((err as Error).message)
    }
    // Before any worker binds a reuseport listener: fail as Kong does when the address is taken.
    for (const l of config.proxy_listen) if (listenerAcceptMode(l).mode === 'reuseport') await probeAddress(l)
  } catch (err) {
    await store.close().catch(() => {})
    throw err instanceof Error && err.name === 'CertificateSettingError' ? new StartError(err.message) : err
  }

  // PostgreSQL: what other nodes commit reaches this node's workers too (listening before the
  // first load, so nothing committed in between is missed).
  const otherNodes =
    store instanceof PostgresStore
      ? await followOtherNodes(store, publisher, changed, errorLog, {
          frequency: config.db_update_frequency,
          propagation: config.db_update_propagation,
        })
      : null
  if (otherNodes !== null) ownChange = (entity) => otherNodes.ownChange(entity)
  if (otherNodes !== null) databaseDown = () => otherNodes.down()
  payload = await publisher.load()
  health.configure(payload)
  health.setReadyWait(async () => {
    // Admin reads of /health wait for a configuration change in flight (bounded).
    for (let i = 0; i < 200 && publisher.busy; i++) await new Promise((r) => setTimeout(r, 10))
  })
  for (let i = 0; i < workerCount; i++) fork()

  // --- Admin API and status listener ------------------------------------------------------------
  // The configuration's size, measured once per published configuration, for `GET /status`.
  let sizedPayload: ConfigPayload | null = null
  let payloadBytes = 0
  const node: NodeInfo = {
    version: VERSION,
    hostname: hostname(),
    node_id: nodeId(prefix, config.node_id),
    configuration: publicConfiguration(config),
    pids: {
      master: process.pid,
      get workers() {
        return Object.values(cluster.workers ?? {}).flatMap((w) => (w?.process.pid === undefined ? [] : [w.process.pid]))
      },
    },
    plugins: Object.fromEntries(pluginRegistry.all().map((p) => [p.name, { version: p.version, priority: p.priority }])),
    serverStatus() {
      let total = 0
      let accepted = 0
      let active = 0
      let inFlight = 0
      for (const s of workerStats.values()) {
        total += s.totalRequests
        accepted += s.connectionsAccepted
        active += s.connectionsActive
        inFlight += s.activeRequests
      }
      return {
        total_requests: total,
        connections_active: active,
        connections_accepted: accepted,
        connections_handled: accepted,
        connections_reading: 0,
        connections_writing: inFlight,
        connections_waiting: Math.max(0, active - inFlight),
      }
    },
    sharedDicts() {
      // Kong's `kong` dict holds node-wide state (here: the rate-limiting counters, 5m as in Kong's
      // template); `kong_db_cache` the entities (here: the configuration every worker compiles).
      if (sizedPayload !== payload) {
        payloadBytes = Buffer.byteLength(JSON.stringify(payload))
        sizedPayload = payload
      }
      return {
        kong: { capacity: KONG_DICT_BYTES, allocated: counters.authority.approxBytes() },
        kong_db_cache: { capacity: config.mem_cache_size, allocated: payloadBytes },
      }
    },
    workers() {
      const out: { pid: number; connectionsAccepted: number; connectionsActive: number; totalRequests: number; heapUsed: number }[] = []
      for (const [id, s] of workerStats) {
        const pid = cluster.workers?.[id]?.process.pid
        if (pid !== undefined)
          out.push({
            pid,
            connectionsAccepted: s.connectionsAccepted,
            connectionsActive: s.connectionsActive,
            totalRequests: s.totalRequests,
            heapUsed: s.heapUsed,
          })
      }
      return out
    },
  }
  // What loaded plugins' Admin API and status endpoints may use.
  const pluginServices: NodeServices = {
    dao,
    store,
    node,
    health,
    callWorkers: (plugin, op, args, timeoutMs) => fanout.call(plugin, op, args, timeoutMs),
  }
  // `POST /trace`: made on the first trace (a resolver, the plugins wrapped, a snapshot per version).
  let tracerInstance: Tracer | null = null
  const tracer = (): Tracer =>
    (tracerInstance ??= new Tracer({
      plugins: pluginRegistry.all(),
      entities: Object.values(ENTITIES)
        .filter((e) => !SNAPSHOT_CORE_ENTITIES.includes(e.name))
        .map((e) => storeEntity(e)),
      settings: proxySettings(config),
      resolver: new HostResolver(dnsOptions(config)),
      upstreamTrust: loadUpstreamTrust(config),
      references: new ReferenceResolver(ENTITIES, { loaded: config.vaults, envPrefix: config.vault_env_prefix, env: process.env }),
      listeners: config.proxy_listen,
      payload: () => payload,
      healthState: () => health.state(),
    }))
  const admin = createAdminApi({
    upstreamHealth: health,
    dao,
    store,
    nodeInfo: node,
    database: config.database,
    plugins: pluginRegistry,
    pluginServices,
    extraRoutes: [
      ...declarative.routes(),
      ...traceRoutes(tracer),
      // `GET /doctor`: the troubleshooting checklist, from this process with the proxy's resolver and trust.
      ...doctorRoutes({
        nodeId: nodeId(prefix, config.node_id),
        payload: () => payload,
        health,
        dns: dnsOptions(config),
        trust: () => upstreamTrustLoaded,
        tlsProtocols: config.lua_ssl_protocols,
        keepalive: { idleTimeout: config.upstream_keepalive_idle_timeout, poolSize: config.upstream_keepalive_pool_size },
        listeners: listenerFacts(config.proxy_listen),
      }),
    ],
    configurationHash: () => declarative.hash(),
    dbLessWritable: declarative.writable,
    corsOrigins: config.admin_gui_url.map(urlOrigin),
    // Every 500 of the Admin API: the client gets Kong's generic message, the error log the cause.
    onError: (err, req) => logAdminFailure(errorLog, err, `${req.method} ${req.path}`),
    onDeprecation: (message) => errorLog.warn(message),
    // PostgreSQL: while the change channel is lost, what the store fails is the outage (logged once).
    databaseUnavailable: () => ((otherNodes?.down() ?? null) === null ? null : databaseOutageMessage(config)),
  })
  const servers: Server[] = []
  const shutdownTimeoutMs = config.shutdown_timeout * 1000

  const stopAll = async (): Promise<void> => {
    if (stopping) return stoppedPromise
    stopping = true
    errorLog.notice(`stopping: finishing in-flight requests (up to ${config.shutdown_timeout}s)`)
    for (const s of servers) {
      // Admin calls are short; keep-alive connections from API clients must not hold the node up.
      s.close()
      s.closeIdleConnections()
    }
    const exits = Object.values(cluster.workers ?? {}).map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w === undefined || w.isDead()) return resolve()
          w.once('exit', () => resolve())
          sendTo(w, { type: 'shutdown', timeoutMs: shutdownTimeoutMs })
          setTimeout(() => {
            if (!w.isDead()) w.process.kill('SIGKILL')
          }, shutdownTimeoutMs + 5000).unref()
        }),
    )
    await Promise.all(exits)
    health.stop()
    await declarative.flush().catch(() => {})
    for (const s of servers) s.closeAllConnections()
    await otherNodes?.close()
    await store.close().catch(() => {})
    try {
      if (runningPid(prefix) === process.pid) rmSync(pidFile(prefix), { force: true })
      removeListenFile(prefix, process.pid)
    } catch {
      // nothing to clean
    }
    counters.close()
    clusterCounters.close()
    errorLog.notice('stopped')
    errorLog.flush()
    resolveStopped()
  }
  let resolveStopped: () => void = () => {}
  const stoppedPromise = new Promise<void>((resolve) => {
    resolveStopped = resolve
  })

  // Kong's template puts `http2 on` in a server block when one of its listeners has the flag.
  const adminHttp2 = config.admin_listen.some((l) => l.http2)
  const statusHttp2 = config.status_listen.some((l) => l.http2)
  // Every Admin API and status listener opened, as the start line names them.
  const opened: Record<'admin' | 'status', string[]> = { admin: [], status: [] }
  try {
    await allListening
    for (const l of config.admin_listen) {
      const server = createAdminServer(
        admin,
        { access: adminAccess, error: errorLog },
        sizeToBytes(config.nginx_admin_client_max_body_size),
        l.ssl ? listenerTls.get('admin') : undefined,
        config.admin_listen.find((p) => !p.ssl)?.port,
        adminHttp2,
      )
      servers.push(server)
      await listenOn(server, l, 'admin_listen')
      opened.admin.push(listenerName({ ...l, http2: adminHttp2 }, boundPort(server, l)))
    }
    const status = createStatusApi(
      admin,
      () => !stopping && applied.size > 0 && [...applied.values()].every((v) => v >= 1),
      pluginEndpoints(pluginRegistry.all(), pluginServices, 'statusApi'),
      () => (otherNodes?.down() ?? null) !== null,
    )
    for (const l of config.status_listen) {
      const server = createAdminServer(
        status,
        { access: new AccessLog(null), error: errorLog },
        undefined,
        l.ssl ? listenerTls.get('status') : undefined,
        config.status_listen.find((p) => !p.ssl)?.port,
        statusHttp2,
      )
      servers.push(server)
      await listenOn(server, l, 'status_listen')
      opened.status.push(listenerName({ ...l, http2: statusHttp2 }, boundPort(server, l)))
    }
  } catch (err) {
    await stopAll()
    throw err
  }

  writeFileSync(pidFile(prefix), `${process.pid}\n`)
  writeListenFile(prefix, { pid: process.pid, admin_listen: opened.admin, status_listen: opened.status })
  const onSignal = (): void => void stopAll()
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  const primaryDistributes = cluster.schedulingPolicy !== cluster.SCHED_NONE
  // One proxy listener with http2 puts HTTP/2 on all of them (Kong's `http2 on` in the server block).
  const proxyHttp2 = config.proxy_listen.some((l) => l.http2)
  const accepting = config.proxy_listen
    .map((l) => describeAcceptMode({ ...l, http2: proxyHttp2 }, workerCount, primaryDistributes))
    .join('; ')
  const named = (list: string[]): string => (list.length === 0 ? 'off' : list.join(', '))
  errorLog.notice(
    `${PRODUCT} ${VERSION} started: ${workerCount} worker${workerCount === 1 ? '' : 's'} (proxy_listen ${accepting === '' ? 'off' : accepting}), ` +
      `admin_listen ${named(opened.admin)}, status_listen ${named(opened.status)}, database ${config.database}`,
  )
  const ignored = ignoredTlsSettings(config)
  if (ignored !== null) errorLog.warn(ignored)
  for (const line of ineffectiveSettings(config)) errorLog.warn(line)
  return { dao, stopped: stoppedPromise, stop: stopAll }
}

/** The Admin API's 503 message while the database cannot be reached (which one, and what still works). */
export function databaseOutageMessage(config: GatewayConfig): string {
  return (
    `the database (${config.database} at ${storeLocation(config)}) cannot be reached: ` +
    'the configuration cannot be read or changed until it is back; the proxy keeps serving the last configuration it loaded'
  )
}

/**
 * Who accepts proxy connections. One worker accepts its own from the listening socket it shares
 * with the primary (node:cluster's SCHED_NONE): the primary has nothing to balance, and keeping it
 * out of the accept path saves it ~170 µs of CPU per connection (measured: +44 % requests/s for
 * clients that open a connection per request). With several workers the primary accepts and hands
 * connections out round-robin (node's default): the workers sharing the socket would take
 * connections unevenly (43/57 % of wrk's 50 in one of two runs here), which keeps a worker
 * busier for as long as the connections live — behind a load balancer, that is the whole time.
 * This is for listeners without `reuseport` (or where it cannot work, see ./accept-mode.ts): with
 * it, each worker accepts on a socket of its own and node:cluster is not involved.
 * `NODE_CLUSTER_SCHED_POLICY` (`rr`, `none`), when set, wins (null here).
 */
export function connectionDistribution(workerCount: number): 'workers' | 'primary' | null {
  if (process.env['NODE_CLUSTER_SCHED_POLICY'] !== undefined) return null
  return workerCount === 1 ? 'workers' : 'primary'
}
