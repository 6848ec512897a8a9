/**
 * WebSocket end to end through the real gateway (Kong proxies upgrades on ordinary http routes:
 * `Upgrade: websocket` forwarded with `Connection: keep-alive, Upgrade`). The upstream is a
 * minimal RFC 6455 echo server written here on node:http's 'upgrade' event with raw frames;
 * the client does the handshake on a raw socket and sends masked frames.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { VERSION } from '../../../src/version.js'
import { admin, rawRequest, rawText, REQUEST_ID, settle } from './helpers.js'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64')
}

/** Encodes one final frame; masked when a mask is given (client → server). */
function frame(opcode: number, payload: Buffer, mask: Buffer | null): Buffer {
  const len = payload.length
  const head: number[] = [0x80 | opcode]
  const maskBit = mask === null ? 0 : 0x80
  if (len < 126) head.push(maskBit | len)
  else if (len < 65536) head.push(maskBit | 126, len >> 8, len & 0xff)
  else throw new Error('test frames stay under 64 KiB')
  const body = Buffer.from(payload)
  if (mask !== null) for (let i = 0; i < body.length; i++) body[i] = (body[i] as number) ^ (mask[i % 4] as number)
  return Buffer.concat([Buffer.from(head), mask ?? Buffer.alloc(0), body])
}

interface Frame {
  opcode: number
  masked: boolean
  payload: Buffer
}

/** Parses one complete frame at the start of `buf`, or null if more bytes are needed. */
function parseFrame(buf: Buffer): { frame: Frame; size: number } | null {
  if (buf.length < 2) return null
  const b0 = buf[0] as number
  const b1 = buf[1] as number
  let len = b1 & 0x7f
  let at = 2
  if (len === 126) {
    if (buf.length < 4) return null
    len = buf.readUInt16BE(2)
    at = 4
  } else if (len === 127) throw new Error('64-bit lengths are not used here')
  const masked = (b1 & 0x80) !== 0
  const mask = masked ? buf.subarray(at, at + 4) : null
  if (masked) at += 4
  if (buf.length < at + len) return null
  const payload = Buffer.from(buf.subarray(at, at + len))
  if (mask !== null) for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] as number) ^ (mask[i % 4] as number)
  return { frame: { opcode: b0 & 0x0f, masked, payload }, size: at + len }
}

/** Reads frames from a socket, bounded in time. */
class FrameReader {
  #buf: Buffer = Buffer.alloc(0)
  #waiter: (() => void) | null = null
  constructor(socket: Duplex, initial: Buffer) {
    this.#buf = initial
    socket.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c])
      this.#waiter?.()
    })
  }
  /** Everything received and not parsed yet (for a response that is not a switch). */
  take(): Buffer {
    const b = this.#buf
    this.#buf = Buffer.alloc(0)
    return b
  }
  async next(timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const parsed = parseFrame(this.#buf)
      if (parsed !== null) {
        this.#buf = this.#buf.subarray(parsed.size)
        return parsed.frame
      }
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('no WebSocket frame in time')
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.#waiter = () => {
          clearTimeout(t)
          resolve()
        }
      })
      this.#waiter = null
    }
  }
}

interface Handshake {
  socket: Socket
  status: number
  headers: Record<string, string>
  reader: FrameReader
}

