/**
 * The checks of one service, from the gateway's own process with its own resolver and TLS trust,
 * in the seed documents' order: DNS (and an upstream entity's targets with their health), then per
 * address a TCP connect, the TLS handshake (https, grpcs, tls), an HTTP probe (http, https) and
 * the upstream's keep-alive idle timeout, measured.
 *
 * @module
 */
import { isIP, type Socket } from 'node:net'
import type { SecureVersion } from 'node:tls'
import { passiveEnabled, resolveHealthChecks } from '../balancer/config.js'
import type { UpstreamHealthProvider } from '../balancer/health-model.js'
import { classifyGreeting, isPlainHttpOnTlsPortPage } from '../codec/response-greeting.js'
import type { DnsClient, DnsRecord, ResolveFailure } from '../dns/index.js'
import { splitTarget, type Service, type Target, type Upstream } from '../entities/index.js'
import {
  exchange,
  idleSurvival,
  openTcp,
  startTls,
  type ExchangeFailure,
  type ExchangeResult,
  type NotReusable,
  type TlsFacts,
} from '../http/raw-probe.js'
import type { ConfigPayload } from '../snapshot/snapshot.js'
import { TlsMaterial, type UpstreamTls, type UpstreamTrust } from '../snapshot/upstream-tls.js'
import { VERSION } from '../version.js'
import { LIMITS, type DoctorOptions } from './report.js'
import type { Finding, FindingSubject, Severity } from './types.js'

/** The health checker as the doctor reads it: Kong's view, and why an address has its health. */
export interface DoctorHealth extends UpstreamHealthProvider {
  explain?(
    upstreamId: string,
    ip: string,
    port: number,
    host: string,
  ): {
    counters: { healthy: boolean; successes: number; tcp_failures: number; timeouts: number; http_failures: number }
    lastChange: string | null
  } | null
}

/** What the checks of one service need from the node. */
export interface ServiceCheckContext {
  readonly payload: ConfigPayload
  readonly dns: DnsClient
  readonly trust: UpstreamTrust
  readonly tlsVersions: { readonly minVersion: SecureVersion; readonly maxVersion: SecureVersion }
  /** kong.conf's `upstream_keepalive_idle_timeout` (s, 0: no limit) and `upstream_keepalive_pool_size`. */
  readonly keepalive: { readonly idleTimeout: number; readonly poolSize: number }
  readonly health: DoctorHealth
  readonly options: DoctorOptions
}

/** One address to probe, with the name sent as Host and SNI. */
interface Address {
  readonly ip: string
  readonly port: number
  readonly hostname: string
  /** Who the address belongs to (the service, or a target). */
  readonly subject: FindingSubject
}

const TLS_PROTOCOLS = new Set(['https', 'grpcs', 'tls', 'wss'])
const HTTP_PROTOCOLS = new Set(['http', 'https', 'ws', 'wss'])

export function serviceUrl(s: Service): string {
  const host = s.host.includes(':') ? `[${s.host}]` : s.host
  return `${s.protocol}://${host}:${s.port}${s.path ?? ''}`
}

function serviceSubject(s: Service): FindingSubject {
  return { kind: 'service', id: s.id, name: s.name ?? null }
}

const connectTimeout = (s: Service): number => s.connect_timeout ?? 60_000
const readTimeout = (s: Service): number => s.read_timeout ?? 60_000

