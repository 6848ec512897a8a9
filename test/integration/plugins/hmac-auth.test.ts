/**
 * hmac-auth against the real gateway and an echo upstream: signatures by each algorithm over
 * Date / X-Date, request-line and @request-target (HTTP/1.1 and 1.0), Kong's 401 messages and
 * `WWW-Authenticate: hmac …`, clock skew, enforce_headers, validate_request_body with good and
 * bad Digest headers, anonymous, hide_credentials, Proxy-Authorization, the consumer headers,
 * and the error-log line that explains each refusal (never the secret). Then the credentials'
 * Admin API with Kong's validation errors, and the real decK file dump-001 (read from
 * ../shared/kong/, never copied) DB-less and through `turnpike config sync`.
 */
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { parse } from 'yaml'
import { runTurnpike } from '../../helpers/cli.js'
import { call, eventually, ROOT, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'
import { rawRequest, rawText } from '../proxy/helpers.js'

const SECRET = 'secret-of-bob'
const NOT_VALID = 'HMAC signature cannot be verified'
const NOT_SAME = 'HMAC signature does not match'
const DATE_REQUIRED = 'HMAC signature cannot be verified, a valid date or x-date header is required for HMAC Authentication'

const sign = (alg: string, data: string, secret = SECRET): string =>
  createHmac(alg.replace('hmac-', ''), secret).update(data).digest('base64')
const hmac = (user: string, alg: string, headers: string, signature: string): string =>
  `hmac username="${user}", algorithm="${alg}", headers="${headers}", signature="${signature}"`

/** Headers signing `date` and the request line of GET `path` over HTTP/1.1. */
function signedGet(path: string, alg = 'hmac-sha256', user = 'bob', secret = SECRET): Record<string, string> {
  const date = new Date().toUTCString()
  return { date, authorization: hmac(user, alg, 'date request-line', sign(alg, `date: ${date}\nGET ${path} HTTP/1.1`, secret)) }
}

describe('hmac-auth plugin', () => {
  let bob: { id: string }
  const fx = pluginSuite({}, async () => {
    await fx.route('hmac', [{ name: 'hmac-auth', config: { realm: 'test-realm' } }])
    await fx.route('plain', [{ name: 'hmac-auth' }])
    await fx.route('anon', [{ name: 'hmac-auth', config: { anonymous: 'guest' } }])
    await fx.route('body', [{ name: 'hmac-auth', config: { validate_request_body: true } }])
    await fx.route('enforce', [
      { name: 'hmac-auth', config: { enforce_headers: ['date', 'request-line'], algorithms: ['hmac-sha1', 'hmac-sha256'] } },
    ])
    await fx.route('hide', [{ name: 'hmac-auth', config: { hide_credentials: true } }])
    await fx.route('skew', [{ name: 'hmac-auth', config: { clock_skew: 10 } }])
    bob = (await fx.admin('/consumers', { username: 'bob', custom_id: '1234' })).body
    await fx.admin('/consumers/bob/hmac-auth', { username: 'bob', secret: SECRET })
    await fx.admin('/consumers', { username: 'guest' })
  })

  test('a valid signature by each algorithm → 200, the consumer headers upstream, Authorization kept', async () => {
    for (const alg of ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512']) {
      const headers = signedGet('/hmac/request?q=1', alg)
      const res = await call('GET', `${fx.gw.proxyUrl}/hmac/request?q=1`, undefined, headers)
      assert.equal(res.status, 200, `${alg}: ${res.text}`)
      const h = res.body.headers
      assert.equal(h['x-consumer-id'], bob.id)
      assert.equal(h['x-consumer-username'], 'bob')
      assert.equal(h['x-consumer-custom-id'], '1234')
      assert.equal(h['x-credential-identifier'], 'bob')
      assert.equal(h['x-anonymous-consumer'], undefined)
      assert.equal(h['authorization'], headers['authorization'])
    }
  })

  test('a client cannot forge the consumer headers', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/hmac/x`, undefined, {
      ...signedGet('/hmac/x'),
      'x-consumer-username': 'admin',
      'x-anonymous-consumer': 'true',
    })
    assert.equal(res.status, 200)
    assert.equal(res.body.headers['x-consumer-username'], 'bob')
    assert.equal(res.body.headers['x-anonymous-consumer'], undefined)
  })

  test('@request-target, X-Date, other signed headers, and HTTP/1.0 request lines', async () => {
    const xdate = new Date().toUTCString()
    const data = `x-date: ${xdate}\ncontent-md5: md5\n@request-target: post /plain/target?a=1`
    const res = await call('POST', `${fx.gw.proxyUrl}/plain/target?a=1`, 'hello', {
      'x-date': xdate,
      'content-md5': 'md5',
      authorization: hmac('bob', 'hmac-sha1', 'x-date content-md5 @request-target', sign('hmac-sha1', data)),
    })
    assert.equal(res.status, 200, res.text)

    const date = new Date().toUTCString()
    const sig = sign('hmac-sha256', `date: ${date}\nGET /plain/old HTTP/1.0`)
    const old = await rawRequest(
      fx.gw.proxyPort,
      rawText(
        'GET',
        '/plain/old',
        [
          ['Host', 'localhost'],
          ['Date', date],
          ['Authorization', hmac('bob', 'hmac-sha256', 'date request-line', sig)],
        ],
        '1.0',
      ),
    )
    assert.equal(old.status, 200, old.body.toString())
  })

  test('no credentials → 401 Unauthorized with WWW-Authenticate: hmac realm="test-realm" (plain "hmac" without a realm)', async () => {
    const before = fx.up.received.length
    const res = await call('GET', `${fx.gw.proxyUrl}/hmac`)
    assert.equal(res.status, 401)
    assert.equal(res.body.message, 'Unauthorized')
    assert.match(res.body.request_id, /^[0-9a-f]{32}$/, "kong.response.error's body")
    assert.equal(res.headers['www-authenticate'], 'hmac realm="test-realm"')
    assert.equal(fx.up.received.length, before)
    const line = await fx.gw.waitForLog(/\[hmac-auth\] 401 "Unauthorized" on route "hmac".*no Authorization or Proxy-Authorization header/)
    assert.match(line, /\[notice\]/)
    const plain = await call('GET', `${fx.gw.proxyUrl}/plain`, undefined, { authorization: 'hmac' })
    assert.equal(plain.status, 401)
    assert.equal(plain.headers['www-authenticate'], 'hmac')
  })

  test("refusals carry Kong's messages, each explained in the error log without the secret", async () => {
    const date = new Date().toUTCString()
    const good = sign('hmac-sha1', `date: ${date}`)
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ authorization: hmac('bob', 'hmac-sha1', 'date', good) }, DATE_REQUIRED, /no X-Date header; no Date header/],
      [{ date, authorization: 'hmac username' }, NOT_VALID, /the Authorization header is not 'hmac username=/],
      [{ date, authorization: hmac('bob', 'hmac-sha', 'date', good) }, NOT_VALID, /algorithm "hmac-sha" not supported/],
      [{ date, authorization: hmac('bobb', 'hmac-sha1', 'date', good) }, NOT_VALID, /no hmac-auth credential has the username "bobb"/],
      [{ date, authorization: hmac('bob', 'hmac-sha1', 'date', 'not really base64!!!') }, NOT_SAME, /is not base64/],
      [
        { date, authorization: hmac('bob', 'hmac-sha1', 'date', sign('hmac-sha1', `date: ${date}`, 'wrong')) },
        NOT_SAME,
        /the hmac-sha1 signature of the headers "date" does not match the secret of the username "bob"/,
      ],
      [
        { date, authorization: hmac('bob', 'hmac-sha1', 'date request-line', good) },
        NOT_SAME,
        /signature of the headers "date request-line" does not match/,
      ],
    ]
    for (const [headers, message, why] of cases) {
      const res = await call('GET', `${fx.gw.proxyUrl}/hmac/request`, undefined, headers)
      assert.equal(res.status, 401, why.source)
      assert.equal(res.body.message, message)
      assert.equal(res.headers['www-authenticate'], 'hmac realm="test-realm"')
      await fx.gw.waitForLog(new RegExp(`\\[hmac-auth\\] 401 "${message}" on route "hmac".*${why.source}`))
    }
    assert.ok(!fx.gw.errorLog().includes(SECRET))
  })

  test('clock skew: an old or malformed Date is refused; X-Date is tried before Date', async () => {
    const old = new Date(Date.now() - 60_000).toUTCString()
    const sig = sign('hmac-sha1', `date: ${old}`)
    const res = await call('GET', `${fx.gw.proxyUrl}/skew`, undefined, { date: old, authorization: hmac('bob', 'hmac-sha1', 'date', sig) })
    assert.equal(res.status, 401)
    assert.equal(res.body.message, DATE_REQUIRED)
    await fx.gw.waitForLog(/\[hmac-auth\] 401 .* on route "skew".*Date ".*" is \d+ s away from the gateway's clock \(clock_skew 10\)/)
    // the default clock_skew (300 s) takes a minute-old date
    assert.equal(
      (await call('GET', `${fx.gw.proxyUrl}/plain`, undefined, { date: old, authorization: hmac('bob', 'hmac-sha1', 'date', sig) })).status,
      200,
    )
    // a malformed X-Date falls back to Date; the signature may cover the malformed value
    const date = new Date().toUTCString()
    const both = await call('GET', `${fx.gw.proxyUrl}/skew`, undefined, {
      'x-date': 'wrong date',
      date,
      authorization: hmac('bob', 'hmac-sha1', 'x-date', sign('hmac-sha1', 'x-date: wrong date')),
    })
    assert.equal(both.status, 200)
    const bad = await call('GET', `${fx.gw.proxyUrl}/skew`, undefined, { 'x-date': 'wrong date', authorization: 'hmac x' })
    assert.equal(bad.body.message, DATE_REQUIRED)
  })

  test('Proxy-Authorization is read first; a wrong one that parses is not replaced by Authorization', async () => {
    const ok = signedGet('/plain/p')
    const proxied = await call('GET', `${fx.gw.proxyUrl}/plain/p`, undefined, {
      date: ok['date'] as string,
      'proxy-authorization': ok['authorization'] as string,
      authorization: 'hello',
    })
    assert.equal(proxied.status, 200)
    assert.equal(proxied.body.headers['x-consumer-username'], 'bob')
    assert.equal(proxied.body.headers['authorization'], 'hello')
    const fallback = await call('GET', `${fx.gw.proxyUrl}/plain/p`, undefined, { ...ok, 'proxy-authorization': 'hmac username' })
    assert.equal(fallback.status, 200)
    const wrong = await call('GET', `${fx.gw.proxyUrl}/plain/p`, undefined, {
      ...ok,
      'proxy-authorization': hmac('bob', 'hmac-sha1', 'date', 'AAAA'),
    })
    assert.equal(wrong.status, 401)
    assert.equal(wrong.body.message, NOT_SAME)
  })

  test('enforce_headers and algorithms: what the signature must cover and how it may be made', async () => {
    const date = new Date().toUTCString()
    const onlyDate = hmac('bob', 'hmac-sha1', 'date', sign('hmac-sha1', `date: ${date}`))
    const res = await call('GET', `${fx.gw.proxyUrl}/enforce`, undefined, { date, authorization: onlyDate })
    assert.equal(res.status, 401)
    assert.equal(res.body.message, NOT_VALID)
    assert.equal(res.headers['www-authenticate'], 'hmac')
    await fx.gw.waitForLog(/on route "enforce".*enforced header "request-line" not used for signature creation/)
    assert.equal((await call('GET', `${fx.gw.proxyUrl}/enforce/e`, undefined, signedGet('/enforce/e', 'hmac-sha1'))).status, 200)
    const sha512 = await call('GET', `${fx.gw.proxyUrl}/enforce/e`, undefined, signedGet('/enforce/e', 'hmac-sha512'))
    assert.equal(sha512.status, 401)
    assert.equal(sha512.body.message, NOT_VALID)
  })

  test('validate_request_body: a good Digest passes, a bad or missing one is refused', async () => {
    const body = '{"a":"apple","b":"ball"}'
    const digest = `SHA-256=${createHash('sha256').update(body).digest('base64')}`
    const date = new Date().toUTCString()
    const auth = hmac('bob', 'hmac-sha1', 'date digest', sign('hmac-sha1', `date: ${date}\ndigest: ${digest}`))
    const ok = await call('POST', `${fx.gw.proxyUrl}/body`, body, { date, digest, authorization: auth, 'content-type': 'application/json' })
    assert.equal(ok.status, 200, ok.text)
    assert.equal(ok.body.body, body, 'the body read for the digest still reaches the upstream')

    const tampered = await call('POST', `${fx.gw.proxyUrl}/body`, `${body}x`, { date, digest, authorization: auth })
    assert.equal(tampered.status, 401)
    assert.equal(tampered.body.message, NOT_SAME)
    await fx.gw.waitForLog(/on route "body".*the Digest header is not the body's SHA-256/)

    const onlyDate = hmac('bob', 'hmac-sha1', 'date', sign('hmac-sha1', `date: ${date}`))
    const missing = await call('POST', `${fx.gw.proxyUrl}/body`, body, { date, authorization: onlyDate })
    assert.equal(missing.status, 401)
    assert.equal(missing.body.message, NOT_SAME)
    await fx.gw.waitForLog(/on route "body".*no Digest header, and the body is not empty/)
    // no body and no Digest is fine
    assert.equal((await call('GET', `${fx.gw.proxyUrl}/body`, undefined, { date, authorization: onlyDate })).status, 200)
  })

  test('anonymous: a failure continues as the anonymous consumer; valid credentials still win', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/anon`)
    assert.equal(res.status, 200)
    assert.equal(res.body.headers['x-consumer-username'], 'guest')
    assert.equal(res.body.headers['x-anonymous-consumer'], 'true')
    assert.equal(res.body.headers['x-credential-identifier'], undefined)
    await fx.gw.waitForLog(
      /\[hmac-auth\] authentication failed on route "anon" .*\(Unauthorized: .*continuing as the anonymous consumer "guest"/,
    )
    const ok = await call('GET', `${fx.gw.proxyUrl}/anon/a`, undefined, signedGet('/anon/a'))
    assert.equal(ok.body.headers['x-consumer-username'], 'bob')
    assert.equal(ok.body.headers['x-anonymous-consumer'], undefined)
  })

  test('a changed secret or a deleted credential takes effect on the next configuration (no store on the request path)', async () => {
    const cred = await fx.admin('/consumers/bob/hmac-auth', { username: 'rotating', secret: 'first' })
    await fx.settle()
    assert.equal(
      (await call('GET', `${fx.gw.proxyUrl}/plain/r`, undefined, signedGet('/plain/r', 'hmac-sha1', 'rotating', 'first'))).status,
      200,
    )
    await fx.admin(`/consumers/bob/hmac-auth/${cred.body.id}`, { secret: 'second' }, 'PATCH')
    await fx.settle()
    const old = await call('GET', `${fx.gw.proxyUrl}/plain/r`, undefined, signedGet('/plain/r', 'hmac-sha1', 'rotating', 'first'))
    assert.equal(old.status, 401)
    assert.equal(old.body.message, NOT_SAME)
    assert.equal(
      (await call('GET', `${fx.gw.proxyUrl}/plain/r`, undefined, signedGet('/plain/r', 'hmac-sha1', 'rotating', 'second'))).status,
      200,
    )
    assert.equal((await call('DELETE', `${fx.gw.adminUrl}/hmac-auths/rotating`)).status, 204)
    await fx.settle()
    const gone = await call('GET', `${fx.gw.proxyUrl}/plain/r`, undefined, signedGet('/plain/r', 'hmac-sha1', 'rotating', 'second'))
    assert.equal(gone.status, 401)
    assert.equal(gone.body.message, NOT_VALID)
  })

  test('hide_credentials removes the header that carried the signature', async () => {
    const ok = signedGet('/hide/h')
    const res = await call('GET', `${fx.gw.proxyUrl}/hide/h`, undefined, ok)
    assert.equal(res.status, 200)
    assert.equal(res.body.headers['authorization'], undefined)
    const proxied = await call('GET', `${fx.gw.proxyUrl}/hide/h`, undefined, {
      date: ok['date'] as string,
      'proxy-authorization': ok['authorization'] as string,
      authorization: 'kept',
    })
    assert.equal(proxied.status, 200)
    assert.equal(proxied.body.headers['proxy-authorization'], undefined)
    assert.equal(proxied.body.headers['authorization'], 'kept')
  })
})

