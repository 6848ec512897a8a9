/**
 * The undici adapter's connection pools, against real upstreams on loopback: one pool per address,
 * and pools whose connections have all closed are dropped by the sweep (so that addresses a DNS
 * name no longer returns do not pile up), while a pool with a request in flight is kept.
 */
import { test } from 'node:test'
import { createServer } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import assert from 'node:assert/strict'
import { UndiciUpstream } from '../../../src/http/undici-upstream.js'
import type { HeaderList, UpstreamSink, UpstreamTarget } from '../../../src/proxy/types.js'
import { startUpstream } from '../../helpers/upstream.js'

function target(port: number): UpstreamTarget {
  return {
    scheme: 'http',
    address: '127.0.0.1',
    port,
    hostname: 'localhost',
    connectTimeout: 2000,
    readTimeout: 5000,
    writeTimeout: 5000,
    tls: { verify: false, verifyDepth: 1, ca: [], cert: null, key: null, id: 'off' },
    servername: 'localhost',
  }
}

interface Outcome {
  status: number
  body: string
}

/** Sends a GET and resolves with the status and body; `started` fires once the upstream has it. */
function get(client: UndiciUpstream, t: UpstreamTarget, path = '/'): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let status = 0
    const chunks: Buffer[] = []
    const sink: UpstreamSink = {
      onSent() {},
      onHeaders(s: number, _h: HeaderList) {
        status = s
      },
      onData(chunk: Buffer) {
        chunks.push(chunk)
      },
      onEnd() {
        resolve({ status, body: Buffer.concat(chunks).toString() })
      },
      onUpgrade() {
        reject(new Error('unexpected upgrade'))
      },
      onError(error: Error) {
        reject(error)
      },
    }
    client.send(t, { method: 'GET', path, headers: ['host', 'localhost'], body: null, upgrade: null }, sink)
  })
}

async function waitFor(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (check()) return
    await new Promise((r) => setTimeout(r, 10))
  }
  assert.fail(`timed out waiting for ${what}`)
}

test('pools without connections are swept; a request to the same address afterwards makes a new one', async (t) => {
  const a = await startUpstream((_req, res) => res.end('a'))
  const b = await startUpstream((_req, res) => res.end('b'))
  const client = new UndiciUpstream({ keepaliveIdleTimeout: 60, keepaliveMaxRequests: 1000, maxHeaderSize: 65536 })
  t.after(async () => {
    await client.close()
    await a.close()
    await b.close()
  })
  const ta = target(a.port)
  const tb = target(b.port)
  assert.deepEqual(await get(client, ta), { status: 200, body: 'a' })
  assert.deepEqual(await get(client, tb), { status: 200, body: 'b' })
  assert.equal(client.poolCount, 2)
  assert.equal(client.sweep(), 0, 'both pools still hold a keep-alive connection')

  // The upstream closes its idle connections (as an idle timeout or a restart would); once the
  // pool has seen the close, the sweep drops it and keeps the other one.
  a.server.closeAllConnections()
  await waitFor('the sweep to drop the pool without connections', () => client.sweep() === 1)
  assert.equal(client.poolCount, 1, 'only the pool that still has a connection is kept')

  // The same target object works again: it gets a fresh pool.
  assert.deepEqual(await get(client, ta), { status: 200, body: 'a' })
  assert.deepEqual(await get(client, tb), { status: 200, body: 'b' })
  assert.equal(client.poolCount, 2)
})

test('a pool with a request in flight is not swept', async (t) => {
  let release: (() => void) | null = null
  const slow = await startUpstream((_req, res) => {
    release = () => res.end('late')
  })
  const client = new UndiciUpstream({ keepaliveIdleTimeout: 60, keepaliveMaxRequests: 1000, maxHeaderSize: 65536 })
  t.after(async () => {
    await client.close()
    await slow.close()
  })
  const pending = get(client, target(slow.port))
  await waitFor('the upstream to receive the request', () => release !== null)
  assert.equal(client.sweep(), 0)
  assert.equal(client.poolCount, 1)
  ;(release as unknown as () => void)()
  assert.deepEqual(await pending, { status: 200, body: 'late' })
})

test('an upgraded connection is in no pool, and sweeping leaves its socket working', async (t) => {
  const server = createServer((_req, res) => res.end('no upgrade'))
  const upgradedOnServer: Duplex[] = []
  server.on('upgrade', (_req, socket: Duplex) => {
    upgradedOnServer.push(socket)
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n')
    socket.on('data', (d: Buffer) => socket.write(d))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const client = new UndiciUpstream({ keepaliveIdleTimeout: 60, keepaliveMaxRequests: 1000, maxHeaderSize: 65536 })
  let upgraded: Duplex | null = null
  t.after(async () => {
    upgraded?.destroy()
    for (const s of upgradedOnServer) s.destroy()
    await client.close()
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  })
  upgraded = await new Promise<Duplex>((resolve, reject) => {
    client.send(
      target(port),
      { method: 'GET', path: '/', headers: ['host', 'localhost'], body: null, upgrade: 'echo' },
      {
        onSent() {},
        onHeaders: () => reject(new Error('expected an upgrade')),
        onData() {},
        onEnd() {},
        onUpgrade: (_status, _headers, socket) => resolve(socket),
        onError: reject,
      },
    )
  })
  const socket = upgraded
  // An upgrade runs on a one-request client of its own (to send Kong's `Connection: keep-alive,
  // Upgrade`), never in a pool: there is nothing to sweep, and sweeping leaves the tunnel alone.
  assert.equal(client.poolCount, 0, 'an upgrade does not enter a keep-alive pool')
  assert.equal(client.sweep(), 0)
  const echoed = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())))
  socket.write('ping')
  assert.equal(await echoed, 'ping')
})

test('a pool whose request is still connecting (no connection yet) is not swept', async (t) => {
  // A TCP server that never answers a TLS handshake: the https connection stays in its connect
  // step, so the pool has a pending request and no connected socket.
  const sockets: Socket[] = []
  const silent = createTcpServer((s) => sockets.push(s))
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  const port = (silent.address() as AddressInfo).port
  const client = new UndiciUpstream({ keepaliveIdleTimeout: 60, keepaliveMaxRequests: 1000, maxHeaderSize: 65536 })
  t.after(async () => {
    await client.close()
    for (const s of sockets) s.destroy()
    await new Promise((r) => silent.close(r))
  })
  const outcome = get(client, { ...target(port), scheme: 'https', connectTimeout: 1500 }).then(
    () => 'answered',
    (err: Error) => err.message,
  )
  await waitFor('the TCP connection', () => sockets.length === 1)
  assert.equal(client.sweep(), 0, 'the pending request keeps its pool')
  assert.equal(client.poolCount, 1)
  assert.match(await outcome, /timeout/i, 'the request ends by its connect timeout, not by the sweep')
})