const at = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`)

function finding(
  check: string,
  severity: Severity,
  subject: FindingSubject,
  summary: string,
  fix?: string,
  details?: Record<string, unknown>,
): Finding {
  return { check, severity, subject, summary, ...(fix !== undefined ? { fix } : {}), ...(details !== undefined ? { details } : {}) }
}

// --- DNS --------------------------------------------------------------------------------------------

function via(source: string): string {
  if (source.startsWith('hosts file')) return `the ${source}`
  if (source === 'ip literal') return 'no lookup (an IP address)'
  return `nameserver ${source}`
}

/** The failure of a name, in the seed's words, with the fix. */
function dnsFailure(name: string, f: ResolveFailure, subject: FindingSubject): Finding {
  const details = { name, code: f.code, error: f.message, nameservers: f.nameservers, tried: f.tried }
  if (f.code === 'NXDOMAIN' || f.code === 'EMPTY')
    return finding(
      'dns',
      'error',
      subject,
      f.code === 'NXDOMAIN'
        ? `name does not resolve: "${name}" does not exist (NXDOMAIN) at nameserver ${f.nameservers}`
        : `name does not resolve: "${name}" has no A, AAAA or SRV record at nameserver ${f.nameservers}`,
      'fix the host name (typo?) or its DNS record, add it to the hosts file (dns_hostsfile), or point dns_resolver (or /etc/resolv.conf) at a nameserver that knows it; an IP address rules DNS out',
      details,
    )
  if (f.code === 'TIMEOUT' || f.code === 'CONNREFUSED' || f.code === 'NO_NAMESERVERS')
    return finding(
      'dns',
      'error',
      subject,
      `could not resolve host "${name}": the nameserver did not answer (${f.code}; asked ${f.nameservers})`,
      'check that dns_resolver (or /etc/resolv.conf, or CoreDNS in a cluster) names nameservers reachable from the gateway host',
      details,
    )
  return finding(
    'dns',
    'error',
    subject,
    `could not resolve host "${name}": ${f.message} (${f.code}; asked ${f.nameservers})`,
    "check the nameservers of dns_resolver (or /etc/resolv.conf) and the name's zone",
    details,
  )
}

interface Resolved {
  readonly finding: Finding
  /** ip and port (an SRV record's port, else `port`). */
  readonly addresses: readonly { ip: string; port: number }[]
}

async function resolveName(dns: DnsClient, name: string, port: number, subject: FindingSubject): Promise<Resolved> {
  if (isIP(name) !== 0)
    return {
      finding: finding('dns', 'ok', subject, `${name} is an IP address: no DNS lookup`, undefined, { name, addresses: [name] }),
      addresses: [{ ip: name, port }],
    }
  const set = await dns.lookup(name)
  if (!set.ok) return { finding: dnsFailure(name, set, subject), addresses: [] }
  const records = set.records.slice(0, 16)
  let addresses: { ip: string; port: number }[]
  let shown: string
  if (set.type === 'SRV') {
    addresses = []
    const srv: string[] = []
    for (const r of records as DnsRecord[]) {
      const target = r.target ?? ''
      const p = r.port ?? port
      srv.push(`${target}:${p} (priority ${r.priority ?? 0}, weight ${r.weight ?? 0})`)
      if (isIP(target) !== 0) addresses.push({ ip: target, port: p })
      else {
        const a = await dns.resolve(target)
        if (a.ok) addresses.push({ ip: a.address, port: p })
      }
    }
    shown = `SRV ${srv.join(', ')}`
  } else {
    addresses = records.filter((r) => r.address !== undefined).map((r) => ({ ip: r.address as string, port }))
    shown = addresses.map((a) => a.ip).join(', ')
  }
  const details = {
    name,
    type: set.type,
    ttl: set.ttl,
    source: set.source,
    stale: set.stale,
    records: records.map((r) => ({ ...r })),
    addresses: addresses.map((a) => at(a.ip, a.port)),
  }
  if (addresses.length === 0)
    return {
      finding: finding(
        'dns',
        'error',
        subject,
        `name does not resolve to an address: "${name}" has ${set.type} records whose names do not resolve`,
        "fix the SRV targets' A/AAAA records",
        details,
      ),
      addresses,
    }
  return {
    finding: finding(
      'dns',
      'ok',
      subject,
      `"${name}" resolves to ${shown} (${set.type}, TTL ${set.ttl} s) via ${via(set.source)}`,
      undefined,
      details,
    ),
    addresses,
  }
}

// --- upstream entities ------------------------------------------------------------------------------

function healthMode(u: Upstream): string {
  const hc = resolveHealthChecks(u.healthchecks)
  const active = hc.active.healthy.interval > 0 || hc.active.unhealthy.interval > 0
  const passive = passiveEnabled(hc)
  return active && passive ? 'active and passive checks' : active ? 'active checks' : passive ? 'passive checks' : 'no health checks'
}

async function targetHealth(
  ctx: ServiceCheckContext,
  u: Upstream,
  t: Target,
  subject: FindingSubject,
  health: Map<string, { health: string; data: Record<string, unknown> }> | null,
): Promise<Finding> {
  const h = health?.get(t.id)
  const label = h?.health ?? 'UNKNOWN'
  const addresses = (h?.data['addresses'] as { ip: string; port: number; health: string }[] | undefined) ?? []
  const { host } = splitTarget(t.target)
  const why = addresses.slice(0, LIMITS.maxAddresses).map((a) => {
    const e = ctx.health.explain?.(u.id, a.ip, a.port, host) ?? null
    return { address: at(a.ip, a.port), health: a.health, counters: e?.counters ?? null, last_change: e?.lastChange ?? null }
  })
  const details = { upstream: u.name, target: t.target, weight: t.weight, health: label, mode: healthMode(u), addresses: why }
  const mode = healthMode(u)
  if ((t.weight ?? 0) === 0)
    return finding('target-health', 'ok', subject, `target ${t.target} has weight 0: it receives no traffic`, undefined, details)
  if (label === 'HEALTHY' || label === 'HEALTHCHECKS_OFF')
    return finding(
      'target-health',
      'ok',
      subject,
      label === 'HEALTHY'
        ? `target ${t.target} is HEALTHY (${mode})`
        : `target ${t.target}: health checks are off, the balancer sends to it whatever happens`,
      undefined,
      details,
    )
  if (label === 'DNS_ERROR')
    return finding(
      'target-health',
      'error',
      subject,
      `target ${t.target} has no address: its name did not resolve for the balancer (DNS_ERROR)`,
      `fix the name's DNS record, or use an IP address in the target (see GET /upstreams/${u.name}/health)`,
      details,
    )
  const cause = why.find((w) => w.last_change !== null)?.last_change
  return finding(
    'target-health',
    'error',
    subject,
    `target ${t.target} is ${label} (${mode}${cause !== undefined ? `; ${cause}` : ''}): the balancer sends it nothing`,
    `see why in GET /upstreams/${u.name}/health and the error log's [healthcheck] lines; once fixed, active checks bring it back, or PUT /upstreams/${u.name}/targets/${t.target}/healthy`,
    details,
  )
}

