/**
 * What a TLS listener does before TLS (issue 16): a plain HTTP request sent to a TLS port (proxy
 * and Admin API) gets nginx's `400 The plain HTTP request was sent to HTTPS port` page whatever it
 * accepts (Kong's error_page list does not name nginx's 497), the connection closes, and the error
 * log says which client spoke plain HTTP and which port to use; a TLSv1.2-only client against
 * `ssl_cipher_suite = modern` (TLSv1.3 only) fails its handshake and gets one `info` line.
 */
import assert from 'node:assert/strict'
import { connect as tcpConnect, type Socket } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { connect as tlsConnect } from 'node:tls'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { freePort } from '../../helpers/ports.js'

const PAGE =
  '<html>\r\n<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>\r\n<body>\r\n' +
  '<center><h1>400 Bad Request</h1></center>\r\n<center>The plain HTTP request was sent to HTTPS port</center>\r\n' +
  '<hr><center>openresty</center>\r\n</body>\r\n</html>\r\n'

/** Sends raw bytes over TCP and resolves with everything read until the gateway closes. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port }, () => socket.write(request))
    let got = ''
    socket.setEncoding('latin1')
    socket.on('data', (c: string) => (got += c))
    socket.on('end', () => resolve(got))
    socket.on('error', reject)
    socket.setTimeout(5000, () => reject(new Error(`no close after: ${JSON.stringify(got)}`)))
  })
}

function split(raw: string): { status: string; headers: Map<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n')
  const lines = raw.slice(0, at).split('\r\n')
  const headers = new Map<string, string>()
  for (const l of lines.slice(1)) headers.set(l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim())
  return { status: lines[0] ?? '', headers, body: raw.slice(at + 4) }
}

describe('plain HTTP and failed handshakes on TLS listeners', () => {
  let gw: TestGateway
  let plain: number
  let tlsPort: number
  let adminPlain: number
  let adminTls: number
  let statusTls: number

  before(async () => {
    ;[plain, tlsPort, adminPlain, adminTls, statusTls] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ]
    gw = await startTestGateway({
      settings: {
        proxy_listen: `127.0.0.1:${plain}, 127.0.0.1:${tlsPort} ssl`,
        admin_listen: `127.0.0.1:${adminPlain}, 127.0.0.1:${adminTls} ssl`,
        status_listen: `127.0.0.1:${statusTls} ssl`,
        ssl_cipher_suite: 'modern',
        log_level: 'info',
      },
    })
  })

  after(async () => {
    await gw?.stop()
  })

  for (const accept of ['application/json', 'text/html', undefined]) {
    test(`plain HTTP to the TLS proxy port (Accept: ${accept ?? 'none'}): nginx's 400 page, then close`, async () => {
      const raw = await rawExchange(
        tlsPort,
        `GET /some/path HTTP/1.1\r\nHost: api.test\r\n${accept === undefined ? '' : `Accept: ${accept}\r\n`}\r\n`,
      )
      const r = split(raw)
      assert.equal(r.status, 'HTTP/1.1 400 Bad Request')
      assert.equal(r.headers.get('content-type'), 'text/html')
      assert.equal(r.headers.get('connection'), 'close')
      assert.equal(r.headers.get('content-length'), String(PAGE.length))
      assert.equal(r.body, PAGE)
    })
  }

  test('the error log names the client and says which port to use', async () => {
    const line = await gw.waitForLog(/client sent plain HTTP request to HTTPS port/)
    assert.match(
      line,
      new RegExp(
        `\\[info\\] \\d+#0: client sent plain HTTP request to HTTPS port while reading client request headers, ` +
          `client: 127\\.0\\.0\\.1, server: kong, request: "GET /some/path HTTP/1\\.1", host: "api\\.test", ` +
          `hint: "the client spoke plain HTTP to a TLS port: use https:// or the plain port ${plain}"`,
      ),
    )
  })

  test('plain HTTP to the TLS Admin API port: the same page, the hint names the plain admin port', async () => {
    const r = split(await rawExchange(adminTls, 'GET / HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n'))
    assert.equal(r.status, 'HTTP/1.1 400 Bad Request')
    assert.equal(r.body, PAGE)
    await gw.waitForLog(new RegExp(`use https:// or the plain port ${adminPlain}`))
  })

  test('plain HTTP to the TLS status port: the same page; no plain status port, so the hint says https://', async () => {
    const r = split(await rawExchange(statusTls, 'GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n'))
    assert.equal(r.status, 'HTTP/1.1 400 Bad Request')
    assert.equal(r.body, PAGE)
    await gw.waitForLog(
      /request: "GET \/status HTTP\/1\.1", host: "localhost", hint: "the client spoke plain HTTP to a TLS port: use https:\/\/"$/m,
    )
  })

  test('a client hanging up mid-handshake: nginx\'s "peer closed connection in SSL handshake" at info', async () => {
    await new Promise<void>((resolve, reject) => {
      const s: Socket = tcpConnect({ host: '127.0.0.1', port: tlsPort }, () => {
        // The start of a ClientHello record, then nothing more.
        s.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40, 0x01]))
        setTimeout(() => {
          s.destroy()
          resolve()
        }, 100)
      })
      s.on('error', reject)
    })
    await gw.waitForLog(
      new RegExp(
        `\\[info\\] \\d+#0: peer closed connection in SSL handshake while SSL handshaking, client: 127\\.0\\.0\\.1, server: 127\\.0\\.0\\.1:${tlsPort}$`,
        'm',
      ),
    )
  })

  test('TLS clients are still served on both ports', async () => {
    const get = (port: number): Promise<string> =>
      new Promise((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () =>
          s.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
        )
        let got = ''
        s.setEncoding('latin1')
        s.on('data', (c: string) => (got += c))
        s.on('end', () => resolve(got))
        s.on('error', reject)
      })
    assert.match(await get(tlsPort), /^HTTP\/1\.1 404 Not Found\r\n/)
    assert.match(await get(adminTls), /^HTTP\/1\.1 200 OK\r\n/)
    assert.equal((await call('GET', `http://127.0.0.1:${adminPlain}/status`)).status, 200)
  })

  test('a TLSv1.2-only client against ssl_cipher_suite = modern: the handshake fails, one info line', async () => {
    const before = (gw.errorLog().match(/while SSL handshaking/g) ?? []).length
    await assert.rejects(
      new Promise<void>((resolve, reject) => {
        const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, () => {
          s.end()
          resolve()
        })
        s.on('error', reject)
      }),
    )
    let lines: string[] = []
    await eventually(async () => {
      lines = gw
        .errorLog()
        .split('\n')
        .filter((l) => l.includes('while SSL handshaking'))
      return lines.length === before + 1
    })
    assert.match(
      lines[lines.length - 1] ?? '',
      new RegExp(
        `\\[info\\] \\d+#0: SSL_do_handshake\\(\\) failed \\(SSL: error:[0-9A-F]+:SSL routines:[a-z_]+:unsupported protocol\\) ` +
          `while SSL handshaking, client: 127\\.0\\.0\\.1, server: 127\\.0\\.0\\.1:${tlsPort}$`,
      ),
    )
  })
})
