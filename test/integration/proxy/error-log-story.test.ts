/**
 * The error log tells the whole story at the default level (`log_level = notice`): a request an
 * auth plugin refuses leaves one `notice` line (which plugin, which credential — fingerprinted —
 * and why, with the client and the request id), and a 5xx the upstream itself answered leaves one
 * `notice` line naming the address that answered, told apart from a 502 the gateway makes
 * (`[error] … connect() failed …`). Real gateway, real upstreams on 127.0.0.1.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { call } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'
import { closedPort } from '../../helpers/ports.js'

const ALICE_KEY = 'alice-long-secret-key-0001'
const BOB_PASSWORD = 'right-password'
const BAD_KEY = 'zzzz-not-a-valid-key-but-long'
/** A second load balancer's own 502 page, as the seed documents describe it. */
const LB_PAGE = '<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>'

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
}

/** The error-log lines that mention this request id. */
function linesOf(log: string, requestId: string): string[] {
  return log.split('\n').filter((l) => l.includes(`request_id: "${requestId}"`))
}

describe('the error log at the default level', () => {
  let downPort = 0
  const fx = pluginSuite(
    {
      settings: { log_level: 'notice' },
      upstream: (req, res) => {
        if (req.url?.startsWith('/lb503') === true) {
          // A hostile Server header: long, with quotes.
          res.writeHead(503, { server: `evil"lb ${'x'.repeat(4000)}` })
          res.end('down')
          return
        }
        if (req.url?.startsWith('/lb502') === true) {
          res.writeHead(502, { 'content-type': 'text/html', server: 'awselb/2.0' })
          res.end(LB_PAGE)
          return
        }
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"ok":true}')
      },
    },
    async (fx) => {
      const alice = (await fx.admin('/consumers', { username: 'alice' })).body as { id: string }
      await fx.admin('/consumers/alice/key-auth', { key: ALICE_KEY })
      await fx.admin('/consumers/alice/acls', { group: 'staff' })
      void alice
      await fx.admin('/consumers', { username: 'bob' })
      await fx.admin('/consumers/bob/basic-auth', { username: 'bob', password: BOB_PASSWORD })
      await fx.route('ka', [{ name: 'key-auth' }])
      await fx.route('acl', [{ name: 'key-auth' }, { name: 'acl', config: { allow: ['admins'] } }])
      await fx.route('ba', [{ name: 'basic-auth' }])
      await fx.route('lb502', [], { strip_path: false })
      await fx.route('lb503', [], { strip_path: false })
      downPort = await closedPort()
      await fx.admin('/services', { name: 'down', url: `http://127.0.0.1:${downPort}`, retries: 0 })
      await fx.admin('/services/down/routes', { name: 'down', paths: ['/down'] })
    },
  )

  async function refusedLine(path: string, headers: Record<string, string>, status: number, pattern: RegExp): Promise<string> {
    const res = await call('GET', `${fx.gw.proxyUrl}${path}`, undefined, headers)
    assert.equal(res.status, status)
    const id = res.headers['x-kong-request-id'] as string
    const line = await fx.gw.waitForLog(pattern)
    assert.match(line, /\[notice\]/)
    assert.match(line, /, client: 127\.0\.0\.1, server: kong, request: "GET \//)
    assert.ok(line.includes(`request_id: "${id}"`), line)
    assert.equal(linesOf(fx.gw.errorLog(), id).length, 1, 'one line per refused request')
    return line
  }

  test('key-auth, no key: one notice naming the plugin, the route and where it looked', async (t) => {
    const line = await refusedLine('/ka', {}, 401, /\[key-auth\] 401 "No API key found in request" on route "ka"/)
    assert.match(line, /looked for "apikey" in headers, query string/)
    t.diagnostic(line)
  })

  test('key-auth, bad key: the fingerprint is logged, never the key (nor a query string holding it)', async (t) => {
    const line = await refusedLine('/ka', { apikey: BAD_KEY }, 401, /\[key-auth\] 401 "Unauthorized" on route "ka"/)
    assert.match(line, /the key in header "apikey" \("zzzz…" sha256:[0-9a-f]{8}\) matches no key-auth credential/)
    t.diagnostic(line)
    const res = await call('GET', `${fx.gw.proxyUrl}/ka?apikey=${BAD_KEY}`)
    assert.equal(res.status, 401)
    await fx.gw.waitForLog(/query argument "apikey" \("zzzz…" sha256:[0-9a-f]{8}\)[^]*request: "GET \/ka\?… HTTP\/1\.1"/)
    assert.ok(!fx.gw.errorLog().includes(BAD_KEY), 'the key itself is never logged')
    assert.ok(!fx.gw.errorLog().includes(ALICE_KEY))
  })

  test('acl: the consumer, its groups and the rule', async (t) => {
    const line = await refusedLine('/acl', { apikey: ALICE_KEY }, 403, /\[acl\] 403 "You cannot consume this service" on route "acl"/)
    assert.match(line, /consumer "alice" \([0-9a-f-]+\) has groups \["staff"\]; none of them is allowed \(allow = \["admins"\]\)/)
    t.diagnostic(line)
  })

  test('basic-auth, wrong password: the username, never the password', async (t) => {
    const line = await refusedLine(
      '/ba',
      { authorization: basic('bob', 'wrong-password') },
      401,
      /\[basic-auth\] 401 "Unauthorized" on route "ba"/,
    )
    assert.match(line, /wrong password for the basic-auth username "bob"/)
    assert.ok(!fx.gw.errorLog().includes('wrong-password'))
    assert.ok(!fx.gw.errorLog().includes(BOB_PASSWORD))
    t.diagnostic(line)
  })

  test("an upstream's own 502 is passed through and named, with its address; no gateway connect() line", async (t) => {
    const res = await call('GET', `${fx.gw.proxyUrl}/lb502/page`)
    assert.equal(res.status, 502)
    assert.equal(res.text, LB_PAGE, "the upstream's page, untouched")
    assert.equal(res.headers['server'], 'awselb/2.0', "the upstream's Server header, not the gateway's")
    assert.match(String(res.headers['via']), /^1\.1 turnpike\//)
    const id = res.headers['x-kong-request-id'] as string
    const line = await fx.gw.waitForLog(new RegExp(`upstream produced 502 itself.*request_id: "${id}"`))
    assert.match(line, /\[notice\]/)
    assert.ok(line.includes(`upstream produced 502 itself: 127.0.0.1:${fx.up.port} answered 502`), line)
    assert.match(line, /request: "GET \/lb502\/page HTTP\/1\.1"/)
    assert.ok(line.includes(`upstream: "http://127.0.0.1:${fx.up.port}/lb502/page"`), line)
    assert.match(line, /upstream_server: "awselb\/2\.0"/)
    const lines = linesOf(fx.gw.errorLog(), id)
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.doesNotMatch(lines.join('\n'), /connect\(\) failed|\[error\]/)
    t.diagnostic(line)
    t.diagnostic(`response headers: ${JSON.stringify(res.headers)}`)
  })

  test('any 5xx of the upstream is named; its Server header is clipped and quoted, never a line of its own', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/lb503`)
    assert.equal(res.status, 503)
    const id = res.headers['x-kong-request-id'] as string
    const line = await fx.gw.waitForLog(new RegExp(`upstream produced 503 itself.*request_id: "${id}"`))
    assert.match(line, /upstream_server: "evil\\"lb x{10,}…"$/)
    assert.ok(line.length < 2000, `bounded: ${line.length} chars`)
  })

  test("a refused upstream: the gateway's [error] connect() line with its hint, no 'upstream produced' notice", async (t) => {
    const res = await call('GET', `${fx.gw.proxyUrl}/down`, undefined, { accept: 'application/json' })
    assert.equal(res.status, 502)
    assert.match(String(res.headers['server']), /^turnpike\//)
    assert.equal(res.body.message, 'An invalid response was received from the upstream server')
    const id = res.headers['x-kong-request-id'] as string
    const line = await fx.gw.waitForLog(new RegExp(`\\[error\\].*connect\\(\\) failed.*request_id: "${id}"`))
    assert.ok(line.includes(`127.0.0.1:${downPort}`), line)
    assert.match(line, /hint: "/)
    const lines = linesOf(fx.gw.errorLog(), id)
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.doesNotMatch(fx.gw.errorLog(), new RegExp(`upstream produced.*request_id: "${id}"`))
    t.diagnostic(line)
    t.diagnostic(`response headers: ${JSON.stringify(res.headers)}`)
  })

  test('nothing below notice is written at the default level', () => {
    assert.doesNotMatch(fx.gw.errorLog(), /\[info\]|\[debug\]/)
  })
})
