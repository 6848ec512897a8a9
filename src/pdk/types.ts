/**
 * The plugin development kit: what a plugin sees of a request, in Kong's PDK shape
 * (`kong.request`, `kong.response`, `kong.service.request`, `kong.client`, `kong.log`, `kong.ctx`)
 * with TypeScript names. Plugins never touch node:http or the store: the PDK reads the request and
 * the configuration snapshot (in-memory indexes), and records what the plugin wants done.
 *
 * @module
 */

/** A header value as plugins see it: one string, or several for repeated headers. */
export type HeaderValue = string | string[]

/** A row of any entity (consumers, credentials…), as stored. */
export type EntityRow = Readonly<Record<string, unknown>> & { readonly id: string }

export interface Consumer extends EntityRow {
  readonly username: string | null
  readonly custom_id: string | null
}

export interface Credential extends EntityRow {
  readonly consumer: { readonly id: string } | null
}

export interface PdkRequest {
  /** Kong's request id (also `X-Kong-Request-Id`). */
  getId(): string
  getMethod(): string
  /** `http` or `https` as the client connected. */
  getScheme(): string
  /** Host header without port, lower-cased. */
  getHost(): string
  getPort(): number
  /** Honours `X-Forwarded-*` only from `trusted_ips`, as Kong. */
  getForwardedScheme(): string
  getForwardedHost(): string
  getForwardedPort(): number
  getHttpVersion(): string
  /** The normalized path (no query string). */
  getPath(): string
  /** The path as received (no query string). */
  getRawPath(): string
  /** Path and query as received. */
  getPathWithQuery(): string
  /** Query string without `?`, as received. */
  getRawQuery(): string
  /** First value of a query argument, decoded; `true` for a bare `?flag`. */
  getQueryArg(name: string): string | true | undefined
  /** All query arguments, decoded. */
  getQuery(): Readonly<Record<string, string | true | (string | true)[]>>
  /** First value of a header (case-insensitive name). */
  getHeader(name: string): string | undefined
  /** All headers, lower-case names. */
  getHeaders(): Readonly<Record<string, HeaderValue | undefined>>
  /**
   * The request body, read in full (at most `maxBytes`, default 8 MiB) and kept so it is still sent
   * upstream. Only in the access phase.
   */
  getRawBody(maxBytes?: number): Promise<Buffer>
  /**
   * The body parsed by content type (JSON, form, multipart fields), or null when none/unparsable.
   * Forms are flat, as Kong's `get_body` (nginx's `get_post_args`): one name per field, a repeated
   * name gives an array, only the first 100 fields (`lua_max_post_args`); null prototype.
   */
  getBody(maxBytes?: number): Promise<{ readonly mimetype: string; readonly args: Record<string, unknown> } | null>
}

export interface PdkClient {
  /** The client address after real-IP processing (`trusted_ips` + `real_ip_header`). */
  getIp(): string
  /** Same as getIp (Kong keeps both). */
  getForwardedIp(): string
  /** The peer address of the TCP connection. */
  getPeerIp(): string
  getPort(): number
  getProtocol(): string
  getConsumer(): Consumer | null
  getCredential(): Credential | null
  /** Sets the authenticated consumer and/or credential (auth plugins). */
  authenticate(consumer: Consumer | null, credential: Credential | null): void
}

/** How a plugin ends a request early: status, optional body (object → JSON) and headers. */
export interface PdkResponse {
  /** Short-circuits the request: no later access handler runs and nothing is sent upstream. */
  exit(
    status: number,
    body?: string | Buffer | Readonly<Record<string, unknown>> | null,
    headers?: Readonly<Record<string, HeaderValue>>,
  ): void
  /** Kong's `kong.response.error`: a Kong error body (negotiated on Accept) with this message. */
  error(status: number, message?: string, headers?: Readonly<Record<string, HeaderValue>>): void
  /** Status of the response being sent (header/body filter and log phases). */
  getStatus(): number
  getHeader(name: string): string | undefined
  getHeaders(): Readonly<Record<string, HeaderValue | undefined>>
  /** `service` (proxied), `exit` (a plugin), or `error` (the gateway). */
  getSource(): 'service' | 'exit' | 'error'
  setHeader(name: string, value: HeaderValue): void
  addHeader(name: string, value: string): void
  clearHeader(name: string): void
  setStatus(status: number): void
}

