/**
 * What an outbound HTTP request and its outcome look like (types only): the contract between the
 * code that needs to call out (health probes, http-log, OpenID discovery, the CLI) and the client
 * that does it (`src/http/outbound.ts`, on undici). Plugins get a {@link HttpRequester} in their
 * init context (`PluginInitContext.http`) and never import `src/http/`.
 *
 * @module
 */

export interface OutboundRequest {
  readonly method: string
  /** `http://host:port` or `https://host:port` (an IPv6 address in brackets): where to connect. */
  readonly origin: string
  /** The request target, sent as it is (not normalised), starting with `/`. */
  readonly path: string
  /** Request headers; a `host` header replaces the origin's authority. */
  readonly headers?: Readonly<Record<string, string | readonly string[]>>
  readonly body?: string | Uint8Array
  /** Bound on the TCP (+TLS) connect, in milliseconds. */
  readonly connectTimeoutMs: number
  /** Bound on each wait for the answer (its header, then each body chunk), in milliseconds. */
  readonly readTimeoutMs: number
  /** Bound on the whole exchange (connect included), in milliseconds. */
  readonly totalTimeoutMs?: number
  /**
   * For https origins: verify the certificate (default true), the SNI name to send, the CAs trusted
   * (PEM; default: node's), and a client certificate and key (PEM) to present. The TLS versions
   * are kong.conf's `lua_ssl_protocols`, for every request.
   */
  readonly tls?: {
    readonly verify?: boolean
    readonly servername?: string
    readonly ca?: readonly string[]
    /** The longest chain accepted when verifying, as OpenSSL's verify depth (default: no limit). */
    readonly verifyDepth?: number
    readonly cert?: string
    readonly key?: string
  }
  /** A larger response body fails with `too_large`. */
  readonly maxBodyBytes?: number
  /** Only the status and headers are wanted: the connection is closed once they arrive. */
  readonly discardBody?: boolean
  /** Keep connections to this origin open (a pool), else one connection for this request only. */
  readonly keepAlive?: { readonly idleMs: number; readonly connections: number }
}

export type OutboundFailureKind = 'refused' | 'timeout' | 'dns' | 'tls' | 'reset' | 'too_large' | 'other'

/** Why a request got no complete answer. */
export interface OutboundFailure {
  readonly kind: OutboundFailureKind
  /** Before the response header arrived, or while reading the body. */
  readonly phase: 'request' | 'body'
  /** The system or undici error code (`ECONNREFUSED`, `UND_ERR_SOCKET`…), if there is one. */
  readonly code: string | undefined
  readonly message: string
}

export type OutboundResult =
  | {
      readonly ok: true
      readonly status: number
      readonly headers: Readonly<Record<string, string | string[] | undefined>>
      readonly body: Buffer
    }
  | { readonly ok: false; readonly failure: OutboundFailure }

/** The outbound HTTP client: never throws, every failure is a result. */
export interface HttpRequester {
  request(req: OutboundRequest): Promise<OutboundResult>
}
