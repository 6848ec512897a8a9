/**
 * What one upstream attempt connects to: address, TLS name and the service's timeouts. The
 * snapshot keeps them per service and peer (built once per configuration), the runloop picks
 * one per attempt, and the upstream client adapter connects with it.
 *
 * @module
 */
import type { UpstreamTls } from './upstream-tls.js'

/** Where and how to send one upstream attempt. */
export interface UpstreamTarget {
  /** `grpc`/`grpcs`: the request goes over HTTP/2 (h2c with prior knowledge, or h2 over TLS). */
  readonly scheme: 'http' | 'https' | 'grpc' | 'grpcs'
  /** The IP address to connect to. */
  readonly address: string
  readonly port: number
  /** The hostname that resolved to `address` (service host or target host), for SNI and logs. */
  readonly hostname: string
  readonly connectTimeout: number
  readonly readTimeout: number
  readonly writeTimeout: number
  /** The service's upstream TLS settings (verification, trusted CAs, client certificate). */
  readonly tls: UpstreamTls
  /** SNI and certificate name to verify (the upstream Host value). */
  readonly servername: string
}
