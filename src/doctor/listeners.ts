/**
 * What the node's proxy listeners serve, for the route checks (`protocols` no listener serves).
 *
 * @module
 */
import type { ListenAddress } from '../config/index.js'
import type { ListenerFacts } from './routes.js'

/** Plain listeners serve http (and grpc with `http2`), ssl ones https (and grpcs with `http2`). */
export function listenerFacts(proxyListen: readonly ListenAddress[]): ListenerFacts {
  const protocols = new Set<string>()
  for (const l of proxyListen) {
    protocols.add(l.ssl ? 'https' : 'http')
    if (l.http2) protocols.add(l.ssl ? 'grpcs' : 'grpc')
  }
  return { protocols }
}