describe('hmac-auth credentials: Admin API', () => {
  let gw: TestGateway
  let bob: { id: string }
  before(async () => {
    gw = await startTestGateway()
    bob = (await call('POST', `${gw.adminUrl}/consumers`, { username: 'bob', custom_id: '1234' })).body
  })
  after(async () => {
    await gw.stop()
  })
  const url = (path: string): string => `${gw.adminUrl}${path}`

  test('create under a consumer (secret generated when absent), read by id and username, list, paginate', async () => {
    const a = await call('POST', url('/consumers/bob/hmac-auth'), { username: 'bob', secret: '1234', tags: ['t1', 't2'] })
    assert.equal(a.status, 201, a.text)
    assert.deepEqual(a.body.consumer, { id: bob.id })
    assert.equal(a.body.secret, '1234')
    assert.deepEqual(a.body.tags, ['t1', 't2'])
    assert.deepEqual(Object.keys(a.body).sort(), ['consumer', 'created_at', 'id', 'secret', 'tags', 'username'])
    const b = await call('POST', url('/consumers/bob/hmac-auth'), { username: 'bobby' })
    assert.equal(b.status, 201)
    assert.match(b.body.secret, /^[A-Za-z0-9]{32}$/)
    for (const key of [a.body.id, 'bob']) {
      const got = await call('GET', url(`/consumers/bob/hmac-auth/${key}`))
      assert.equal(got.body.id, a.body.id, key)
    }
    assert.equal((await call('GET', url('/consumers/bob/hmac-auth'))).body.data.length, 2)
    const page = await call('GET', url('/hmac-auths?size=1'))
    assert.equal(page.body.data.length, 1)
    const next = await call('GET', url(`/hmac-auths?size=1&offset=${encodeURIComponent(page.body.offset)}`))
    assert.equal(next.body.data.length, 1)
    assert.notEqual(next.body.data[0].id, page.body.data[0].id)
    assert.equal(next.body.offset, undefined)
    const owner = await call('GET', url('/hmac-auths/bobby/consumer'))
    assert.equal(owner.body.id, bob.id)
    assert.equal((await call('GET', url('/hmac-auths/nobody/consumer'))).status, 404)
    const dup = await call('POST', url('/consumers/bob/hmac-auth'), { username: 'bob' })
    assert.equal(dup.status, 409)
  })

  test("Kong's validation errors", async () => {
    const empty = await call('POST', url('/consumers/bob/hmac-auth'), {})
    assert.equal(empty.status, 400)
    assert.deepEqual(empty.body.fields, { username: 'required field missing' })
    const noConsumer = await call('POST', url('/hmac-auths'), { username: 'carol' })
    assert.equal(noConsumer.status, 400)
    assert.equal(noConsumer.body.message, 'schema violation (consumer: required field missing)')
    const putNoConsumer = await call('PUT', url('/hmac-auths/carol'), {})
    assert.equal(putNoConsumer.body.message, 'schema violation (consumer: required field missing)')
    const blank = await call('PATCH', url('/consumers/bob/hmac-auth/bobby'), { username: '' })
    assert.equal(blank.status, 400)
    assert.deepEqual(blank.body.fields, { username: 'length must be at least 1' })
    const number = await call('PUT', url('/consumers/bob/hmac-auth/foo'), { secret: 123 })
    assert.equal(number.status, 400)
    assert.deepEqual(number.body.fields, { secret: 'expected a string' })
  })

  test('update by username, upsert by PUT, delete; the plugin config is checked as Kong checks it', async () => {
    const patched = await call('PATCH', url('/consumers/bob/hmac-auth/bobby'), { username: 'alice' })
    assert.equal(patched.status, 200)
    assert.equal(patched.body.username, 'alice')
    const put = await call('PUT', url('/consumers/bob/hmac-auth/foo'), { secret: '1234' })
    assert.equal(put.status, 200)
    assert.equal(put.body.username, 'foo')
    assert.deepEqual(put.body.consumer, { id: bob.id })
    assert.equal((await call('DELETE', url('/consumers/bob/hmac-auth/nope'))).status, 404)
    assert.equal((await call('DELETE', url(`/consumers/bob/hmac-auth/${put.body.id}`))).status, 204)

    const skew = await call('POST', url('/plugins'), { name: 'hmac-auth', config: { clock_skew: -10 } })
    assert.equal(skew.status, 400)
    assert.deepEqual(skew.body.fields.config, { clock_skew: 'value must be greater than 0' })
    const alg = await call('POST', url('/plugins'), { name: 'hmac-auth', config: { algorithms: ['sha1024'] } })
    assert.equal(alg.status, 400)
    assert.deepEqual(alg.body.fields.config, {
      algorithms: ['expected one of: hmac-sha1, hmac-sha256, hmac-sha384, hmac-sha512'],
    })
    const consumerScoped = await call('POST', url('/consumers/bob/plugins'), { name: 'hmac-auth' })
    assert.equal(consumerScoped.status, 400)
    const plugin = await call('POST', url('/plugins'), { name: 'hmac-auth' })
    assert.equal(plugin.status, 201, plugin.text)
    assert.deepEqual(plugin.body.config, {
      hide_credentials: false,
      clock_skew: 300,
      anonymous: null,
      validate_request_body: false,
      enforce_headers: [],
      algorithms: ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'],
      realm: null,
    })
  })

  test('/schemas/hmacauth_credentials and /schemas/plugins/hmac-auth', async () => {
    const s = await call('GET', url('/schemas/hmacauth_credentials'))
    assert.equal(s.status, 200)
    const names = (s.body.fields as Record<string, unknown>[]).map((f) => Object.keys(f)[0])
    assert.deepEqual(names, ['id', 'created_at', 'consumer', 'username', 'secret', 'tags'])
    const p = await call('GET', url('/schemas/plugins/hmac-auth'))
    assert.equal(p.status, 200)
    assert.match(p.text, /"clock_skew"/)
    const enabled = await call('GET', url('/plugins/enabled'))
    assert.ok(enabled.body.enabled_plugins.includes('hmac-auth'))
  })
})

