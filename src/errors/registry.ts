/**
 * The gateway's error registry: every error the proxy answers itself (and the Admin API's 500),
 * each with a stable `code`, the status the client gets, Kong's client message and, where the
 * cause can be told, a hint builder for the operator's error-log line. docs/errors.md documents
 * every code (test/unit/errors/registry-docs.test.ts keeps the two in step). Kong's default
 * status messages (`kong/tools/http.lua`, `kong/error_handlers.lua`) live here too, once.
 *
 * @module
 */

/**
 * Who raises the error in Kong, which decides how its body is negotiated: `kong`
 * (`kong.response.error`: `Accept`, JSON by default) or `nginx` (`/kong_error_handler`: `Accept`,
 * else `Content-Type`, else `error_default_type`).
 */
export type RaisedBy = 'kong' | 'nginx'

/** One error of the registry. `message` may hold `<name>` parts filled per request ({@link errorMessage}). */
export interface GatewayError<H = never> {
  readonly code: string
  /** The status the client gets. */
  readonly status: number
  /** Kong's client message. */
  readonly message: string
  readonly raisedBy: RaisedBy
  /** The likely cause and fix, for the error log's `hint` field. */
  readonly hint?: (input: H) => string
}

/** An error whose hint builder is known to be there. */
export type HintedError<H> = GatewayError<H> & { readonly hint: (input: H) => string }

/** The message for `500` everywhere (proxy, plugins, Admin API). */
export const UNEXPECTED_MESSAGE = 'An unexpected error occurred'

/** nginx-level error messages by status (`kong/error_handlers.lua`). */
export function nginxStatusMessage(status: number): string {
  switch (status) {
    case 400:
      return 'Bad request'
    case 404:
      return 'Not found'
    case 405:
      return 'Method not allowed'
    case 408:
      return 'Request timeout'
    case 411:
      return 'Length required'
    case 412:
      return 'Precondition failed'
    case 413:
      return 'Payload too large'
    case 414:
      return 'URI too long'
    case 417:
      return 'Expectation failed'
    case 494:
      return 'Request header or cookie too large'
    case 500:
      return UNEXPECTED_MESSAGE
    case 502:
      return 'An invalid response was received from the upstream server'
    case 503:
      return 'The upstream server is currently unavailable'
    case 504:
      return 'The upstream server is timing out'
    default:
      return `The upstream server responded with ${status}`
  }
}

/** Kong's default messages for `kong.response.error` without one (`kong/tools/http.lua`). */
export function kongDefaultMessage(status: number): string {
  switch (status) {
    case 401:
      return 'Unauthorized'
    case 404:
      return 'Not found'
    case 405:
      return 'Method not allowed'
    case 500:
      return UNEXPECTED_MESSAGE
    case 502:
      return 'Bad gateway'
    case 503:
      return 'Service unavailable'
    default:
      return nginxStatusMessage(status)
  }
}

/** A message with its `<name>` parts filled from `values` (parts not given stay as written). */
export function errorMessage(e: GatewayError<never>, values: Readonly<Record<string, string>>): string {
  return e.message.replace(/<([a-z_]+)>/g, (whole, name: string) => (Object.hasOwn(values, name) ? (values[name] as string) : whole))
}

const kong = (code: string, status: number, message: string): GatewayError => ({ code, status, message, raisedBy: 'kong' })
function nginx<H = never>(code: string, status: number, message = nginxStatusMessage(status)): GatewayError<H> {
  return { code, status, message, raisedBy: 'nginx' }
}
function hinted<H>(e: GatewayError, hint: (input: H) => string): HintedError<H> {
  return { ...e, hint }
}

// --- requests nginx refuses before Kong's phases ----------------------------------------------------

