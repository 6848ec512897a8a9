/**
 * HTTP/2 and gRPC through the gateway (issue 16): a real @grpc/grpc-js server (plain and TLS) and
 * client, one gateway with a plain and a TLS proxy listener where only one has the `http2` flag
 * (Kong puts `http2 on` in the whole proxy server block, so both serve HTTP/2). Checked: unary
 * and server-streaming calls over h2c and h2 (ALPN), metadata both ways, an error status from
 * the server passed through, gateway errors as grpc-status (Kong's mapping), Kong's 426/415/
 * grpcs-only answers, an ordinary HTTP route over h2 answering as over HTTP/1.1, and the real
 * KIC GRPCRoute file loaded DB-less.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect as h2connect, createServer as createH2Server, type IncomingHttpHeaders } from 'node:http2'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { issueCert, makeCert } from '../../helpers/certs.js'
import { call, eventually, ROOT, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { collect, echoClient, grpc, rawUnary, startGrpcServer, unary, type EchoClient, type GrpcServer } from '../../helpers/grpc.js'
import { closedPort, freePort } from '../../helpers/ports.js'
import { startBlackhole, type Blackhole } from '../../helpers/misbehaving.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

const REAL =
  [join(ROOT, '..', 'shared', 'kong', 'realworld-configs'), '/work/shared/kong/realworld-configs'].find((d) => existsSync(d)) ??
  '/work/shared/kong/realworld-configs'

interface Answer {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

/** One request over HTTP/2 (h2c, or TLS with ALPN h2) with node's own client. */
function h2request(url: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = h2connect(url, { rejectUnauthorized: false })
    session.on('error', reject)
    const req = session.request(
      { ':path': path, ':method': body === undefined ? 'GET' : 'POST', ...headers },
      { endStream: body === undefined },
    )
    let status = 0
    let got: IncomingHttpHeaders = {}
    let text = ''
    req.on('response', (h) => {
      got = h
      status = Number(h[':status'])
    })
    req.setEncoding('utf8')
    req.on('data', (c: string) => (text += c))
    req.on('end', () => {
      session.close()
      resolve({ status, headers: got as Answer['headers'], body: text })
    })
    req.on('error', reject)
    if (body !== undefined) req.end(body)
  })
}

/** One HTTP/1.1 request. */
function h1request(port: number, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** Headers that differ between two answers by nature (time, latency, request id, framing). */
const VOLATILE = new Set([
  'date',
  'x-kong-proxy-latency',
  'x-kong-upstream-latency',
  'x-kong-request-id',
  'connection',
  'keep-alive',
  'transfer-encoding',
])

function stable(h: Answer['headers']): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') && !VOLATILE.has(k)) out[k] = v
  return out
}

interface RawH2 {
  readonly port: number
  /** HTTP/2 sessions (connections) the gateway opened to it. */
  readonly sessions: () => number
  close(): Promise<void>
}

/** A bare h2c server answering every gRPC call with an empty message and status 0, except /slow.S/Slow (never). */
async function startRawH2(): Promise<RawH2> {
  let sessions = 0
  const server = createH2Server()
  server.on('session', () => sessions++)
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {})
    if (headers[':path'] === '/slow.S/Slow') return
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true })
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }))
    stream.end(Buffer.alloc(5))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    sessions: () => sessions,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        setTimeout(resolve, 500).unref()
      }),
  }
}