const REAL =
  [join(ROOT, '..', 'shared', 'kong', 'realworld-configs'), '/work/shared/kong/realworld-configs'].find((d) => existsSync(d)) ??
  '/work/shared/kong/realworld-configs'
const DUMP_001 = join(REAL, 'Kong-go-database-reconciler__dump-001-entities-with-tags__kong.yaml')
const DUMP_SECRET = 'yeNZBeqCuk0D3H85VX77Umacf91MwqRo'

describe('decK dump-001 (consumers[].hmacauth_credentials)', () => {
  let up: TestUpstream
  let off: TestGateway
  let db: TestGateway
  before(async () => {
    up = await startUpstream()
    await Promise.all([
      startTestGateway({ settings: { database: 'off' } }).then((g) => (off = g)),
      startTestGateway().then((g) => (db = g)),
    ])
  })
  after(async () => {
    await Promise.all([off?.stop(), db?.stop()])
    await up?.close()
  })

  test('loads DB-less; its credential authenticates a signed request on a route added to it', async () => {
    const doc = parse(readFileSync(DUMP_001, 'utf8')) as Record<string, unknown>
    doc['services'] = [
      ...(doc['services'] as unknown[]),
      { name: 'echo', url: up.url, routes: [{ name: 'signed', paths: ['/signed'], plugins: [{ name: 'hmac-auth' }] }] },
    ]
    const res = await call('POST', `${off.adminUrl}/config`, JSON.stringify(doc), { 'content-type': 'application/json' })
    assert.equal(res.status, 201, res.text)
    const creds = await call('GET', `${off.adminUrl}/consumers/harry/hmac-auth`)
    assert.equal(creds.body.data.length, 1)
    assert.equal(creds.body.data[0].username, 'hmac-user')
    assert.deepEqual(creds.body.data[0].tags, ['managed-by-deck', 'org-unit-42'])
    await eventually(async () => (await call('GET', `${off.proxyUrl}/signed`)).status === 401, 10_000, 'the route to reach the proxy')
    const ok = await call('GET', `${off.proxyUrl}/signed/x`, undefined, signedGet('/signed/x', 'hmac-sha256', 'hmac-user', DUMP_SECRET))
    assert.equal(ok.status, 200, ok.text)
    assert.equal(ok.body.headers['x-consumer-username'], 'harry')
    assert.equal(ok.body.headers['x-credential-identifier'], 'hmac-user')
  })

  test('turnpike config sync creates it through the consumer path; a second diff is clean; dump nests it back', async () => {
    const cli = (...args: string[]) => runTurnpike(['config', ...args, '--admin-url', db.adminUrl])
    const first = await cli('sync', DUMP_001)
    assert.equal(first.status, 0, first.stderr)
    assert.match(first.stdout, /^creating hmacauth_credential hmac-user$/m)
    assert.ok(!first.stdout.includes(DUMP_SECRET), 'the secret is not printed')
    const stored = await call('GET', `${db.adminUrl}/hmac-auths/hmac-user`)
    assert.equal(stored.body.secret, DUMP_SECRET)
    assert.deepEqual(stored.body.tags, ['managed-by-deck', 'org-unit-42'])
    const again = await cli('diff', DUMP_001)
    assert.equal(again.status, 0, again.stderr)
    assert.match(again.stdout, /Created: 0\n {2}Updated: 0\n {2}Deleted: 0/)
    const dump = await cli('dump')
    assert.equal(dump.status, 0, dump.stderr)
    const dumped = parse(dump.stdout) as { consumers: { username: string; hmacauth_credentials?: Record<string, unknown>[] }[] }
    const harry = dumped.consumers.find((c) => c.username === 'harry')
    assert.deepEqual(harry?.hmacauth_credentials, [
      { secret: DUMP_SECRET, tags: ['managed-by-deck', 'org-unit-42'], username: 'hmac-user' },
    ])
  })
})