export const BAD_REQUEST = nginx('TP_BAD_REQUEST', 400)
export const HEADER_TOO_LARGE = nginx('TP_HEADER_TOO_LARGE', 400, nginxStatusMessage(494))
export const URI_TOO_LONG = nginx('TP_URI_TOO_LONG', 414)
export const METHOD_NOT_ALLOWED = nginx('TP_METHOD_NOT_ALLOWED', 405)
export const TRANSFER_ENCODING_NOT_IMPLEMENTED = nginx('TP_TRANSFER_ENCODING_NOT_IMPLEMENTED', 501)
export const REQUEST_TIMEOUT = nginx('TP_REQUEST_TIMEOUT', 408)
export const BODY_TOO_LARGE = nginx('TP_BODY_TOO_LARGE', 413)

/** What `Proxy.reject(status)` answers, by the status nginx finalizes the request with. */
export function refusal(status: number): GatewayError {
  switch (status) {
    case 400:
      return BAD_REQUEST
    case 494:
      return HEADER_TOO_LARGE
    case 414:
      return URI_TOO_LONG
    case 405:
      return METHOD_NOT_ALLOWED
    case 501:
      return TRANSFER_ENCODING_NOT_IMPLEMENTED
    case 408:
      return REQUEST_TIMEOUT
    case 413:
      return BODY_TOO_LARGE
    // Not reached (the statuses above are all checkRequestHead and the body limit give): nginx's message.
    default:
      return { ...BAD_REQUEST, status, message: nginxStatusMessage(status) }
  }
}

// --- routing ------------------------------------------------------------------------------------------

export const NO_ROUTE = kong('TP_NO_ROUTE', 404, 'no Route matched with those values')
export const HTTPS_REQUIRED = kong('TP_HTTPS_REQUIRED', 426, 'Please use HTTPS protocol')
export const NO_SERVICE = kong('TP_NO_SERVICE', 503, 'no Service found with those values')
/** A gRPC request (application/grpc) over HTTP/1.x on a route with grpc/grpcs protocols. */
export const GRPC_HTTP2_REQUIRED = kong('TP_GRPC_HTTP2_REQUIRED', 426, 'Please use HTTP2 protocol')
/** A request without a gRPC content type on a route with grpc/grpcs protocols. */
export const GRPC_NOT_GRPC = kong('TP_GRPC_NOT_GRPC', 415, 'Non-gRPC request matched gRPC route')

// --- plugins ------------------------------------------------------------------------------------------

/** A plugin handler threw (or its promise rejected) in rewrite or access; the Admin API's 500 too. */
export const UNEXPECTED = kong('TP_UNEXPECTED', 500, UNEXPECTED_MESSAGE)

// --- DNS and the balancer -----------------------------------------------------------------------------

export interface DnsHintInput {
  readonly host: string
  /** The service as the log names it: `"name"` or its id. */
  readonly service: string
  readonly nameservers: string
  /** The resolver's failure code (`EMPTY`, `NXDOMAIN`, `SERVFAIL`, `TIMEOUT` …). */
  readonly code: string
}

export const DNS_NOT_FOUND = hinted(
  kong('TP_DNS_NOT_FOUND', 503, 'name resolution failed'),
  (r: DnsHintInput) =>
    `the name "${r.host}" of service ${r.service} does not resolve: nameserver ${r.nameservers} answered ${r.code === 'EMPTY' ? 'that it has no record of the types tried' : 'that it does not exist'}; check it for typos, dns_hostsfile, and dns_resolver (or /etc/resolv.conf)`,
)
export const DNS_ERROR = hinted(
  kong('TP_DNS_ERROR', 500, "failed the initial dns/balancer resolve for '<host>' with: <error>"),
  (r: DnsHintInput) =>
    `the nameserver could not answer for "${r.host}" (${r.code}): check that dns_resolver (or /etc/resolv.conf) names reachable, working nameservers (asked: ${r.nameservers})`,
)

export interface NoPeerHintInput {
  readonly upstream: string
  /** The balancer's reason (`no healthy targets` …) and the targets' states, when it has targets. */
  readonly reason: string
  readonly targets: string | null
}

function noPeerHint(b: NoPeerHintInput): string {
  return b.targets === null
    ? `upstream "${b.upstream}" has no targets: add one with POST /upstreams/${b.upstream}/targets`
    : `upstream "${b.upstream}" has no healthy target with weight > 0 (${b.reason}; targets: ${b.targets}): see GET /upstreams/${b.upstream}/health`
}

