/**
 * What every downstream knows of its client connection (peer address, local port, scheme, the
 * TLS server name, the connection's serial number for log lines), read once from its socket:
 * shared by the HTTP/1.1 adapter (./node-proxy-server.ts) and the HTTP/2 one (./h2-server.ts).
 */
import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'

export abstract class ConnectionFacts {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly localPort: number
  readonly scheme: 'http' | 'https'
  readonly sni: string | undefined
  readonly connectionId: number

  constructor(socket: Socket, scheme: 'http' | 'https', connectionId: number) {
    this.remoteAddress = socket.remoteAddress ?? ''
    this.remotePort = socket.remotePort ?? 0
    this.localPort = socket.localPort ?? 0
    this.scheme = scheme
    // The server name the client sent in its TLS handshake (routes' `snis`).
    const servername = scheme === 'https' ? (socket as TLSSocket).servername : undefined
    this.sni = typeof servername === 'string' && servername !== '' ? servername : undefined
    this.connectionId = connectionId
  }
}