/** Opens a raw connection to the gateway and performs the client side of the handshake. */
function handshake(port: number, path: string, key: string, extra: ReadonlyArray<readonly [string, string]> = []): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no handshake answer: ${data.toString('latin1')}`))
    }, 5000)
    const onData = (c: Buffer): void => {
      data = Buffer.concat([data, c])
      const end = data.indexOf('\r\n\r\n')
      if (end === -1) return
      clearTimeout(timer)
      socket.off('data', onData)
      const lines = data.subarray(0, end).toString('latin1').split('\r\n')
      const headers: Record<string, string> = {}
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':')
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim()
      }
      resolve({ socket, status: Number((lines[0] ?? '').split(' ')[1]), headers, reader: new FrameReader(socket, data.subarray(end + 4)) })
    }
    socket.on('data', onData)
    socket.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    socket.write(
      rawText('GET', path, [
        ['Host', 'ws.test'],
        ['Upgrade', 'websocket'],
        ['Connection', 'Upgrade'],
        ['Sec-WebSocket-Key', key],
        ['Sec-WebSocket-Version', '13'],
        ...extra,
      ]),
    )
  })
}

describe('WebSocket through the gateway', () => {
  let gw: TestGateway
  let upstream: Server
  let upstreamPort = 0
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = []
  const plainSeen: Array<{ url: string; headers: IncomingHttpHeaders }> = []

  before(async () => {
    upstream = createServer((req, res) => {
      // Plain requests: a refused upgrade path, and what a non-WebSocket upgrade turns into.
      plainSeen.push({ url: req.url ?? '', headers: req.headers })
      if (req.url?.startsWith('/refuse') === true) {
        res.writeHead(403, { 'content-type': 'text/plain' })
        res.end('websocket refused by upstream')
        return
      }
      res.end('plain answer')
    })
    upstream.on('upgrade', (req, socket: Duplex, head: Buffer) => {
      seen.push({ url: req.url ?? '', headers: req.headers })
      if (req.url?.startsWith('/refuse') === true) {
        socket.end(
          'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 29\r\nConnection: close\r\n\r\nwebsocket refused by upstream',
        )
        return
      }
      const key = String(req.headers['sec-websocket-key'])
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\nX-Echo-Path: ${req.url ?? ''}\r\n\r\n`,
      )
      let buf: Buffer = head
      const pump = (): void => {
        for (let guard = 0; guard < 1000; guard++) {
          const parsed = parseFrame(buf)
          if (parsed === null) return
          buf = buf.subarray(parsed.size)
          const f = parsed.frame
          if (!f.masked) {
            socket.destroy() // RFC 6455: client frames must be masked
            return
          }
          if (f.opcode === 0x8) {
            socket.end(frame(0x8, f.payload, null))
            return
          }
          socket.write(frame(f.opcode, f.payload, null))
        }
      }
      socket.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c])
        pump()
      })
      socket.on('error', () => socket.destroy())
      pump()
    })
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
    upstreamPort = (upstream.address() as AddressInfo).port
    gw = await startTestGateway()
    await admin(gw, '/services', { name: 'ws', url: `http://127.0.0.1:${upstreamPort}` })
    await admin(gw, '/services/ws/routes', { name: 'ws', paths: ['/ws'] })
    await admin(gw, '/services/ws/routes', { name: 'refuse', paths: ['/refuse'], strip_path: false })
    await admin(gw, '/routes', { name: 'ws-orphan', paths: ['/orphan-ws'] })
    await settle(gw)
  })

  after(async () => {
    await gw?.stop()
    upstream?.closeAllConnections()
    await new Promise<void>((r) => (upstream === undefined ? r() : upstream.close(() => r())))
  })

  test('handshake, masked text frame echoed, a 1000-byte binary frame, close', async () => {
    const key = randomBytes(16).toString('base64')
    const hs = await handshake(gw.proxyPort, '/ws/chat?room=1', key)
    try {
      assert.equal(hs.status, 101)
      assert.equal(hs.headers['sec-websocket-accept'], acceptKey(key))
      assert.equal(hs.headers['upgrade']?.toLowerCase(), 'websocket')
      assert.equal(hs.headers['connection']?.toLowerCase(), 'upgrade')
      assert.equal(hs.headers['x-echo-path'], '/chat?room=1', 'strip_path applies to the upgrade request')
      assert.match(hs.headers['x-kong-request-id'] ?? '', REQUEST_ID)
      assert.equal(hs.headers['via'], `1.1 turnpike/${VERSION}`)
      const up = seen.at(-1)
      assert.ok(up !== undefined)
      assert.equal(up.headers['upgrade'], 'websocket')
      assert.match(String(up.headers['connection']), /upgrade/i)
      assert.equal(up.headers['sec-websocket-key'], key)
      assert.equal(up.headers['sec-websocket-version'], '13')
      assert.equal(up.headers['host'], `127.0.0.1:${upstreamPort}`)
      assert.equal(up.headers['x-forwarded-for'], '127.0.0.1')
      assert.equal(up.headers['x-forwarded-prefix'], '/ws')

      const text = 'hello through turnpike ✓'
      hs.socket.write(frame(0x1, Buffer.from(text), randomBytes(4)))
      const echo = await hs.reader.next()
      assert.equal(echo.opcode, 0x1)
      assert.equal(echo.masked, false)
      assert.equal(echo.payload.toString(), text)

      const blob = randomBytes(1000)
      hs.socket.write(frame(0x2, blob, randomBytes(4)))
      const echoBlob = await hs.reader.next()
      assert.equal(echoBlob.opcode, 0x2)
      assert.deepEqual(echoBlob.payload, blob)

      const closing = new Promise<void>((r) => hs.socket.once('close', () => r()))
      hs.socket.write(frame(0x8, Buffer.from([0x03, 0xe8]), randomBytes(4)))
      const close = await hs.reader.next()
      assert.equal(close.opcode, 0x8)
      assert.equal(close.payload.readUInt16BE(0), 1000)
      hs.socket.end()
      let timer: NodeJS.Timeout | undefined
      await Promise.race([closing, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error('connection not closed')), 5000)))])
      clearTimeout(timer)
    } finally {
      hs.socket.destroy()
    }
  })

  test('an upstream that refuses the upgrade: its response reaches the client', async () => {
    const hs = await handshake(gw.proxyPort, '/refuse', randomBytes(16).toString('base64'))
    try {
      assert.equal(hs.status, 403)
      assert.match(hs.headers['x-kong-request-id'] ?? '', REQUEST_ID)
      // The body is delimited by the connection closing; the reader has been collecting it.
      const body = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('connection not closed after the body')), 5000)
        const done = (): void => {
          clearTimeout(t)
          resolve(hs.reader.take().toString())
        }
        if (hs.socket.readableEnded) done()
        else hs.socket.once('end', done)
      })
      assert.equal(body, 'websocket refused by upstream')
    } finally {
      hs.socket.destroy()
    }
  })

  test("a WebSocket request on a route without service gets Kong's 503", async () => {
    const hs = await handshake(gw.proxyPort, '/orphan-ws', randomBytes(16).toString('base64'))
    try {
      assert.equal(hs.status, 503)
      assert.equal(hs.headers['content-type'], 'application/json; charset=utf-8')
    } finally {
      hs.socket.destroy()
    }
  })

  test('a non-WebSocket upgrade (h2c) is proxied as a plain HTTP/1.1 request, as Kong does', async () => {
    const before = seen.length
    const res = await rawRequest(
      gw.proxyPort,
      rawText('GET', '/ws/plain', [
        ['Host', 'ws.test'],
        ['Connection', 'Upgrade, HTTP2-Settings'],
        ['Upgrade', 'h2c'],
        ['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA'],
      ]),
    )
    assert.equal(res.status, 200)
    assert.equal(res.body.toString(), 'plain answer')
    assert.equal(seen.length, before, 'the upstream saw no upgrade')
    const got = plainSeen.at(-1)
    assert.equal(got?.url, '/plain')
    assert.equal(got?.headers['upgrade'], undefined)
    assert.equal(got?.headers['http2-settings'], undefined, 'named in Connection: hop-by-hop')
  })
})