export const NO_PEER = hinted(kong('TP_NO_PEER', 503, 'failure to get a peer from the ring-balancer'), noPeerHint)
/** No target left to retry on (a try after the first). */
export const NO_PEER_ON_RETRY = hinted(nginx('TP_NO_PEER_ON_RETRY', 503), noPeerHint)

// --- upstream attempts --------------------------------------------------------------------------------

/** What an upstream failure's hint names. */
export interface UpstreamHintInput {
  readonly scheme: 'http' | 'https'
  /** `host (ip:port)`, or `ip:port` when the host is the address. */
  readonly named: string
  /** `ip:port`. */
  readonly target: string
  readonly hostname: string
  readonly port: number
  readonly connectTimeout: number
  readonly readTimeout: number
  readonly writeTimeout: number | undefined
  readonly keepaliveIdleTimeout: number
  readonly maxHeaderSize: number
  readonly method: string | undefined
  /** Whether nginx may pass `method` to the next attempt once it was sent. */
  readonly idempotent: boolean | undefined
  readonly hasBody: boolean | undefined
  /** Whatever the failure adds (the TLS verify reason, the parser's complaint …). */
  readonly detail: string
}

const upstream = (
  code: string,
  status: 502 | 504,
  hint: (c: UpstreamHintInput) => string,
): HintedError<UpstreamHintInput> & { status: 502 | 504 } => ({ ...hinted(nginx(code, status), hint), status })

