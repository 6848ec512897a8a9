/**
 * The doctor's raw HTTP exchange over real loopback sockets: when a response leaves its connection
 * reusable, and why not otherwise (what the keep-alive check then reports).
 */
import assert from 'node:assert/strict'
import { createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { after, describe, test } from 'node:test'
import { exchange, openTcp } from '../../../src/http/raw-probe.js'

/** A TCP server that answers every request with `answer` (and closes when `close`). */
async function server(answer: string, close: boolean): Promise<{ port: number; srv: Server }> {
  const sockets: Socket[] = []
  const srv = createServer((s) => {
    sockets.push(s)
    s.once('data', () => {
      if (close) s.end(answer)
      else s.write(answer)
    })
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  after(() => {
    for (const s of sockets) s.destroy()
    srv.close()
  })
  return { port: (srv.address() as AddressInfo).port, srv }
}

async function probe(answer: string, close: boolean, timeoutMs = 2000) {
  const { port } = await server(answer, close)
  const tcp = await openTcp('127.0.0.1', port, 2000)
  assert.ok(tcp.ok)
  const r = await exchange(tcp.socket, 'GET', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', timeoutMs)
  tcp.socket.destroy()
  assert.ok(r.ok)
  return r
}

describe('raw probe exchange: reusable or why not', () => {
  test('a framed keep-alive answer is reusable', async () => {
    const r = await probe('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', false)
    assert.equal(r.reusable, true)
    assert.equal(r.notReusable, null)
  })

  test('Connection: close', async () => {
    const r = await probe('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok', false)
    assert.equal(r.notReusable, 'close')
  })

  test('a body ended by closing the connection', async () => {
    const r = await probe('HTTP/1.1 200 OK\r\n\r\nsome body', true)
    assert.equal(r.notReusable, 'unframed')
  })

  test('a body that does not end within the probe time', async () => {
    const r = await probe('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part', false, 300)
    assert.equal(r.notReusable, 'slow')
    assert.equal(r.head.status, 200)
  })

  test('a framed body cut short by the upstream closing', async () => {
    const r = await probe('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part', true)
    assert.equal(r.notReusable, 'ended')
  })
})
