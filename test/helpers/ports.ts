/** Loopback ports for tests. */
import { createServer, connect } from 'node:net'
import { readFileSync } from 'node:fs'

/** A port that was free a moment ago, for a server the test is about to start. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      s.close(() => resolve(port))
    })
  })
}

/** The kernel's ephemeral range: every listen(0) in the suite, and every client socket, gets a port from it. */
function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)
    const n = Number(low)
    if (Number.isInteger(n) && n > 2048) return n
  } catch {
    /* not Linux: fall back to the IANA range's start */
  }
  return 49152
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(false)
    })
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'))
  })
}

/**
 * A port where nothing listens, and nothing in the suite will: it lies below the ephemeral range,
 * so no server another test starts on port 0 can take it while this test expects "connection
 * refused" (a port freePort() returned can be handed to a parallel test's server a moment later).
 */
export async function closedPort(): Promise<number> {
  const high = ephemeralLow() - 1
  for (let i = 0; i < 50; i++) {
    const port = 1024 + Math.floor(Math.random() * (high - 1024))
    if (await refused(port)) return port
  }
  throw new Error('no closed port found below the ephemeral range')
}