export const UPSTREAM_CONNECT_REFUSED = upstream(
  'TP_UPSTREAM_CONNECT_REFUSED',
  502,
  (c) =>
    `nothing accepts connections on ${c.named}: check the service's host and port, and that the upstream (or the load balancer in front of it) is running and listening there`,
)
export const UPSTREAM_CONNECT_TIMEOUT = upstream(
  'TP_UPSTREAM_CONNECT_TIMEOUT',
  504,
  (c) =>
    `no answer to the TCP connect to ${c.named} within connect_timeout=${c.connectTimeout}ms: a firewall or security group may be dropping packets, or the host is down; raise the service's connect_timeout only if the network is known to be slow`,
)
export const UPSTREAM_HOST_UNREACHABLE = upstream(
  'TP_UPSTREAM_HOST_UNREACHABLE',
  502,
  (c) => `no network route from the gateway to ${c.named}: check routing and security groups`,
)
export const UPSTREAM_NETWORK_UNREACHABLE = upstream(
  'TP_UPSTREAM_NETWORK_UNREACHABLE',
  502,
  (c) => `the gateway host has no route to ${c.named}'s network`,
)
export const UPSTREAM_CONNECT_RESET = upstream(
  'TP_UPSTREAM_CONNECT_RESET',
  502,
  (c) => `${c.named} reset the connection during connect: a load balancer without healthy backends, or a firewall rejecting it`,
)
export const UPSTREAM_READ_TIMEOUT = upstream(
  'TP_UPSTREAM_READ_TIMEOUT',
  504,
  (c) =>
    `${c.named} accepted the request but sent no response header within read_timeout=${c.readTimeout}ms: the service is slow or stuck; if that is expected, raise the service's read_timeout`,
)
export const UPSTREAM_BODY_TIMEOUT = upstream(
  'TP_UPSTREAM_BODY_TIMEOUT',
  504,
  (c) => `${c.named} stopped sending the response body for more than read_timeout=${c.readTimeout}ms`,
)
export const UPSTREAM_WRITE_TIMEOUT = upstream(
  'TP_UPSTREAM_WRITE_TIMEOUT',
  504,
  (c) =>
    `${c.named} stopped reading the request body for more than write_timeout=${c.writeTimeout ?? '?'}ms (between two successive writes): the upstream is stuck or too slow to take uploads this size; raise the service's write_timeout if that is expected`,
)
export const UPSTREAM_HEADER_TOO_BIG = upstream(
  'TP_UPSTREAM_HEADER_TOO_BIG',
  502,
  (c) => `the response headers from ${c.named} exceed ${c.maxHeaderSize} bytes (large cookies or debug headers?): make them smaller`,
)
export const UPSTREAM_LENGTH_MISMATCH = upstream(
  'TP_UPSTREAM_LENGTH_MISMATCH',
  502,
  (c) => `the response from ${c.named} does not match its Content-Length header: fix the upstream's framing`,
)
export const UPSTREAM_SEND_FAILED = upstream(
  'TP_UPSTREAM_SEND_FAILED',
  502,
  (c) =>
    `${c.named} closed the connection while the gateway was still sending the request (it may reject large bodies, or a load balancer cut the connection)`,
)
export const UPSTREAM_RESET = upstream(
  'TP_UPSTREAM_RESET',
  502,
  (c) => `${c.named} reset the connection: the upstream crashed or a load balancer/firewall cut it`,
)
export const UPSTREAM_STALE_KEEPALIVE = upstream('TP_UPSTREAM_STALE_KEEPALIVE', 502, (c) => {
  const base = `${c.named} (or a load balancer in front of it) closed an idle keep-alive connection just as the gateway reused it: set upstream_keepalive_idle_timeout (now ${c.keepaliveIdleTimeout}s) below that load balancer's idle timeout`
  if (c.method === undefined) return `${base}; idempotent requests without a body are retried on a new connection`
  if (c.idempotent !== true)
    return `${base}; this ${c.method} was not retried because the upstream may have received it (${c.method} is not idempotent)`
  if (c.hasBody === true) return `${base}; this ${c.method} was not retried because its body was already streamed to the upstream`
  return `${base}; the ${c.method} is retried on a new connection`
})
export const UPSTREAM_PREMATURE_CLOSE = upstream('TP_UPSTREAM_PREMATURE_CLOSE', 502, (c) =>
  c.scheme === 'http'
    ? `${c.named} closed the connection without answering: the upstream crashed on this request, or it expects TLS (if ${c.target} serves HTTPS, set the service's protocol to https)`
    : `${c.named} closed the connection without answering: the upstream crashed on this request or rejected it`,
)
/** A premature close on an http service whose upstream, probed, completed a TLS handshake. */
export const UPSTREAM_SPEAKS_TLS = hinted(
  nginx('TP_UPSTREAM_SPEAKS_TLS', 502),
  (c: { readonly hostname: string; readonly port: number }) =>
    `${c.hostname}:${c.port} speaks TLS (a TLS handshake with it succeeded) but the service's protocol is http: set protocol=https (or url=https://…)`,
)
export const UPSTREAM_CLOSED_MID_BODY = upstream(
  'TP_UPSTREAM_CLOSED_MID_BODY',
  502,
  (c) => `${c.named} closed the connection before the end of the response body`,
)
export const UPSTREAM_TLS_ON_HTTP = upstream(
  'TP_UPSTREAM_TLS_ON_HTTP',
  502,
  (c) => `${c.named} answered with a TLS record: it serves HTTPS but the service's protocol is http: set protocol=https (or url=https://…)`,
)
export const UPSTREAM_HTTP_ON_HTTPS = upstream(
  'TP_UPSTREAM_HTTP_ON_HTTPS',
  502,
  (c) =>
    `${c.named} answered the TLS handshake in plain text: it serves HTTP, not HTTPS: set the service's protocol to http (or url=http://…)`,
)
export const UPSTREAM_TLS_HANDSHAKE_CLOSED = upstream(
  'TP_UPSTREAM_TLS_HANDSHAKE_CLOSED',
  502,
  (c) =>
    `${c.named} closed the connection during the TLS handshake: if it serves plain HTTP, set the service's protocol to http (or url=http://…); otherwise it rejected the handshake (TLS version, cipher, or SNI "${c.hostname}")`,
)
export const UPSTREAM_TLS_VERIFY = upstream(
  'TP_UPSTREAM_TLS_VERIFY',
  502,
  (c) => `the certificate of ${c.named} did not verify (${c.detail}): fix it, trust its CA, or set tls_verify=false on the service`,
)
export const UPSTREAM_TLS_UNKNOWN_CA = upstream(
  'TP_UPSTREAM_TLS_UNKNOWN_CA',
  502,
  (c) =>
    `the certificate of ${c.named} is not signed by a CA the gateway trusts (${c.detail}): add the CA to the service's ca_certificates or lua_ssl_trusted_certificate (or set tls_verify=false on the service)`,
)
export const UPSTREAM_TLS_HOSTNAME_MISMATCH = upstream(
  'TP_UPSTREAM_TLS_HOSTNAME_MISMATCH',
  502,
  (c) =>
    `the certificate of ${c.named} is not valid for the name checked (${c.detail}): set the service host (or the Host sent upstream: route preserve_host, upstream host_header) to a name the certificate holds, or reissue the certificate with that name`,
)
export const UPSTREAM_TLS_EXPIRED = upstream(
  'TP_UPSTREAM_TLS_EXPIRED',
  502,
  (c) =>
    `the certificate of ${c.named} is outside its validity period (${c.detail}): renew it on the upstream (or set tls_verify=false on the service meanwhile)`,
)
export const UPSTREAM_TLS_CHAIN_TOO_LONG = upstream(
  'TP_UPSTREAM_TLS_CHAIN_TOO_LONG',
  502,
  (c) =>
    `the certificate chain of ${c.named} is longer than the verify depth allows (${c.detail}): raise the service's tls_verify_depth or lua_ssl_verify_depth`,
)
export const UPSTREAM_TLS_CLIENT_CERTIFICATE = upstream(
  'TP_UPSTREAM_TLS_CLIENT_CERTIFICATE',
  502,
  (c) =>
    `${c.named} refused the TLS connection for want of an acceptable client certificate (${c.detail}): set the service's client_certificate (or its upstream's, or client_ssl_cert with client_ssl on) to a certificate the upstream trusts`,
)
export const UPSTREAM_TLS_ERROR = upstream(
  'TP_UPSTREAM_TLS_ERROR',
  502,
  (c) => `the TLS handshake with ${c.named} failed: check the upstream's TLS setup`,
)
export const UPSTREAM_INVALID_RESPONSE = upstream(
  'TP_UPSTREAM_INVALID_RESPONSE',
  502,
  (c) => `${c.named} did not answer in HTTP/1.x (${c.detail}): is the port right, or is the upstream HTTP/2-only or another protocol?`,
)
/** A grpc/grpcs service's upstream broke HTTP/2 framing (it answered the connection preface in HTTP/1.x, say). */
export const UPSTREAM_NOT_HTTP2 = upstream(
  'TP_UPSTREAM_NOT_HTTP2',
  502,
  (c) =>
    `${c.named} did not speak HTTP/2 (${c.detail}): a grpc service is reached with HTTP/2 prior knowledge (grpcs: h2 by ALPN), so the upstream must be a gRPC (HTTP/2) server: check the port, or set the service's protocol to http/https if it serves HTTP/1.x`,
)
/** The upstream switched protocols (101) but the client side cannot relay an upgrade. */
export const UPGRADE_UNSUPPORTED = kong('TP_UPGRADE_UNSUPPORTED', 502, nginxStatusMessage(502))
/** Any other failure: no hint. */
export const UPSTREAM_ERROR: GatewayError<UpstreamHintInput> & { readonly status: 502 } = {
  ...nginx<UpstreamHintInput>('TP_UPSTREAM_ERROR', 502),
  status: 502,
}