/** The addresses of a service whose host names an upstream entity: its targets, resolved, with their health. */
async function upstreamAddresses(ctx: ServiceCheckContext, s: Service, u: Upstream, findings: Finding[]): Promise<Address[]> {
  const targets = (ctx.payload.entities?.targets ?? []).filter((t) => t.upstream.id === u.id).slice(0, LIMITS.maxTargets)
  const subject: FindingSubject = { kind: 'upstream', id: u.id, name: u.name }
  if (targets.length === 0) {
    findings.push(
      finding(
        'target-health',
        'error',
        subject,
        `service host "${s.host}" names upstream ${u.name}, which has no targets: requests fail with 503`,
        `add one: POST /upstreams/${u.name}/targets target=HOST:PORT`,
      ),
    )
    return []
  }
  const health = await ctx.health.targetsHealth(u.id)
  const out: Address[] = []
  for (const t of targets) {
    const { host, port } = splitTarget(t.target)
    const sub: FindingSubject = { kind: 'target', id: t.id, name: t.target }
    const r = await resolveName(ctx.dns, host, port, sub)
    findings.push(r.finding)
    findings.push(await targetHealth(ctx, u, t, sub, health))
    const hostname = typeof u.host_header === 'string' && u.host_header !== '' ? u.host_header : host
    if ((t.weight ?? 0) > 0) for (const a of r.addresses) out.push({ ...a, hostname, subject: sub })
  }
  return out
}

// --- TCP --------------------------------------------------------------------------------------------

function tcpFailure(a: Address, code: string, ms: number, timeoutMs: number, connectTimeout: number): Finding {
  const where = at(a.ip, a.port)
  const details = { address: where, code, ms }
  if (code === 'ECONNREFUSED')
    return finding(
      'tcp',
      'error',
      a.subject,
      `connection refused: nothing listens on ${where}${a.hostname !== a.ip ? ` (${a.hostname})` : ''}`,
      "check the service's host and port (nc -vz / telnet from the gateway host), and that the upstream, or the load balancer in front of it, is running and listening there",
      details,
    )
  if (code === 'TIMEOUT')
    return finding(
      'tcp',
      timeoutMs >= connectTimeout ? 'error' : 'warn',
      a.subject,
      `TCP connect to ${where} timed out after ${timeoutMs} ms (connect_timeout=${connectTimeout} ms): packets are dropped or the host is down`,
      "check firewalls and security groups between the gateway and the upstream (is the gateway's IP allowed?), and that the host is up",
      details,
    )
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH')
    return finding(
      'tcp',
      'error',
      a.subject,
      `no network route from the gateway to ${where} (${code})`,
      'check routing, the address, and security groups',
      details,
    )
  return finding('tcp', 'error', a.subject, `TCP connect to ${where} failed: ${code}`, 'check the address and the network path', details)
}

