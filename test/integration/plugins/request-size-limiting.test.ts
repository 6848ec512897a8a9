/**
 * request-size-limiting against the real gateway: a declared Content-Length over the limit (413,
 * 417 with Expect: 100-continue), chunked bodies counted as they stream (refused past the limit,
 * passed on whole below it), require_content_length (411, chunked allowed), units.
 */
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { describe, test } from 'node:test'
import { call } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'
import { rawRequest, rawText } from '../proxy/helpers.js'

/** Sends raw bytes and returns the final (non-1xx) status line and everything received. */
function rawFinal(port: number, text: string, timeoutMs = 5000): Promise<{ status: number; data: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let data = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no final response; got: ${data}`))
    }, timeoutMs)
    socket.on('data', (c: Buffer) => {
      data += c.toString('latin1')
      const m = /HTTP\/1\.1 ([2-5]\d\d) [^\r]*\r\n[\s\S]*?\r\n\r\n/.exec(data)
      if (m !== null && /"message"/.test(data)) {
        clearTimeout(timer)
        socket.destroy()
        resolve({ status: Number(m[1]), data })
      }
    })
    socket.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    socket.write(text)
  })
}

function chunked(parts: readonly string[]): string {
  return parts.map((p) => `${Buffer.byteLength(p).toString(16)}\r\n${p}\r\n`).join('') + '0\r\n\r\n'
}

describe('request-size-limiting plugin', () => {
  const fx = pluginSuite({}, async () => {
    for (const name of ['small', 'kb', 'required', 'default']) await fx.route(name)
    await fx.admin('/routes/small/plugins', { name: 'request-size-limiting', config: { allowed_payload_size: 10, size_unit: 'bytes' } })
    await fx.admin('/routes/kb/plugins', { name: 'request-size-limiting', config: { allowed_payload_size: 1, size_unit: 'kilobytes' } })
    await fx.admin('/routes/required/plugins', {
      name: 'request-size-limiting',
      config: { allowed_payload_size: 10, size_unit: 'bytes', require_content_length: true },
    })
    const def = await fx.admin('/routes/default/plugins', { name: 'request-size-limiting' })
    assert.deepEqual(def.body.config, { allowed_payload_size: 128, size_unit: 'megabytes', require_content_length: false })
  })

  test('Content-Length over the limit → 413 "Request size limit exceeded", nothing upstream; at the limit → 200', async () => {
    const seen = fx.up.received.length
    const res = await call('POST', `${fx.gw.proxyUrl}/small`, '12345678901')
    assert.equal(res.status, 413)
    assert.equal(res.body.message, 'Request size limit exceeded')
    assert.equal(fx.up.received.length, seen)
    const ok = await call('POST', `${fx.gw.proxyUrl}/small`, '1234567890')
    assert.equal(ok.status, 200)
    assert.equal(ok.body.body, '1234567890')
    const line = await fx.gw.waitForLog(/\[request-size-limiting\] 413 "Request size limit exceeded" on route "small"/)
    assert.match(line, /11 bytes \(Content-Length\), more than the 10 bytes \(10 bytes\) allowed/)
  })

  test('kilobytes are 1024 bytes', async () => {
    assert.equal((await call('POST', `${fx.gw.proxyUrl}/kb`, 'x'.repeat(1024))).status, 200)
    assert.equal((await call('POST', `${fx.gw.proxyUrl}/kb`, 'x'.repeat(1025))).status, 413)
  })

  test('Expect: 100-continue → 417 instead of 413', async () => {
    const res = await rawFinal(
      fx.gw.proxyPort,
      rawText('POST', '/small', [
        ['Host', 'x'],
        ['Content-Length', '100'],
        ['Expect', '100-continue'],
        ['Connection', 'close'],
      ]),
    )
    assert.equal(res.status, 417)
    assert.match(res.data, /Request size limit exceeded/)
  })

  test('chunked body over the limit is counted as it streams → 413; under it reaches the upstream whole', async () => {
    const seen = fx.up.received.length
    const big = await rawRequest(
      fx.gw.proxyPort,
      rawText(
        'POST',
        '/small',
        [
          ['Host', 'x'],
          ['Transfer-Encoding', 'chunked'],
          ['Connection', 'close'],
        ],
        '1.1',
        chunked(['123456', '789012']),
      ),
    )
    assert.equal(big.status, 413)
    assert.equal(JSON.parse(big.body.toString()).message, 'Request size limit exceeded')
    assert.equal(fx.up.received.length, seen)
    await fx.gw.waitForLog(/\[request-size-limiting\] 413 .*counted as it streamed/)
    const small = await rawRequest(
      fx.gw.proxyPort,
      rawText(
        'POST',
        '/small',
        [
          ['Host', 'x'],
          ['Transfer-Encoding', 'chunked'],
          ['Connection', 'close'],
        ],
        '1.1',
        chunked(['12345', '67890']),
      ),
    )
    assert.equal(small.status, 200)
    assert.equal(JSON.parse(small.body.toString()).body, '1234567890')
  })

  test('require_content_length: no Content-Length and no chunked body → 411; chunked passes', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/required`)
    assert.equal(res.status, 411)
    assert.equal(res.body.message, 'A valid Content-Length header is required')
    await fx.gw.waitForLog(/\[request-size-limiting\] 411 .* no Content-Length header and no chunked body/)
    const withLength = await call('POST', `${fx.gw.proxyUrl}/required`, 'abc')
    assert.equal(withLength.status, 200)
    const ch = await rawRequest(
      fx.gw.proxyPort,
      rawText(
        'POST',
        '/required',
        [
          ['Host', 'x'],
          ['Transfer-Encoding', 'chunked'],
          ['Connection', 'close'],
        ],
        '1.1',
        chunked(['abc']),
      ),
    )
    assert.equal(ch.status, 200)
  })
})