describe('HTTP/2 and gRPC', () => {
  let gw: TestGateway
  let plainServer: GrpcServer
  let tlsServer: GrpcServer
  let mtlsServer: GrpcServer
  const ca = makeCert({ ca: true, cn: 'test CA' })
  const clientCert = issueCert(ca, { cn: 'gateway' })
  const clientCertId = '5b1c0f5e-9d3a-4c53-8a8e-2f7d3c0a1b01'
  let web: TestUpstream
  let raw: RawH2
  let blackhole: Blackhole | null
  let dir: string
  let plain: number
  let tlsPort: number
  const clients: EchoClient[] = []
  const client = (port: number, authority: string, tls = false): EchoClient => {
    const c = echoClient(port, { authority, tls })
    clients.push(c)
    return c
  }

  before(async () => {
    plainServer = await startGrpcServer()
    raw = await startRawH2()
    blackhole = await startBlackhole()
    tlsServer = await startGrpcServer(makeCert({ cn: 'localhost' }))
    mtlsServer = await startGrpcServer(issueCert(ca, { cn: 'localhost', san: 'IP:127.0.0.1' }), ca.cert)
    web = await startUpstream((req, res, body) => {
      res.setHeader('x-web', ['yes', 'twice'])
      // Repeated: HTTP/2 allows one content-type (the first is kept), HTTP/1.1 sends both.
      res.setHeader('content-type', req.url === '/dup' ? ['text/plain', 'text/html'] : 'text/plain')
      res.end(`web ${req.method ?? ''} ${req.url ?? ''} ${body}`)
    })
    ;[plain, tlsPort] = [await freePort(), await freePort()]
    const down = await closedPort()
    dir = mkdtempSync(join(tmpdir(), 'turnpike-grpc-'))
    const route = (name: string, host: string, protocols = ['grpc', 'grpcs']): unknown => ({
      name,
      hosts: [host],
      paths: ['/tp.Echo/'],
      protocols,
    })
    const config = {
      _format_version: '3.0',
      services: [
        { name: 'plain', protocol: 'grpc', host: '127.0.0.1', port: plainServer.port, routes: [route('plain', 'grpc.test')] },
        { name: 'tls', protocol: 'grpcs', host: '127.0.0.1', port: tlsServer.port, routes: [route('tls', 'grpcs.test', ['grpcs'])] },
        { name: 'down', protocol: 'grpc', host: '127.0.0.1', port: down, retries: 0, routes: [route('down', 'down.test')] },
        {
          name: 'term',
          protocol: 'grpc',
          host: '127.0.0.1',
          port: plainServer.port,
          routes: [route('term', 'term.test')],
          plugins: [{ name: 'request-termination', config: { status_code: 403, message: 'go away' } }],
        },
        {
          name: 'key',
          protocol: 'grpc',
          host: '127.0.0.1',
          port: plainServer.port,
          routes: [route('key', 'key.test')],
          plugins: [{ name: 'key-auth', config: {} }],
        },
        { name: 'web', url: `http://127.0.0.1:${web.port}`, routes: [{ name: 'web', paths: ['/web'] }] },
        // A grpc service whose upstream speaks HTTP/1.1 only.
        { name: 'h1', protocol: 'grpc', host: '127.0.0.1', port: web.port, retries: 0, routes: [route('h1', 'h1.test')] },
        // The raw HTTP/2 upstream: sessions counted, /slow.S/Slow never answered (read_timeout 300 ms).
        {
          name: 'raw',
          protocol: 'grpc',
          host: '127.0.0.1',
          port: raw.port,
          read_timeout: 300,
          retries: 0,
          routes: [{ name: 'raw', hosts: ['raw.test'], paths: ['/'], protocols: ['grpc'] }],
        },
        // SYNs dropped (a full accept queue): connect_timeout 300 ms.
        ...(blackhole !== null
          ? [
              {
                name: 'hole',
                protocol: 'grpc',
                host: '127.0.0.1',
                port: blackhole.port,
                connect_timeout: 300,
                retries: 0,
                routes: [route('hole', 'hole.test')],
              },
            ]
          : []),
        { name: 'mtls', protocol: 'grpcs', host: 'mtls-up', port: 443, routes: [route('mtls', 'mtls.test')] },
        // The same server without a client certificate: refused.
        {
          name: 'nocert',
          protocol: 'grpcs',
          host: '127.0.0.1',
          port: mtlsServer.port,
          retries: 0,
          routes: [route('nocert', 'nocert.test')],
        },
        // Load balanced over a closed port and the server: a refused connect is retried on the other target.
        { name: 'lb', protocol: 'grpc', host: 'echo-lb', port: 80, retries: 3, routes: [route('lb', 'lb.test')] },
      ],
      certificates: [{ id: clientCertId, cert: clientCert.cert, key: clientCert.key }],
      upstreams: [
        // grpcs through an upstream entity that presents a client certificate (Kong's schema allows
        // client_certificate on https services only, so a grpcs service gets it from its upstream).
        { name: 'mtls-up', client_certificate: { id: clientCertId }, targets: [{ target: `127.0.0.1:${mtlsServer.port}` }] },
        {
          name: 'echo-lb',
          targets: [
            { target: `127.0.0.1:${down}`, weight: 100 },
            { target: `127.0.0.1:${plainServer.port}`, weight: 100 },
          ],
        },
      ],
    }
    writeFileSync(join(dir, 'kong.yml'), JSON.stringify(config))
    gw = await startTestGateway({
      settings: {
        database: 'off',
        declarative_config: join(dir, 'kong.yml'),
        proxy_listen: `127.0.0.1:${plain} http2, 127.0.0.1:${tlsPort} ssl`,
        nginx_http_client_max_body_size: '2k',
        nginx_http_client_body_timeout: '300ms',
      },
    })
  })

  after(async () => {
    for (const c of clients) c.close()
    await gw?.stop()
    await plainServer?.stop()
    await tlsServer?.stop()
    await mtlsServer?.stop()
    await web?.close()
    await raw?.close()
    await blackhole?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('the start line names http2 on every proxy listener (Kong: `http2 on` for the server block)', async () => {
    const started = await gw.waitForLog(/ started: /)
    assert.match(started, new RegExp(`proxy_listen 127\\.0\\.0\\.1:${plain} http2: `))
    assert.match(started, new RegExp(`; 127\\.0\\.0\\.1:${tlsPort} ssl http2: `))
    assert.doesNotMatch(gw.errorLog(), /not served yet/)
  })

  test('unary over h2c: message, metadata both ways, forwarded headers', async () => {
    const md = new grpc.Metadata()
    md.set('x-test', 'hello')
    const { err, res, headers } = await unary(client(plain, 'grpc.test'), { text: 'hi', n: 7 }, md)
    assert.equal(err, null)
    assert.equal(res?.text, 'echo: hi')
    assert.equal(res?.n, 7)
    assert.equal(res?.seen?.['x-test'], 'hello')
    assert.equal(res?.seen?.['x-forwarded-proto'], 'http')
    assert.equal(res?.seen?.['x-forwarded-host'], 'grpc.test')
    assert.equal(res?.seen?.[':authority'], `127.0.0.1:${plainServer.port}`)
    assert.equal(res?.seen?.[':path'], '/tp.Echo/Unary')
    assert.equal(headers?.get('x-served-by')[0], 'grpc-js')
    // Kong's Via: the client's HTTP version upstream, the upstream protocol's (2 for gRPC) back.
    assert.match(String(res?.seen?.['via']), /^2 \S+\/\S+$/)
    assert.match(String(headers?.get('via')[0]), /^2 \S+\/\S+$/)
  })

  test('unary over TLS (ALPN h2) to a grpcs service', async () => {
    const { err, res } = await unary(client(tlsPort, 'grpcs.test', true), { text: 'secure' })
    assert.equal(err, null)
    assert.equal(res?.text, 'echo: secure')
    assert.equal(res?.seen?.['x-forwarded-proto'], 'https')
  })

  test("grpcs with the upstream entity's client certificate (mutual TLS); without it, 502 and a hint", async () => {
    const { err, res } = await unary(client(plain, 'mtls.test'), { text: 'mutual' })
    assert.equal(err, null)
    assert.equal(res?.text, 'echo: mutual')
    const refused = await unary(client(plain, 'nocert.test'), { text: 'x' })
    assert.equal(refused.err?.code, grpc.status.INTERNAL)
    assert.equal(refused.err?.details, 'An invalid response was received from the upstream server')
    const line = await gw.waitForLog(/host: "nocert\.test"/)
    assert.match(line, /client certificate/)
  })

  test('server streaming, on one pooled upstream session', async () => {
    const c = client(plain, 'grpc.test')
    const { messages, err } = await collect(c, { text: 'tick', n: 5 })
    assert.equal(err, null)
    assert.deepEqual(
      messages.map((m) => m.text),
      ['tick 0', 'tick 1', 'tick 2', 'tick 3', 'tick 4'],
    )
    const again = await collect(c, { text: 'tock', n: 2 })
    assert.equal(again.messages.length, 2)
  })

  test("the server's error status and message pass through (trailers-only answer)", async () => {
    const { err } = await unary(client(plain, 'grpc.test'), { text: 'notfound' })
    assert.equal(err?.code, grpc.status.NOT_FOUND)
    assert.equal(err?.details, 'no such thing here')
  })

  test('gateway errors reach the client as Kong maps them to grpc-status', async () => {
    // nginx-level 502 (error handler): grpc-status 13 with the message.
    const down = await unary(client(plain, 'down.test'), { text: 'x' })
    assert.equal(down.err?.code, grpc.status.INTERNAL)
    assert.equal(down.err?.details, 'An invalid response was received from the upstream server')
    // The hint is still logged.
    await gw.waitForLog(/connect\(\) failed \(111: Connection refused\).*hint/)
    // A plugin's exit with a message: 403 → 7.
    const term = await unary(client(plain, 'term.test'), { text: 'x' })
    assert.equal(term.err?.code, grpc.status.PERMISSION_DENIED)
    assert.equal(term.err?.details, 'go away')
    // kong.response.error: 401 → 16 with the status's name.
    const key = await unary(client(plain, 'key.test'), { text: 'x' })
    assert.equal(key.err?.code, grpc.status.UNAUTHENTICATED)
    assert.equal(key.err?.details, 'Unauthenticated')
    // No route: 404 → 5.
    const none = await unary(client(plain, 'none.test'), { text: 'x' })
    assert.equal(none.err?.code, grpc.status.NOT_FOUND)
    assert.equal(none.err?.details, 'NotFound')
  })

  test('one pooled HTTP/2 session per upstream address; read_timeout as grpc-status 4', async () => {
    for (let i = 0; i < 3; i++) assert.equal(await rawUnary(plain, '/raw.S/Call', 'raw.test'), null)
    // Concurrent calls share it too.
    const all = await Promise.all([1, 2, 3, 4].map(() => rawUnary(plain, '/raw.S/Call', 'raw.test')))
    assert.deepEqual(all, [null, null, null, null])
    assert.equal(raw.sessions(), 1)
    const started = Date.now()
    const slow = await rawUnary(plain, '/slow.S/Slow', 'raw.test')
    assert.equal(slow?.code, grpc.status.DEADLINE_EXCEEDED)
    assert.equal(slow?.details, 'The upstream server is timing out')
    assert.ok(Date.now() - started < 3000)
    await gw.waitForLog(/upstream timed out \(110: Connection timed out\) while reading response header from upstream.*raw\.test/)
  })

  test('connect_timeout → 504 as grpc-status 4, the hint names connect_timeout', async (t) => {
    if (blackhole === null) return t.skip('no listener with a full accept queue here')
    const started = Date.now()
    const { err } = await unary(client(plain, 'hole.test'), { text: 'x' })
    assert.equal(err?.code, grpc.status.DEADLINE_EXCEEDED)
    assert.equal(err?.details, 'The upstream server is timing out')
    assert.ok(Date.now() - started < 3000)
    const line = await gw.waitForLog(/while connecting to upstream.*host: "hole\.test"/)
    assert.match(line, /connect_timeout/)
  })

  test('a refused connect is retried on the next target, as for HTTP', async () => {
    const c = client(plain, 'lb.test')
    for (let i = 0; i < 4; i++) {
      const { err, res } = await unary(c, { text: `lb ${i}` })
      assert.equal(err, null)
      assert.equal(res?.text, `echo: lb ${i}`)
    }
  })

  test('a grpc service whose upstream speaks only HTTP/1.1: 502 and a hint', async () => {
    const { err } = await unary(client(plain, 'h1.test'), { text: 'x' })
    assert.equal(err?.code, grpc.status.INTERNAL)
    assert.equal(err?.details, 'An invalid response was received from the upstream server')
    const line = await gw.waitForLog(/host: "h1\.test"/)
    assert.match(line, /hint: /)
  })

  test('a gRPC request over plain HTTP on a grpcs-only route: grpc-status 1', async () => {
    const { err } = await unary(client(plain, 'grpcs.test'), { text: 'x' })
    assert.equal(err?.code, grpc.status.CANCELLED)
    assert.equal(err?.details, 'gRPC request matched gRPCs route')
  })

  test('HTTP/1.1 to a gRPC route: 426 Please use HTTP2 protocol; a non-gRPC type: 415', async () => {
    const r = await h1request(plain, '/tp.Echo/Unary', { host: 'grpc.test', 'content-type': 'application/grpc' }, 'POST', '')
    assert.equal(r.status, 426)
    assert.equal(JSON.parse(r.body).message, 'Please use HTTP2 protocol')
    assert.equal(r.headers['upgrade'], 'HTTP/2')
    assert.equal(r.headers['connection'], 'Upgrade')
    const t = await h2request(
      `http://127.0.0.1:${plain}`,
      '/tp.Echo/Unary',
      { host: 'grpc.test', 'content-type': 'application/json' },
      '{}',
    )
    assert.equal(t.status, 415)
    assert.equal(JSON.parse(t.body).message, 'Non-gRPC request matched gRPC route')
  })

  test('an HTTP route answers the same over h2c, h2 (TLS) and HTTP/1.1', async () => {
    const h1 = await h1request(plain, '/web/a?b=1', { host: 'web.test' })
    const h2c = await h2request(`http://127.0.0.1:${plain}`, '/web/a?b=1', { host: 'web.test' })
    const h2 = await h2request(`https://127.0.0.1:${tlsPort}`, '/web/a?b=1', { host: 'web.test' })
    assert.equal(h1.status, 200)
    assert.equal(h1.body, 'web GET /a?b=1 ')
    for (const r of [h2c, h2]) {
      assert.equal(r.status, h1.status)
      assert.equal(r.body, h1.body)
      assert.deepEqual(stable(r.headers), stable(h1.headers))
      assert.equal(r.headers['connection'], undefined)
    }
    // The upstream's protocol names the response's Via: HTTP/1.1 here, whatever the client spoke.
    assert.equal(h2c.headers['via'], h1.headers['via'])
    const dup = await h2request(`http://127.0.0.1:${plain}`, '/web/dup', { host: 'web.test' })
    assert.equal(dup.status, 200)
    assert.equal(dup.headers['content-type'], 'text/plain')
    assert.equal(dup.headers['x-web'], 'yes, twice')
    const post = await h2request(`http://127.0.0.1:${plain}`, '/web/p', { host: 'web.test' }, 'payload')
    assert.equal(post.body, 'web POST /p payload')
  })

  /** A POST over h2c whose body the test writes; resolves when the answer ends. */
  const h2post = (path: string, write: (req: import('node:http2').ClientHttp2Stream) => void): Promise<Answer> =>
    new Promise<Answer>((resolve, reject) => {
      const session = h2connect(`http://127.0.0.1:${plain}`)
      session.on('error', reject)
      const req = session.request({ ':path': path, ':method': 'POST', host: 'web.test', accept: 'application/json' })
      let text = ''
      let status = 0
      req.on('response', (h) => (status = Number(h[':status'])))
      req.setEncoding('utf8')
      req.on('data', (c: string) => (text += c))
      // The answer's end, not the stream's: the gateway keeps reading a refused body for a while.
      req.on('end', () => {
        session.destroy()
        resolve({ status, headers: {}, body: text })
      })
      req.on('error', () => {})
      write(req)
    })

  test("nginx's body limits on HTTP/2: past client_max_body_size → 413, a stalled body → 408", async () => {
    // Declared too large: refused before the body.
    const declared = await h2request(
      `http://127.0.0.1:${plain}`,
      '/web/big',
      { host: 'web.test', 'content-length': '5000', accept: 'application/json' },
      'x'.repeat(5000),
    )
    assert.equal(declared.status, 413)
    assert.equal(JSON.parse(declared.body).message, 'Payload too large')
    // Streamed without a length: cut when it grows past the limit.
    const streamed = await h2post('/web/big', (req) => {
      req.write('y'.repeat(1500))
      setTimeout(() => req.write('y'.repeat(1500)), 50)
    })
    assert.equal(streamed.status, 413)
    assert.equal(JSON.parse(streamed.body).message, 'Payload too large')
    await gw.waitForLog(/client intended to send too large chunked body/)
    // A body that stops coming: client_body_timeout (300 ms here).
    const stalled = await h2post('/web/slow', (req) => req.write('z'))
    assert.equal(stalled.status, 408)
    assert.equal(JSON.parse(stalled.body).message, 'Request timeout')
  })

  // Last: it replaces the configuration of the gateway (DB-less, POST /config) instead of starting another.
  test('the KIC GRPCRoute file loads DB-less: its request-termination answers a gRPC client as grpc-status 13', async () => {
    const text = readFileSync(join(REAL, 'Kong-kubernetes-ingress-controller__golden-grpcroute-example.yaml'), 'utf8')
    const loaded = await call('POST', `${gw.adminUrl}/config`, text, { 'content-type': 'text/yaml' })
    assert.equal(loaded.status, 201)
    assert.equal(Object.keys(loaded.body.services).length, 3)
    let err: grpc.ServiceError | null = null
    await eventually(
      async () => {
        err = await rawUnary(plain, '/grpcbin.GRPCBin/DummyUnary', 'example.com')
        return err?.code === grpc.status.INTERNAL
      },
      5000,
      'the KIC configuration',
    )
    assert.equal((err as grpc.ServiceError | null)?.details, 'no existing backendRef provided')
    // Over TLS (the routes take grpc and grpcs), another of its routes.
    const tlsClient = new grpc.Client(
      `127.0.0.1:${tlsPort}`,
      grpc.credentials.createSsl(null, null, null, { rejectUnauthorized: false, checkServerIdentity: () => undefined }),
      { 'grpc.default_authority': 'example.com' },
    )
    const viaTls = await new Promise<grpc.ServiceError | null>((resolve) =>
      tlsClient.makeUnaryRequest(
        '/grpcbin.GRPCBin/Get',
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.alloc(0),
        (e) => resolve(e),
      ),
    )
    tlsClient.close()
    assert.equal(viaTls?.code, grpc.status.INTERNAL)
    assert.equal(viaTls?.details, 'no existing backendRef provided')
  })
})
