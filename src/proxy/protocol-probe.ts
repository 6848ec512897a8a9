/**
 * Confirms a suspected protocol mismatch: when an `http` service's upstream closes the connection
 * without a byte, we try one TLS handshake with it (off the request path, after the client got its
 * 502). If it succeeds, the log line says so plainly. Results are cached per address for a minute
 * so a broken service is probed once, not once per request.
 */
import { connect } from 'node:tls'

const cache = new Map<string, { speaksTls: boolean; until: number }>()

export function probeSpeaksTls(address: string, port: number, servername: string, timeoutMs = 1000): Promise<boolean> {
  const key = `${address}:${port}`
  const hit = cache.get(key)
  if (hit !== undefined && hit.until > Date.now()) return Promise.resolve(hit.speaksTls)
  return new Promise((resolve) => {
    let settled = false
    const done = (speaksTls: boolean): void => {
      if (settled) return
      settled = true
      cache.set(key, { speaksTls, until: Date.now() + 60_000 })
      socket.destroy()
      resolve(speaksTls)
    }
    const socket = connect({
      host: address,
      port,
      servername: /^[\d.]+$|:/.test(servername) ? '' : servername,
      rejectUnauthorized: false,
      timeout: timeoutMs,
    })
    socket.once('secureConnect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
}
