/**
 * WebSocket helpers for the proxy tests (plain and TLS): RFC 6455 frames written and parsed here,
 * the client side of the handshake on a raw socket, an echo upstream for node:http's 'upgrade'
 * event, and the echo exchange both listeners are checked with.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { connect, type Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { rawText } from './helpers.js'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

export function acceptKey(key: string): string {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64')
}

/** Encodes one final frame; masked when a mask is given (client → server). */
export function frame(opcode: number, payload: Buffer, mask: Buffer | null): Buffer {
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

export interface Frame {
  opcode: number
  masked: boolean
  payload: Buffer
}

/** Parses one complete frame at the start of `buf`, or null if more bytes are needed. */
export function parseFrame(buf: Buffer): { frame: Frame; size: number } | null {
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
export class FrameReader {
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

export interface Handshake {
  socket: Socket
  status: number
  headers: Record<string, string>
  reader: FrameReader
}

/**
 * Opens a raw connection to the gateway (a port on 127.0.0.1, or a socket of the caller's: TLS)
 * and performs the client side of the handshake.
 */
export function handshake(
  to: number | (() => Socket),
  path: string,
  key: string,
  extra: ReadonlyArray<readonly [string, string]> = [],
): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = typeof to === 'number' ? connect(to, '127.0.0.1') : to()
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

/**
 * The upstream side of an echo WebSocket: answers the handshake (`X-Echo-Path` says which path
 * arrived) and echoes every masked frame; a close frame is answered and ends the connection.
 */
export function echoUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
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
}

/** A text frame and a 1000-byte binary frame echoed unmasked, then the close handshake (code 1000). */
export async function assertEchoes(hs: Handshake, text = 'hello through turnpike ✓'): Promise<void> {
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
}