/** Changes to the request sent upstream (access phase). */
export interface PdkServiceRequest {
  setHeader(name: string, value: HeaderValue): void
  addHeader(name: string, value: string): void
  clearHeader(name: string): void
  setMethod(method: string): void
  /** Replaces the upstream path (absolute, without query string). */
  setPath(path: string): void
  /** Replaces the whole query string (without `?`). */
  setRawQuery(query: string): void
  setQuery(args: Readonly<Record<string, string | true | readonly (string | true)[]>>): void
  /** Replaces the request body; Content-Length is set accordingly. */
  setRawBody(body: string | Buffer): void
  /** The headers as they will be sent upstream (lower-case names), earlier plugins' changes included. */
  getHeaders(): Readonly<Record<string, HeaderValue>>
  /** First value of an upstream header (case-insensitive name). */
  getHeader(name: string): string | undefined
  /** The query string as it will be sent upstream, without `?` ('' when none). */
  getRawQuery(): string
  /** The path as it will be sent upstream (without query string). */
  getPath(): string
  /** The method as it will be sent upstream. */
  getMethod(): string
}

export interface PdkServiceResponse {
  /** The upstream's status, in header/body filter and log phases (undefined if none). */
  getStatus(): number | undefined
  getHeader(name: string): string | undefined
  getHeaders(): Readonly<Record<string, HeaderValue | undefined>>
}

export interface PdkLog {
  debug(...parts: unknown[]): void
  info(...parts: unknown[]): void
  notice(...parts: unknown[]): void
  warn(...parts: unknown[]): void
  err(...parts: unknown[]): void
  crit(...parts: unknown[]): void
  /**
   * Kong's `kong.log.set_serialize_value`: adds (or, with `undefined`, removes) a key of the
   * {@link Pdk.serialize} output for this request; dots name nested keys (`request.x`). Always
   * present on a request's PDK (optional only so that plain loggers fit this type).
   */
  setSerializeValue?(key: string, value: unknown): void
}

/**
 * Read-only access to the configuration snapshot's entities (consumers, credentials…), by
 * in-memory indexes built when the configuration changed. Never a store query.
 */
export interface PdkEntities {
  select(entity: string, id: string): EntityRow | null
  /** Lookup on a unique field (`keyauth_credentials`.`key`). */
  selectByUnique(entity: string, field: string, value: unknown): EntityRow | null
  /** Rows whose foreign field points at `id` (`acls` of a consumer). */
  listByForeign(entity: string, field: string, id: string): readonly EntityRow[]
  /** A consumer by id, or by username (Kong's `anonymous` accepts either). */
  consumer(idOrUsername: string): Consumer | null
}

export interface PdkRouter {
  getRoute(): EntityRow | null
  getService(): EntityRow | null
  /** Regex captures of the matched route path (`uri_captures`). */
  getCaptures(): Readonly<Record<string, string>> | null
}

/** The `kong` object given to every phase handler. */
export interface Pdk {
  readonly request: PdkRequest
  readonly client: PdkClient
  readonly response: PdkResponse
  readonly service: { readonly request: PdkServiceRequest; readonly response: PdkServiceResponse }
  readonly router: PdkRouter
  readonly log: PdkLog
  readonly entities: PdkEntities
  readonly ctx: {
    /** Shared by every plugin of this request. */
    readonly shared: Record<string, unknown>
    /** Private to the running plugin instance for this request. */
    readonly plugin: Record<string, unknown>
  }
  /** Latencies so far (log phase): ms spent in the gateway, upstream, and total. */
  readonly timing: { readonly startedAt: number; kong(): number; upstream(): number | undefined; total(): number }
  /** Kong's `kong.log.serialize()` shape, for logging plugins (log phase). */
  serialize(): Record<string, unknown>
}
