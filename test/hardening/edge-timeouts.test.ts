/**
 * Hardening, HTTP edge: slow clients (finding 5). nginx's client_header_timeout bounds the time
 * to send the whole head, client_body_timeout the time between two reads of the body; when either
 * runs out the client gets 408 with Kong's `Request timeout` body and the connection is closed
 * (nginx itself closes without sending its 408; Turnpike says why). Both are set to 1 s here
 * through Kong's setting names, and a few hundred slow connections must not cost anyone else
 * their answer.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { request } from 'undici'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { eventually, type TestGateway } from '../helpers/gateway.js'
import { exchange, startEdgeGateway, responses, type CountingUpstream } from './edge-helpers.js'

let gw: TestGateway
let up: CountingUpstream
let stop: () => Promise<void>

before(async () => {
  ;({ gw, up, stop } = await startEdgeGateway({ nginx_http_client_header_timeout: '1s', nginx_http_client_body_timeout: '1000ms' }))
})

after(async () => {
  await stop?.()
})

/** `text` as one part per character (exchange sends them `gapMs` apart). */
function trickle(text: string): string[] {
  return [...text]
}

describe('client timeouts (finding 5)', () => {
  test('headers trickled slower than client_header_timeout: 408, then closed', async () => {
    // 40 bytes, one every 250 ms: 10 s to finish the head; the timeout is 1 s.
    const x = await exchange(gw.proxyPort, trickle(`GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ${'s'.repeat(20)}`), { gapMs: 250, waitMs: 8000 })
    assert.ok(x.closed, 'the connection is closed')
    assert.equal(responses(x.text)[0]?.status, 408, x.text.slice(0, 300))
    assert.match(x.text, /Request timeout/)
    assert.ok(x.ms < 5000, `closed after ${Math.round(x.ms)} ms`)
  })

  test('a connection that never sends a byte is closed after client_header_timeout', async () => {
    const x = await exchange(gw.proxyPort, [], { waitMs: 8000 })
    assert.ok(x.closed)
    assert.equal(responses(x.text)[0]?.status, 408, x.text.slice(0, 300))
    assert.ok(x.ms < 5000, `closed after ${Math.round(x.ms)} ms`)
  })

  test('a body that stops (Content-Length: 1000000, 10 bytes sent): 408, then closed', async () => {
    const x = await exchange(gw.proxyPort, 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n0123456789', {
      waitMs: 8000,
    })
    assert.ok(x.closed, 'the connection is closed')
    assert.equal(responses(x.text)[0]?.status, 408, x.text.slice(0, 300))
    assert.match(x.text, /Request timeout/)
    assert.ok(x.ms < 5000, `closed after ${Math.round(x.ms)} ms`)
    // As nginx: 408 in the access log, the timeout in the error log at info.
    await eventually(
      async () => /"POST \/upload HTTP\/1.1" 408 /.test(readFileSync(join(gw.prefix, 'logs', 'access.log'), 'utf8')),
      5000,
      'a 408 access log line',
    )
    await gw.waitForLog(/client timed out while reading client request body/)
  })

  test('a body flowing steadily (a chunk every 300 ms for 3 s) is not cut', async () => {
    const parts: string[] = ['POST /steady HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n']
    for (let i = 0; i < 10; i++) parts.push('0123456789')
    const x = await exchange(gw.proxyPort, parts, { gapMs: 300, waitMs: 10_000 })
    const r = responses(x.text)
    assert.equal(r[0]?.status, 200, x.text.slice(0, 300))
    assert.equal(up.completed.at(-1)?.url, '/steady')
    assert.equal(up.completed.at(-1)?.body, '0123456789'.repeat(10))
  })

  test('slowloris: 300 trickling connections are closed while ordinary requests keep succeeding', async () => {
    const started = performance.now()
    const slow: Array<Promise<{ answered: boolean; closedMs: number }>> = []
    const sockets: Socket[] = []
    const head = 'GET / HTTP/1.1\r\nHost: x\r\nX-Loris: '
    for (let i = 0; i < 300; i++) {
      slow.push(
        new Promise((resolve) => {
          const s = connect(gw.proxyPort, '127.0.0.1')
          sockets.push(s)
          let answered = false
          let sent = 0
          const timer = setInterval(() => {
            if (s.writable && sent < 40) s.write(head[sent] ?? 'x')
            sent++
          }, 200)
          s.on('data', (chunk: Buffer) => {
            if (chunk.toString('latin1').startsWith('HTTP/1.1 408 ')) answered = true
          })
          s.on('error', () => {})
          s.on('close', () => {
            clearInterval(timer)
            resolve({ answered, closedMs: performance.now() - started })
          })
        }),
      )
    }
    // Ordinary requests on their own connections, for 3 s, while the slow ones hold theirs.
    const latencies: number[] = []
    while (performance.now() - started < 3000) {
      const t = performance.now()
      const res = await request(`${gw.proxyUrl}/ordinary`, { headersTimeout: 5000, bodyTimeout: 5000 })
      assert.equal(res.statusCode, 200)
      assert.equal(await res.body.text(), 'ok')
      latencies.push(performance.now() - t)
    }
    const guard = setTimeout(() => {
      for (const s of sockets) s.destroy()
    }, 15_000)
    const outcomes = await Promise.all(slow)
    clearTimeout(guard)
    assert.ok(latencies.length >= 5, `only ${latencies.length} ordinary requests in 3 s`)
    assert.ok(Math.max(...latencies) < 2000, `slowest ordinary request took ${Math.round(Math.max(...latencies))} ms`)
    assert.equal(outcomes.filter((o) => !o.answered).length, 0, 'every slow connection is told 408')
    const last = Math.max(...outcomes.map((o) => o.closedMs))
    assert.ok(last < 10_000, `the last slow connection closed after ${Math.round(last)} ms`)
  })
})