// --- TLS --------------------------------------------------------------------------------------------

const DAY = 86_400_000

function tlsFindings(a: Address, f: TlsFacts, tls: UpstreamTls, servername: string): Finding[] {
  const where = at(a.ip, a.port)
  const leaf = f.chain[0]
  const details = {
    address: where,
    servername,
    protocol: f.protocol,
    cipher: f.cipher,
    alpn: f.alpn,
    handshake_ms: f.ms,
    tls_verify: tls.verify,
    verify_error: f.verifyError,
    hostname_error: f.hostnameError,
    chain: f.chain,
  }
  const out: Finding[] = []
  const now = Date.now()
  const verb = tls.verify ? 'requests fail' : 'works only because tls_verify is off'
  if (f.notAfter !== null && f.notAfter < now)
    out.push(
      finding(
        'tls',
        tls.verify ? 'error' : 'warn',
        a.subject,
        `the certificate of ${where} expired on ${new Date(f.notAfter).toISOString().slice(0, 10)} (${leaf?.subject ?? '?'}): ${verb}`,
        'renew the certificate on the upstream',
        details,
      ),
    )
  else if (f.notBefore !== null && f.notBefore > now)
    out.push(
      finding(
        'tls',
        tls.verify ? 'error' : 'warn',
        a.subject,
        `the certificate of ${where} is not valid before ${leaf?.valid_from ?? '?'}`,
        "check the upstream's clock and certificate",
        details,
      ),
    )
  else if (f.notAfter !== null && f.notAfter - now < 30 * DAY)
    out.push(
      finding(
        'tls',
        'warn',
        a.subject,
        `the certificate of ${where} expires in ${Math.floor((f.notAfter - now) / DAY)} days (${new Date(f.notAfter).toISOString().slice(0, 10)})`,
        'renew the certificate on the upstream before it expires',
        details,
      ),
    )
  const verifyError = f.verifyError === 'CERT_HAS_EXPIRED' || f.verifyError === 'CERT_NOT_YET_VALID' ? null : f.verifyError
  // A verification problem: what makes requests fail with tls_verify on, a note with it off.
  const unverified = (problem: string, why: string, fix: string): Finding =>
    finding(
      'tls',
      tls.verify ? 'error' : 'ok',
      a.subject,
      tls.verify
        ? `the certificate of ${where} ${problem} (${why}): with tls_verify on, requests fail with 502`
        : `the certificate of ${where} ${problem}; not checked: tls_verify is off`,
      tls.verify ? fix : undefined,
      details,
    )
  if (verifyError !== null) {
    const what = /SELF_SIGNED/.test(verifyError)
      ? 'is self-signed (not issued by a CA the gateway trusts)'
      : /UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY_LEAF/.test(verifyError)
        ? 'is not issued by a CA the gateway trusts'
        : 'does not verify'
    out.push(
      unverified(
        what,
        verifyError,
        "add its CA to the service's ca_certificates or to lua_ssl_trusted_certificate, or set tls_verify=false on the service",
      ),
    )
  }
  if (f.hostnameError !== null)
    out.push(
      unverified(
        `is not valid for "${servername}"`,
        f.hostnameError,
        "set the service host (or the upstream's host_header) to a name the certificate holds, or reissue the certificate with that name",
      ),
    )
  if (out.every((x) => x.severity === 'ok'))
    out.unshift(
      finding(
        'tls',
        'ok',
        a.subject,
        `TLS handshake with ${where} in ${f.ms} ms: ${f.protocol ?? '?'} ${f.cipher ?? ''}, certificate ${leaf?.subject ?? '(none)'} issued by ${leaf?.issuer ?? '?'}, valid until ${f.notAfter === null ? '?' : new Date(f.notAfter).toISOString().slice(0, 10)}${tls.verify ? ', verified' : ''}`,
        undefined,
        details,
      ),
    )
  return out
}

