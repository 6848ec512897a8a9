/**
 * Request ids: 32 lower-case hex characters, as Kong's `X-Kong-Request-Id`.
 *
 * A random 20-hex-digit prefix is drawn once per process and a 12-digit counter follows it: unique
 * across processes and nodes, and costs one string concatenation per request instead of reading
 * the system's random source each time.
 */
import { randomBytes } from 'node:crypto'

const prefix = randomBytes(10).toString('hex')
let counter = 0

/** Returns a new request id. */
export function nextRequestId(): string {
  counter = (counter + 1) % 0xffffffffffff
  return prefix + counter.toString(16).padStart(12, '0')
}
