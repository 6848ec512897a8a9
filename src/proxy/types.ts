/**
 * The seams between the proxy runloop and the runtime edges. The node:http server adapter
 * (`src/http/node-proxy-server.ts`) implements {@link Downstream}; the undici adapter
 * (`src/http/undici-upstream.ts`) implements {@link UpstreamClient}. HTTP/2 has its own pair
 * (`src/http/h2-server.ts`, `src/http/h2-upstream.ts`) behind the same interfaces. A second runtime (Bun's
 * native server and fetch) only has to provide these two.
 */

export type { HeaderList, RequestHeaders, ResponseHeaders } from '../codec/header-types.js'
import type { HeaderList, RequestHeaders, ResponseHeaders } from '../codec/header-types.js'
import type { UpstreamTarget } from '../snapshot/target.js'
export type { UpstreamTarget } from '../snapshot/target.js'

/** An opaque request body handle: whatever the server adapter gives, the client adapter understands. */
export type BodySource = AsyncIterable<Uint8Array>

/** One client exchange, as the server adapter presents it. */
export interface Downstream {
  readonly method: string
  /** Raw request target (`/path?query`). */
  readonly url: string
  readonly headers: RequestHeaders
  /** Flat list of header names and values as received: `[name, value, name, value …]`. */
  readonly rawHeaders: readonly string[]
  /** `1.1`, `1.0`, `2.0`. */
  readonly httpVersion: string
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localPort: number
  readonly scheme: 'http' | 'https'
  /** The server name the client sent in its TLS handshake (SNI), on TLS listeners. */
  readonly sni?: string | undefined
  /** Connection serial number on this worker (for log lines, `*<n>`). */
  readonly connectionId: number
  /** The request body, or null when the request has none. */
  readonly body: BodySource | null
  /** Sends a complete response. */
  respond(status: number, headers: ResponseHeaders, body: string | Buffer | null): void
  /**
   * Starts a streamed response. A list is written as it is: the caller has made its values
   * sendable (codec/header-values.ts); an object is made sendable here.
   */
  writeHead(status: number, headers: ResponseHeaders | HeaderList): void
  /** Writes a body chunk; returns false when the client is not keeping up (wait for `onDrain`). */
  write(chunk: Uint8Array): boolean
  /**
   * Ends the response, with a last body chunk when one is given (sent together with it), and the
   * upstream's trailers when it sent some (HTTP/2 adapters send them; HTTP/1.1 ones drop them, as
   * nginx does).
   */
  end(lastChunk?: Uint8Array | null, trailers?: HeaderList | null): void
  /** Registers the callback for the next drain (one at a time). */
  onDrain(cb: () => void): void
  /** The client went away before the response ended. */
  onClose(cb: () => void): void
  /** Aborts the client connection (after a failure in the middle of a streamed response). */
  destroy(): void
  readonly headersSent: boolean
  /**
   * The adapter answered and closed the connection itself because of the request body: 408, the
   * client stopped sending it (client_body_timeout); 413, a chunked body grew past
   * client_max_body_size.
   */
  readonly bodyRefused?: 408 | 413 | undefined
}

export interface UpstreamRequest {
  readonly method: string
  readonly path: string
  /** Flat `[name, value …]` list, Host included. */
  readonly headers: string[]
  /** The client's body streamed, or a buffer when a plugin read or replaced it. */
  readonly body: BodySource | Buffer | null
  /** `websocket` etc. when the client asked for a protocol upgrade. */
  readonly upgrade: string | null
}

/** Receives one upstream attempt's outcome. Exactly one of onHeaders/onUpgrade/onError comes first. */
export interface UpstreamSink {
  /** The request reached a connected socket (from now on it may have been seen by the upstream). */
  onSent(): void
  onHeaders(status: number, headers: HeaderList, control: UpstreamControl): void
  onData(chunk: Buffer): void
  /** The response ended; `trailers` when the upstream sent some (HTTP/2: grpc-status …). */
  onEnd(trailers?: HeaderList | null): void
  onUpgrade(status: number, headers: HeaderList, socket: import('node:stream').Duplex): void
  /** The attempt failed; `info` describes where, for the error log. */
  onError(error: Error, info: UpstreamErrorInfo): void
}

export interface UpstreamControl {
  pause(): void
  resume(): void
  abort(): void
}

export interface UpstreamErrorInfo {
  /** The socket had carried earlier requests (a reused keep-alive connection), when known. */
  readonly reused: boolean | undefined
  /** The request reached a connected socket before the failure. */
  readonly sent: boolean
  /** Response headers had been received before the failure. */
  readonly headersReceived: boolean
}

export interface UpstreamClient {
  send(target: UpstreamTarget, request: UpstreamRequest, sink: UpstreamSink): void
  /** Closes every pooled connection. */
  close(): Promise<void>
}