// --- configuration: logged when a configuration is compiled, no client answer --------------------------

/**
 * A problem of the configuration itself, found when it is compiled for the proxy: no request gets
 * an error for it, the error log says what and how to fix it. docs/errors.md lists these too.
 */
export interface ConfigurationError<H> {
  readonly code: string
  readonly hint: (input: H) => string
}

/** What the hint of an unresolved vault reference is told. */
export interface VaultReferenceHintInput {
  /** `syntax`: not a reference URL; `vault`: no such vault; `variable`: no such environment variable; `json`: no such key in its JSON. */
  readonly problem: 'syntax' | 'vault' | 'variable' | 'json'
  /** The vault the reference names (`env` or a vault entity's prefix). */
  readonly vault: string
  /** The environment variable looked up (env vault). */
  readonly variable: string | null
  /** The JSON key asked for (`{vault://env/name/key}`). */
  readonly key: string | null
  /** The vault backends this node loads (kong.conf `vaults`). */
  readonly loaded: readonly string[]
}

/** A `{vault://…}` reference that could not be resolved: the field is left empty, as in Kong. */
export const VAULT_REFERENCE_UNRESOLVED: ConfigurationError<VaultReferenceHintInput> = {
  code: 'TP_VAULT_REFERENCE_UNRESOLVED',
  hint: (v) => {
    switch (v.problem) {
      case 'syntax':
        return 'write the reference as {vault://<vault>/<name>[/<json key>]}, where <vault> is env or the prefix of a vaults entity'
      case 'vault':
        return v.loaded.length === 0
          ? 'the vaults setting is off: set vaults = bundled to use the env vault'
          : `no vaults entity has the prefix "${v.vault}": create one (PUT /vaults/${v.vault} with name=env, or a vaults entry in the declarative file) or reference {vault://env/…}`
      case 'variable':
        return `the environment variable ${v.variable ?? ''} is not set where the gateway runs: set it in the gateway's environment (the reference's name is upper-cased, - becomes _, after the vault's config.prefix or vault_env_prefix) and restart`
      case 'json':
        return `${v.variable ?? 'the variable'} must hold a JSON object with a string under "${v.key ?? ''}"`
    }
  },
}

