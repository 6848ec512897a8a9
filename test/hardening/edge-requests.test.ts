/**
 * Hardening, HTTP edge: request heads nginx refuses before Kong sees them, and request smuggling.
 * Each answer is nginx's status with Kong's error body (`/kong_error_handler`), and the
 * connection is closed after it, so nothing sent behind a refused request is ever read.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { TestGateway } from '../helpers/gateway.js'
import { exchange, startEdgeGateway, responses, type CountingUpstream } from './edge-helpers.js'

let gw: TestGateway
let up: CountingUpstream
let stop: () => Promise<void>

before(async () => {
  ;({ gw, up, stop } = await startEdgeGateway())
})

after(async () => {
  await stop?.()
})

/** Sends one raw request; asserts one answer with the status and Kong's plain-text message, then a close. */
async function refused(
  raw: string | Buffer,
  status: number,
  message: string,
  alternative?: { status: number; message: string },
): Promise<void> {
  const before = up.started()
  const x = await exchange(gw.proxyPort, raw)
  const rs = responses(x.text)
  assert.equal(rs.length, 1, `one response expected, got: ${x.text.slice(0, 400)}`)
  const r = rs[0]!
  const expected = alternative !== undefined && r.status === alternative.status ? alternative : { status, message }
  assert.equal(r.status, expected.status, x.text.slice(0, 400))
  assert.match(r.body, new RegExp(`^${expected.message}\\nrequest_id: [0-9a-f]{32}\\n$`))
  assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8')
  assert.equal(r.headers['connection'], 'close')
  assert.ok(x.closed, 'the gateway closes the connection')
  assert.equal(up.started(), before, 'nothing reached the upstream')
}

describe('nginx-level refusals (finding 8)', () => {
  test('a 70 KB URI is 414 URI too long', async () => {
    await refused(`GET /${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, 'URI too long')
  })

  test("a 120 KB URI (past the 80 KiB node's parser reads) is refused and closed, never routed", async () => {
    // Past what the parser reads, whether the request line or a header overflowed is told from
    // the bytes of its last read: 414 when they show the request line, else 400 (which of the
    // two depends on how the kernel split the bytes).
    await refused(`GET /${'a'.repeat(120_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, 'URI too long', {
      status: 400,
      message: 'Request header or cookie too large',
    })
  })

  test('a URI just over 8 KiB is 414 too (nginx: the request line must fit one 8k buffer)', async () => {
    await refused(`GET /${'a'.repeat(8200)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, 'URI too long')
  })

  test('one request header over 8 KiB is 400 Request header or cookie too large', async () => {
    await refused(`GET / HTTP/1.1\r\nHost: x\r\nCookie: ${'c'.repeat(9000)}\r\n\r\n`, 400, 'Request header or cookie too large')
  })

  test('a head over 32 KiB in small headers is 400 Request header or cookie too large', async () => {
    let headers = ''
    for (let i = 0; i < 10; i++) headers += `X-H${i}: ${'v'.repeat(4000)}\r\n`
    await refused(`GET / HTTP/1.1\r\nHost: x\r\n${headers}\r\n`, 400, 'Request header or cookie too large')
  })

  test('a head far over any limit (200 KB header) is still 400, not a hang', async () => {
    await refused(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(200_000)}\r\n\r\n`, 400, 'Request header or cookie too large')
  })

  test('an empty, invalid or repeated Host is 400 Bad request', async () => {
    await refused('GET / HTTP/1.1\r\nHost:\r\n\r\n', 400, 'Bad request')
    await refused('GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', 400, 'Bad request')
    await refused('GET / HTTP/1.1\r\nHost: a..b\r\n\r\n', 400, 'Bad request')
    await refused('GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400, 'Bad request')
    await refused('GET / HTTP/1.1\r\n\r\n', 400, 'Bad request')
  })

  test('Transfer-Encoding on HTTP/1.0 is 400; a coding other than chunked is 501', async () => {
    await refused('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400, 'Bad request')
    await refused(
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n0\r\n\r\n',
      501,
      'The upstream server responded with 501',
    )
    await refused('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', 501, 'The upstream server responded with 501')
  })

  test('CONNECT is 400 Bad request (nginx does not read its authority-form target)', async () => {
    await refused('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 400, 'Bad request')
  })

  test('TRACE is 405 Method not allowed, in the negotiated format', async () => {
    await refused('TRACE / HTTP/1.1\r\nHost: x\r\n\r\n', 405, 'Method not allowed')
    const x = await exchange(gw.proxyPort, 'TRACE / HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n')
    const r = responses(x.text)[0]!
    assert.equal(r.status, 405)
    assert.match(r.body, /^\{\n {2}"message":"Method not allowed",\n {2}"request_id":"[0-9a-f]{32}"\n\}$/)
  })

  test('an absolute-form target is routed by its path, as nginx does', async () => {
    const before = up.completed.length
    const x = await exchange(
      gw.proxyPort,
      'GET http://example.test/abs/path?q=1 HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n',
    )
    const r = responses(x.text)[0]!
    assert.equal(r.status, 200, x.text.slice(0, 300))
    assert.equal(up.completed.length, before + 1)
    assert.equal(up.completed.at(-1)?.url, '/abs/path?q=1')
  })

  test('an unknown method on the Admin API is 405 {"message":"Method not allowed"}', async () => {
    const x = await exchange(gw.adminPort, 'GEEEET / HTTP/1.1\r\nHost: x\r\n\r\n')
    const r = responses(x.text)[0]
    assert.equal(r?.status, 405, x.text)
    assert.deepEqual(JSON.parse(r.body), { message: 'Method not allowed' })
    assert.ok(x.closed)
  })
})

describe('request smuggling (finding 8)', () => {
  const second = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'

  test('Content-Length with Transfer-Encoding is 400 and what follows is never read', async () => {
    await refused(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${second}`,
      400,
      'Bad request',
    )
  })

  test('two different Content-Lengths are 400 and the connection closes', async () => {
    await refused(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!${second}`, 400, 'Bad request')
  })

  test('obs-fold (a header continued on the next line) is 400', async () => {
    await refused(`GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n${second}`, 400, 'Bad request')
  })

  for (const [name, size] of [
    ['non-hex', 'zz'],
    ['overflowing', 'f'.repeat(40)],
  ] as const) {
    test(`a ${name} chunk size is 400, closed, and nothing whole reaches the upstream`, async () => {
      const whole = up.completed.length
      const x = await exchange(
        gw.proxyPort,
        `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\nhello\r\n0\r\n\r\n${second}`,
      )
      const rs = responses(x.text)
      assert.equal(rs.length, 1, x.text)
      assert.equal(rs[0]?.status, 400)
      assert.match(rs[0]?.body ?? '', /^Bad request\n/)
      assert.ok(x.closed)
      assert.equal(up.completed.length, whole, 'no request reached the upstream whole')
      assert.ok(!up.completed.some((c) => c.url === '/smuggled'))
    })
  }

  test('pipelined requests behind a refused one are not served', async () => {
    const before = up.started()
    const x = await exchange(gw.proxyPort, `GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n${second}${second}`)
    assert.deepEqual(
      responses(x.text).map((r) => r.status),
      [400],
    )
    assert.ok(x.closed)
    assert.equal(up.started(), before)
  })

  test('a good request still works on a fresh connection afterwards', async () => {
    const x = await exchange(gw.proxyPort, 'GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    assert.equal(responses(x.text)[0]?.status, 200)
  })
})