function tlsHandshakeFailure(a: Address, code: string, message: string, plainHttp: string | null): Finding {
  const where = at(a.ip, a.port)
  const details = { address: where, code, error: message, ...(plainHttp !== null ? { plain_answer: plainHttp } : {}) }
  if (plainHttp !== null)
    return finding(
      'tls',
      'error',
      a.subject,
      `this port speaks plain HTTP: ${where} answered a plain request with "${plainHttp}" but the TLS handshake failed (${code})`,
      'set the service protocol to http (url=http://…), or point it at the port that serves HTTPS',
      details,
    )
  if (code === 'TIMEOUT')
    return finding('tls', 'error', a.subject, `no TLS handshake from ${where}: ${message}`, 'check that this port serves TLS', details)
  return finding(
    'tls',
    'error',
    a.subject,
    `the TLS handshake with ${where} failed (${code}: ${message})`,
    `check the upstream's TLS setup: protocols (lua_ssl_protocols), ciphers, the SNI "${a.hostname}", and the client certificate it may require`,
    details,
  )
}

// --- HTTP -------------------------------------------------------------------------------------------

function requestHead(method: string, path: string, a: Address, tls: boolean): string {
  const host = a.hostname.includes(':') ? `[${a.hostname}]` : a.hostname
  const defaultPort = tls ? 443 : 80
  return (
    `${method} ${path} HTTP/1.1\r\nHost: ${a.port === defaultPort ? host : `${host}:${a.port}`}\r\n` +
    `User-Agent: turnpike-doctor/${VERSION}\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n`
  )
}

type Connected = { ok: true; socket: Socket } | { ok: false; findings: Finding[] }