/** Every configuration error (the docs check walks them). */
export const CONFIGURATION_ERRORS: readonly ConfigurationError<never>[] = [VAULT_REFERENCE_UNRESOLVED]

/** Every error of the registry (the docs check walks it). */
export const ERRORS: readonly GatewayError<never>[] = [
  BAD_REQUEST,
  HEADER_TOO_LARGE,
  URI_TOO_LONG,
  METHOD_NOT_ALLOWED,
  TRANSFER_ENCODING_NOT_IMPLEMENTED,
  REQUEST_TIMEOUT,
  BODY_TOO_LARGE,
  NO_ROUTE,
  HTTPS_REQUIRED,
  NO_SERVICE,
  GRPC_HTTP2_REQUIRED,
  GRPC_NOT_GRPC,
  UNEXPECTED,
  DNS_NOT_FOUND,
  DNS_ERROR,
  NO_PEER,
  NO_PEER_ON_RETRY,
  UPSTREAM_CONNECT_REFUSED,
  UPSTREAM_CONNECT_TIMEOUT,
  UPSTREAM_HOST_UNREACHABLE,
  UPSTREAM_NETWORK_UNREACHABLE,
  UPSTREAM_CONNECT_RESET,
  UPSTREAM_READ_TIMEOUT,
  UPSTREAM_BODY_TIMEOUT,
  UPSTREAM_WRITE_TIMEOUT,
  UPSTREAM_HEADER_TOO_BIG,
  UPSTREAM_LENGTH_MISMATCH,
  UPSTREAM_SEND_FAILED,
  UPSTREAM_RESET,
  UPSTREAM_STALE_KEEPALIVE,
  UPSTREAM_PREMATURE_CLOSE,
  UPSTREAM_SPEAKS_TLS,
  UPSTREAM_CLOSED_MID_BODY,
  UPSTREAM_TLS_ON_HTTP,
  UPSTREAM_HTTP_ON_HTTPS,
  UPSTREAM_TLS_HANDSHAKE_CLOSED,
  UPSTREAM_TLS_VERIFY,
  UPSTREAM_TLS_UNKNOWN_CA,
  UPSTREAM_TLS_HOSTNAME_MISMATCH,
  UPSTREAM_TLS_EXPIRED,
  UPSTREAM_TLS_CHAIN_TOO_LONG,
  UPSTREAM_TLS_CLIENT_CERTIFICATE,
  UPSTREAM_TLS_ERROR,
  UPSTREAM_INVALID_RESPONSE,
  UPSTREAM_NOT_HTTP2,
  UPSTREAM_ERROR,
  UPGRADE_UNSUPPORTED,
]