/** One TCP connection (and TLS handshake for TLS services), its findings when `report` is set. */
async function connectTo(ctx: ServiceCheckContext, s: Service, a: Address, tls: UpstreamTls, report: Finding[] | null): Promise<Connected> {
  const connectMs = Math.min(connectTimeout(s), LIMITS.stepTimeoutMs)
  const tcp = await openTcp(a.ip, a.port, connectMs)
  if (!tcp.ok) return { ok: false, findings: [tcpFailure(a, tcp.code, tcp.ms, connectMs, connectTimeout(s))] }
  report?.push(
    finding('tcp', 'ok', a.subject, `TCP connect to ${at(a.ip, a.port)} in ${tcp.ms} ms`, undefined, {
      address: at(a.ip, a.port),
      ms: tcp.ms,
    }),
  )
  if (!TLS_PROTOCOLS.has(s.protocol)) return { ok: true, socket: tcp.socket }
  const hs = await startTls(
    tcp.socket,
    {
      servername: a.hostname,
      ca: tls.verify ? tls.ca : ctx.trust.ca,
      ...(tls.cert !== null && tls.key !== null ? { cert: tls.cert, key: tls.key } : {}),
      ...ctx.tlsVersions,
      ...(s.protocol === 'grpcs' ? { alpn: ['h2'] } : s.protocol === 'https' ? { alpn: ['http/1.1'] } : {}),
    },
    Math.min(connectTimeout(s), LIMITS.stepTimeoutMs),
  )
  if (!hs.ok && hs.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' && s.protocol === 'grpcs')
    return { ok: false, findings: [notHttp2(a, 'refused by the upstream (no_application_protocol alert)')] }
  if (!hs.ok) {
    // Tell "speaks plain HTTP" by what the port answers to a plain request on a new connection.
    let plain: string | null = null
    if (hs.code !== 'TIMEOUT') {
      const again = await openTcp(a.ip, a.port, connectMs)
      if (again.ok) {
        const r = await exchange(again.socket, 'HEAD', requestHead('HEAD', '/', a, false), Math.min(2000, LIMITS.stepTimeoutMs))
        if (r.ok) plain = r.head.statusLine
        again.socket.destroy()
      }
    }
    return { ok: false, findings: [tlsHandshakeFailure(a, hs.code, hs.message, plain)] }
  }
  if (report !== null) report.push(...tlsFindings(a, hs, tls, a.hostname))
  if (report !== null && s.protocol === 'grpcs' && hs.alpn !== 'h2') report.push(notHttp2(a, hs.alpn ?? 'none'))
  if (s.protocol === 'grpcs' || s.protocol === 'tls') {
    // Nothing more to say over this connection.
    hs.socket.destroy()
    return { ok: true, socket: hs.socket }
  }
  return { ok: true, socket: hs.socket }
}

/** A grpcs upstream that does not agree to HTTP/2 in the TLS handshake. */
function notHttp2(a: Address, alpn: string): Finding {
  return finding(
    'tls',
    'error',
    a.subject,
    `${at(a.ip, a.port)} did not agree to HTTP/2 in the TLS handshake (ALPN: ${alpn}): a grpcs service needs a gRPC (HTTP/2) server`,
    'check the port, or set the service protocol to https if the upstream serves HTTP/1.x',
    { address: at(a.ip, a.port), alpn },
  )
}

/** What an http service's port answered when it did not answer HTTP: TLS, by bytes or by a handshake. */
async function speaksTls(a: Address, failure: ExchangeFailure, timeoutMs: number): Promise<string | null> {
  if (classifyGreeting(failure.received) === 'tls') return 'answered a plain HTTP request with a TLS record'
  if (failure.received.length > 0 || failure.code === 'TIMEOUT') return null
  const tcp = await openTcp(a.ip, a.port, timeoutMs)
  if (!tcp.ok) return null
  const hs = await startTls(tcp.socket, { servername: a.hostname }, timeoutMs)
  if (!hs.ok) return null
  hs.socket.destroy()
  return `closed a plain HTTP request without a byte, and a TLS handshake with it succeeded (${hs.protocol ?? 'TLS'})`
}

function httpFailure(
  s: Service,
  a: Address,
  r: ExchangeFailure,
  method: string,
  path: string,
  readMs: number,
  tlsSays: string | null,
): Finding {
  const where = at(a.ip, a.port)
  const details = {
    address: where,
    method,
    path,
    code: r.code,
    error: r.message,
    ms: r.ms,
    first_bytes: r.received.subarray(0, 16).toString('hex'),
  }
  if (tlsSays !== null)
    return finding(
      'http',
      'error',
      a.subject,
      `this port speaks TLS: ${where} ${tlsSays}, but the service protocol is http`,
      'set the service protocol to https (url=https://…), or point it at the port that serves plain HTTP',
      details,
    )
  if (r.code === 'TIMEOUT') {
    const atLimit = readMs >= readTimeout(s)
    return finding(
      'http',
      atLimit ? 'error' : 'warn',
      a.subject,
      atLimit
        ? `upstream timed out: ${where} sent no response header to ${method} ${path} within read_timeout=${readTimeout(s)} ms`
        : `${where} sent no response header to ${method} ${path} within the probe's ${readMs} ms (the service's read_timeout is ${readTimeout(s)} ms): the upstream is slow or stuck`,
      "check the upstream's load and logs; raise the service's read_timeout only if that slowness is expected",
      details,
    )
  }
  if (r.code === 'CLOSED')
    return finding(
      'http',
      'error',
      a.subject,
      `upstream prematurely closed connection: ${where} closed ${method} ${path} without answering`,
      'check the upstream logs for a crash on this request; if the port serves another protocol, fix the service port or protocol',
      details,
    )
  if (r.code === 'INVALID')
    return finding(
      'http',
      'error',
      a.subject,
      `${where} did not answer in HTTP/1.x (first bytes ${details.first_bytes || 'none'})`,
      'check the port: it serves another protocol (HTTP/2 only, a database …)',
      details,
    )
  return finding(
    'http',
    'error',
    a.subject,
    `${method} ${path} to ${where} failed: ${r.code} (${r.message})`,
    'check the upstream and the network path',
    details,
  )
}

function httpResult(a: Address, r: ExchangeResult, method: string, path: string): Finding {
  const where = at(a.ip, a.port)
  const server = r.head.headers['server']
  const details = {
    address: where,
    method,
    path,
    status: r.head.status,
    status_line: r.head.statusLine,
    first_byte_ms: r.firstByteMs,
    ms: r.ms,
    ...(server !== undefined ? { server } : {}),
    ...(r.head.headers['via'] !== undefined ? { via: r.head.headers['via'] } : {}),
  }
  if (r.head.status >= 500)
    return finding(
      'http',
      'warn',
      a.subject,
      `${where} itself answered ${r.head.status} to ${method} ${path}${server !== undefined ? ` (server: ${server})` : ''}: a 5xx through the gateway from this service is the upstream's, not the gateway's`,
      'check the upstream behind this address: if it is a load balancer, its target groups and health checks; else the application and its logs',
      details,
    )
  if (r.head.status === 400 && isPlainHttpOnTlsPortPage(r.bodyStart))
    return finding(
      'http',
      'error',
      a.subject,
      `this port speaks TLS: ${where} answered "The plain HTTP request was sent to HTTPS port"`,
      'set the service protocol to https (url=https://…)',
      details,
    )
  return finding('http', 'ok', a.subject, `${method} ${path} → ${r.head.status} from ${where} in ${r.ms} ms`, undefined, details)
}

// --- keep-alive -------------------------------------------------------------------------------------

function keepaliveAdvice(closedS: number, idle: number): string {
  const rule = "the gateway's keep-alive timeout must be shorter than the upstream's (or its load balancer's) idle timeout"
  const raise = `raise the idle timeout of the upstream (or of the load balancer in front of it) above ${idle === 0 ? "the gateway's" : `${idle} s`}`
  // upstream_keepalive_idle_timeout is whole seconds: the largest one at least 0.25 s under the
  // upstream's (a measured 2.003 s is the upstream's 2 s, which 2 s would race).
  const below = Math.floor(closedS - 0.25)
  if (below >= 1)
    return `${rule}: set upstream_keepalive_idle_timeout to ${below} s or less (below the upstream's ${Math.round(closedS * 10) / 10} s), or ${raise}`
  return `${rule}, and no whole number of seconds (upstream_keepalive_idle_timeout is 1 s at least) is below the upstream's ${Math.round(closedS * 10) / 10} s: ${raise}, or turn upstream keep-alive off (upstream_keepalive_pool_size=0)`
}

function notMeasured(where: string, why: NotReusable | null): string {
  switch (why) {
    case 'close':
      return `${where} closes the connection after each response (Connection: close): the gateway opens a new one per request`
    case 'unframed':
      return `keep-alive not measured: ${where} ended its response by closing the connection (no Content-Length, not chunked)`
    case 'large':
      return `keep-alive not measured: ${where}'s response body is larger than the probe reads`
    case 'slow':
      return `keep-alive not measured: ${where}'s response body did not end within the probe's time`
    default:
      return `keep-alive not measured: ${where} closed the connection right after its response head`
  }
}

async function keepaliveCheck(ctx: ServiceCheckContext, a: Address, r: ExchangeResult, socket: Socket): Promise<Finding> {
  const where = at(a.ip, a.port)
  const idle = ctx.keepalive.idleTimeout
  const base = { address: where, upstream_keepalive_idle_timeout: idle }
  if (!r.reusable) {
    socket.destroy()
    return finding('keepalive', 'ok', a.subject, notMeasured(where, r.notReusable), undefined, { ...base, not_reusable: r.notReusable })
  }
  const waitS = ctx.options.keepaliveWait
  if (waitS === 0) {
    socket.destroy()
    return finding('keepalive', 'ok', a.subject, 'keep-alive not measured (keepalive_wait=0)', undefined, base)
  }
  const limitS = idle === 0 ? waitS : Math.min(waitS, idle + 2)
  const idleRun = await idleSurvival(socket, limitS * 1000)
  const seconds = Math.round(idleRun.ms / 100) / 10
  const details = { ...base, idle_ms: idleRun.ms, closed_by_upstream: idleRun.closed, waited_s: limitS }
  if (idleRun.closed && (idle === 0 || seconds < idle))
    return finding(
      'keepalive',
      'warn',
      a.subject,
      `${where} closes idle connections after ${seconds} s, but the gateway keeps them up to ${idle === 0 ? 'no limit' : `${idle} s`} (upstream_keepalive_idle_timeout): a request sent on a connection the upstream just closed fails with "upstream prematurely closed connection"`,
      keepaliveAdvice(idleRun.ms / 1000, idle),
      details,
    )
  if (idleRun.closed)
    return finding(
      'keepalive',
      'ok',
      a.subject,
      `${where} closes idle connections after ${seconds} s, longer than upstream_keepalive_idle_timeout=${idle} s`,
      undefined,
      details,
    )
  const measured = idle !== 0 && limitS >= idle
  // Not closed within the wait: the upstream may say how long it keeps idle connections.
  const advertised = /(?:^|[,;\s])timeout=(\d{1,6})\b/i.exec(r.head.headers['keep-alive'] ?? '')
  const advertisedS = advertised === null ? null : Number(advertised[1])
  if (!measured && advertisedS !== null && (idle === 0 || advertisedS < idle))
    return finding(
      'keepalive',
      'warn',
      a.subject,
      `${where} announces it closes idle connections after ${advertisedS} s (Keep-Alive: timeout=${advertisedS}), but the gateway keeps them up to ${idle === 0 ? 'no limit' : `${idle} s`} (upstream_keepalive_idle_timeout): a request sent on a connection the upstream just closed fails with "upstream prematurely closed connection"`,
      keepaliveAdvice(advertisedS, idle),
      { ...details, advertised_timeout_s: advertisedS },
    )
  return finding(
    'keepalive',
    'ok',
    a.subject,
    measured
      ? `an idle connection to ${where} outlived upstream_keepalive_idle_timeout=${idle} s (waited ${seconds} s)`
      : `an idle connection to ${where} was still open after ${seconds} s (the gateway keeps them ${idle === 0 ? 'with no limit' : `${idle} s`}; ask with keepalive_wait=${Math.min(LIMITS.keepaliveWaitMax, idle + 2)} (turnpike doctor --keepalive-wait ${Math.min(LIMITS.keepaliveWaitMax, idle + 2)}) to measure the whole span)`,
    undefined,
    details,
  )
}

// --- one address, one service -----------------------------------------------------------------------

async function checkAddress(ctx: ServiceCheckContext, s: Service, a: Address, tls: UpstreamTls): Promise<Finding[]> {
  const out: Finding[] = []
  const conn = await connectTo(ctx, s, a, tls, out)
  if (!conn.ok) return [...out, ...conn.findings]
  if (!HTTP_PROTOCOLS.has(s.protocol)) {
    conn.socket.destroy()
    return out
  }
  const path = ctx.options.path ?? s.path ?? '/'
  const readMs = Math.min(readTimeout(s), LIMITS.stepTimeoutMs)
  const isTls = TLS_PROTOCOLS.has(s.protocol)
  let method = ctx.options.method ?? 'HEAD'
  let socket = conn.socket
  let r = await exchange(socket, method, requestHead(method, path, a, isTls), readMs)
  if (r.ok && ctx.options.method === null && (r.head.status === 405 || r.head.status === 501)) {
    // HEAD refused: GET on a new connection.
    socket.destroy()
    const again = await connectTo(ctx, s, a, tls, null)
    if (!again.ok) return [...out, ...again.findings]
    method = 'GET'
    socket = again.socket
    r = await exchange(socket, method, requestHead(method, path, a, isTls), readMs)
  }
  if (!r.ok) {
    const tlsSays = isTls ? null : await speaksTls(a, r, Math.min(connectTimeout(s), LIMITS.stepTimeoutMs))
    out.push(httpFailure(s, a, r, method, path, readMs, tlsSays))
    return out
  }
  out.push(httpResult(a, r, method, path))
  if (ctx.keepalive.poolSize === 0) {
    socket.destroy()
    out.push(finding('keepalive', 'ok', a.subject, 'keep-alive to upstreams is off (upstream_keepalive_pool_size=0)'))
  } else out.push(await keepaliveCheck(ctx, a, r, socket))
  return out
}

/** Every finding of one service. */
export async function checkService(ctx: ServiceCheckContext, s: Service): Promise<Finding[]> {
  const subject = serviceSubject(s)
  const findings: Finding[] = []
  if (s.enabled === false)
    return [finding('service', 'ok', subject, 'the service is disabled (enabled=false): the proxy sends it nothing, not probed')]
  const upstreams = ctx.payload.entities?.upstreams ?? []
  const upstream = upstreams.find((u) => u.name === s.host)
  let addresses: Address[]
  if (upstream !== undefined) {
    findings.push(
      finding(
        'dns',
        'ok',
        subject,
        `service host "${s.host}" names upstream ${upstream.name}: its targets are resolved by the balancer`,
        undefined,
        {
          upstream: upstream.name,
        },
      ),
    )
    addresses = await upstreamAddresses(ctx, s, upstream, findings)
  } else {
    const r = await resolveName(ctx.dns, s.host, s.port, subject)
    findings.push(r.finding)
    addresses = r.addresses.map((x) => ({ ...x, hostname: s.host, subject }))
  }
  if (s.protocol === 'udp') return findings
  const material = new TlsMaterial(ctx.payload.entities?.['ca_certificates'] ?? [], ctx.payload.entities?.['certificates'] ?? [])
  const tls = material.compile(s, ctx.trust, upstream)
  const probed = addresses.slice(0, LIMITS.maxAddresses)
  const results = await Promise.all(probed.map((a) => checkAddress(ctx, s, a, tls)))
  for (const r of results) findings.push(...r)
  if (addresses.length > probed.length)
    findings.push(
      finding(
        'tcp',
        'ok',
        subject,
        `${addresses.length - probed.length} more addresses not probed (at most ${LIMITS.maxAddresses} per service)`,
      ),
    )
  return findings
}
