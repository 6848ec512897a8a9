/**
 * hmac-auth's pieces and its access handler over a recording PDK: the `hmac …` header read with
 * Kong's greedy groups (without backtracking), nginx's lenient base64, the signing string
 * (`request-line`, `@request-target`, absent headers), and the handler's checks in Kong's order
 * with Kong's messages, WWW-Authenticate, consumer headers, hide_credentials and anonymous.
 */
import assert from 'node:assert/strict'
import { createHash, createHmac } from 'node:crypto'
import { describe, test } from 'node:test'
import type { Credential, Pdk } from '../../../../src/pdk/types.js'
import {
  DATE_REQUIRED,
  decodeSignature,
  hmacAuthAccess,
  MAX_AUTHORIZATION_LENGTH,
  MAX_SIGNED_HEADERS,
  parseHmacHeader,
  prepareHmacAuth,
  SIGNATURE_NOT_SAME,
  SIGNATURE_NOT_VALID,
  signingString,
} from '../../../../src/plugins/hmac-auth/handler.js'
import { hmacAuth } from '../../../../src/plugins/hmac-auth/index.js'
import { hmacAuthConfigFields, type HmacAuthConfig } from '../../../../src/plugins/hmac-auth/schema.js'
import { ALICE, ANON, fakePdk } from '../key-auth/fake-pdk.js'

// The schema's defaults (checked one by one below), null where there is none.
const DEFAULTS = Object.fromEntries(
  Object.entries(hmacAuthConfigFields).map(([k, f]) => [k, 'default' in f ? f.default : null]),
) as unknown as HmacAuthConfig
const SECRET = 'shh-its-a-secret'
const CRED: Credential = { id: 'cred-h', consumer: { id: ALICE.id }, username: 'al', secret: SECRET }
const JORG: Credential = { id: 'cred-j', consumer: { id: ALICE.id }, username: 'jörg', secret: SECRET }
const creds = { 'hmacauth_credentials.username': { al: CRED, jörg: JORG } }

const sign = (alg: string, data: string, secret = SECRET): string =>
  createHmac(alg.replace('hmac-', ''), secret).update(data).digest('base64')
const header = (user: string, alg: string, headers: string, sig: string): string =>
  `hmac username="${user}", algorithm="${alg}", headers="${headers}", signature="${sig}"`

interface Req {
  method?: string
  path?: string
  version?: string
  headers?: Record<string, string>
  body?: string
}

function run(conf: Partial<HmacAuthConfig>, req: Req, before?: (kong: Pdk) => void) {
  const { kong, rec } = fakePdk({ consumers: [ALICE, ANON], credentials: creds, headers: req.headers ?? {}, method: req.method ?? 'GET' })
  Object.assign((kong as unknown as { request: object }).request, {
    getPathWithQuery: () => req.path ?? '/request',
    getHttpVersion: () => req.version ?? '1.1',
    getRawBody: async () => Buffer.from(req.body ?? ''),
  })
  before?.(kong)
  const done = hmacAuthAccess(kong as Pdk, prepareHmacAuth({ ...DEFAULTS, ...conf }))
  return Promise.resolve(done).then(() => rec)
}

/** A request signed over `date` and the request line with `alg`. */
function signed(alg = 'hmac-sha256', extra: Record<string, string> = {}): Req {
  const date = new Date().toUTCString()
  const sig = sign(alg, `date: ${date}\nGET /request HTTP/1.1`)
  return { headers: { date, authorization: header('al', alg, 'date request-line', sig), ...extra } }
}

describe('hmac-auth: plugin definition', () => {
  test("Kong's name, priority, scope and defaults", () => {
    assert.equal(hmacAuth.name, 'hmac-auth')
    assert.equal(hmacAuth.priority, 1030)
    assert.equal(hmacAuth.schema.no_consumer, true)
    const c = hmacAuth.schema.config as Record<string, { default?: unknown; required?: boolean; gt?: number }>
    assert.equal(c['hide_credentials']?.default, false)
    assert.equal(c['clock_skew']?.default, 300)
    assert.equal(c['clock_skew']?.gt, 0)
    assert.equal(c['validate_request_body']?.default, false)
    assert.deepEqual(c['enforce_headers']?.default, [])
    assert.deepEqual(c['algorithms']?.default, ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'])
    assert.equal(c['realm']?.default, undefined)
    assert.equal(hmacAuth.entities?.[0]?.name, 'hmacauth_credentials')
  })
})

describe('hmac-auth: parseHmacHeader', () => {
  test('the four parameters, with or without spaces between them, [Hh]mac, text before it', () => {
    const want = { username: 'bob', algorithm: 'hmac-sha1', headers: ['date', 'request-line'], signature: 'c2ln' }
    assert.deepEqual(parseHmacHeader('hmac username="bob",algorithm="hmac-sha1",headers="date request-line",signature="c2ln"'), want)
    assert.deepEqual(parseHmacHeader('Hmac username="bob",  algorithm="hmac-sha1",\t headers="date request-line", signature="c2ln"'), want)
    assert.deepEqual(parseHmacHeader('"hmac username="bob", algorithm="hmac-sha1", headers="date request-line", signature="c2ln"'), want)
  })
  test("greedy like Kong's regex: the last separators win, the signature runs to the last quote", () => {
    const p = parseHmacHeader('hmac username="a", algorithm="x", algorithm="hmac-sha1", headers="date", signature="s"tail"')
    assert.deepEqual(p, { username: 'a", algorithm="x', algorithm: 'hmac-sha1', headers: ['date'], signature: 's"tail' })
    // overlapping separators are found too
    const q = parseHmacHeader('hmac username="u", algorithm="a", headers="h",signature=",signature="s"')
    assert.deepEqual(q, { username: 'u', algorithm: 'a', headers: ['h",signature='], signature: 's' })
  })
  test("headers split on single spaces, as Kong's split", () => {
    assert.deepEqual(parseHmacHeader('hmac username="u", algorithm="a", headers="a  b ", signature="s"')?.headers, ['a', '', 'b', ''])
    assert.deepEqual(parseHmacHeader('hmac username="u", algorithm="a", headers=" ", signature="s"')?.headers, [''])
  })
  test('not matching: missing or empty parts, other schemes, non-ASCII white space', () => {
    for (const bad of [
      'hmac username',
      'hmac username="bob"',
      'hmac username="", algorithm="a", headers="h", signature="s"',
      'hmac username="u", algorithm="a", headers="h", signature=""',
      'hmac username="u", algorithm="a", signature="s"',
      'hmac username="u", algorithm="a", headers="h", signatures="s"',
      'Basic dXNlcjpwYXNz',
      'hmac\u00a0username="u", algorithm="a", headers="h", signature="s"',
    ]) {
      assert.equal(parseHmacHeader(bad), null, bad)
    }
  })
  test('a long hostile header is read in linear time', () => {
    const evil = `hmac username="${'",algorithm="'.repeat(20_000)}`
    const t0 = performance.now()
    assert.equal(parseHmacHeader(evil), null)
    assert.ok(performance.now() - t0 < 500)
  })
})

describe('hmac-auth: decodeSignature (ngx.decode_base64)', () => {
  test('standard base64, padding optional, anything after "=" ignored', () => {
    assert.deepEqual(decodeSignature('aGk='), Buffer.from('hi'))
    assert.deepEqual(decodeSignature('aGk'), Buffer.from('hi'))
    assert.deepEqual(decodeSignature('aGk=garbage!!'), Buffer.from('hi'))
  })
  test('refused: characters outside the alphabet, a length of 4n+1', () => {
    assert.equal(decodeSignature('not really a base64 encoded value!!!'), null)
    assert.equal(decodeSignature('aGk-'), null)
    assert.equal(decodeSignature('aGkaa'), null)
  })
})

describe('hmac-auth: signingString', () => {
  const req = (headers: Record<string, string>, version = '1.1') => ({
    method: 'GET',
    pathWithQuery: '/request?a=1',
    httpVersion: version,
    header: (n: string) => headers[n.toLowerCase()],
  })
  test('name: value lines, in the order listed, the name as listed', () => {
    assert.equal(signingString(req({ date: 'D', 'content-md5': 'm' }), ['Date', 'content-md5']), 'Date: D\ncontent-md5: m')
  })
  test('request-line and @request-target; an absent header is "name:"', () => {
    assert.equal(signingString(req({}), ['request-line']), 'GET /request?a=1 HTTP/1.1')
    assert.equal(signingString(req({}, '1.0'), ['request-line']), 'GET /request?a=1 HTTP/1.0')
    assert.equal(signingString(req({}, '2'), ['request-line']), 'GET /request?a=1 HTTP/2.0')
    assert.equal(signingString(req({}), ['@request-target']), '@request-target: get /request?a=1')
    assert.equal(signingString(req({}), ['x-missing', '']), 'x-missing:\n:')
  })
})

describe('hmac-auth: access handler', () => {
  test('each algorithm authenticates; X-Credential-Identifier is the username', async () => {
    for (const alg of ['hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512']) {
      const rec = await run({}, signed(alg))
      assert.equal(rec.exit, null, alg)
      assert.equal(rec.consumer, ALICE)
      assert.equal(rec.credential, CRED)
      assert.equal(rec.upstream.get('x-consumer-id'), ALICE.id)
      assert.equal(rec.upstream.get('x-credential-identifier'), 'al')
      assert.equal(rec.upstream.get('x-anonymous-consumer'), null)
    }
  })

  test('a UTF-8 username (sent as bytes) finds its credential', async () => {
    const date = new Date().toUTCString()
    const wire = Buffer.from('jörg', 'utf8').toString('latin1')
    const rec = await run({}, { headers: { date, authorization: header(wire, 'hmac-sha1', 'date', sign('hmac-sha1', `date: ${date}`)) } })
    assert.equal(rec.exit, null)
    assert.equal(rec.credential, JORG)
    assert.equal(rec.upstream.get('x-credential-identifier'), 'jörg')
  })

  test("failures in Kong's order, each with Kong's message and the reason logged", async () => {
    const date = new Date().toUTCString()
    const cases: [Req, string, RegExp][] = [
      [{}, 'Unauthorized', /no Authorization or Proxy-Authorization header/],
      [{ headers: { authorization: 'hmac x' } }, DATE_REQUIRED, /no X-Date header; no Date header/],
      [{ headers: { authorization: 'hmac x', date: 'wrong date' } }, DATE_REQUIRED, /Date "wrong date" is not an HTTP date/],
      [
        { headers: { authorization: 'hmac x', date: 'Sun, 06 Nov 1994 08:49:37 GMT' } },
        DATE_REQUIRED,
        /Date "Sun, 06 Nov 1994 08:49:37 GMT" is \d+ s away from the gateway's clock \(clock_skew 300\)/,
      ],
      [{ headers: { authorization: 'hmac username', date } }, SIGNATURE_NOT_VALID, /the Authorization header is not 'hmac username=/],
      [
        { headers: { authorization: header('al', 'hmac-sha', 'date', 'x'), date } },
        SIGNATURE_NOT_VALID,
        /algorithm "hmac-sha" not supported/,
      ],
      [
        { headers: { authorization: header('nobody', 'hmac-sha1', 'date', 'x'), date } },
        SIGNATURE_NOT_VALID,
        /no hmac-auth credential has the username "nobody"/,
      ],
      [
        { headers: { authorization: header('al', 'hmac-sha1', 'date', 'not base64!!'), date } },
        SIGNATURE_NOT_SAME,
        /signature for the username "al" is not base64/,
      ],
      [
        { headers: { authorization: header('al', 'hmac-sha1', 'date', sign('hmac-sha1', `date: ${date}`, 'other')), date } },
        SIGNATURE_NOT_SAME,
        /the hmac-sha1 signature of the headers "date" does not match the secret of the username "al"/,
      ],
    ]
    for (const [req, message, why] of cases) {
      const rec = await run({ realm: 'test-realm' }, req)
      assert.deepEqual(rec.exit, { status: 401, message, headers: { 'WWW-Authenticate': 'hmac realm="test-realm"' } }, why.source)
      const line = rec.logs.find((l) => l.level === 'notice')?.text ?? ''
      assert.ok(line.startsWith(`401 "${message}" on route "my-route" (r-1): `), line)
      assert.match(line, why)
      assert.ok(!line.includes(SECRET))
    }
    assert.equal((await run({}, {})).exit?.headers?.['WWW-Authenticate'], 'hmac')
  })

  test('X-Date is tried first, Date second; either within clock_skew will do', async () => {
    const date = new Date().toUTCString()
    const sig = sign('hmac-sha1', `x-date: wrong date`)
    const rec = await run({}, { headers: { 'x-date': 'wrong date', date, authorization: header('al', 'hmac-sha1', 'x-date', sig) } })
    assert.equal(rec.exit, null)
    const old = new Date(Date.now() - 100_000).toUTCString()
    assert.equal((await run({ clock_skew: 50 }, { headers: { date: old, authorization: 'x' } })).exit?.message, DATE_REQUIRED)
    assert.notEqual((await run({ clock_skew: 500 }, { headers: { date: old, authorization: 'x' } })).exit?.message, DATE_REQUIRED)
  })

  test('Proxy-Authorization first; Authorization only when it names no username', async () => {
    const ok = signed('hmac-sha1')
    const good = ok.headers?.['authorization'] as string
    const viaProxy = await run({}, { headers: { ...ok.headers, authorization: 'hello', 'proxy-authorization': good } })
    assert.equal(viaProxy.exit, null)
    const fallback = await run({}, { headers: { ...ok.headers, 'proxy-authorization': 'hmac username' } })
    assert.equal(fallback.exit, null)
    // a parsable Proxy-Authorization is used even when wrong: Authorization is not tried
    const wrongProxy = await run(
      {},
      { headers: { ...ok.headers, 'proxy-authorization': good.replace(/signature="[^"]*"/, 'signature="AAAA"') } },
    )
    assert.equal(wrongProxy.exit?.message, SIGNATURE_NOT_SAME)
  })

  test("hide_credentials removes the header read (Kong's rule), and only that one", async () => {
    const ok = signed()
    const a = await run({ hide_credentials: true }, ok)
    assert.equal(a.upstream.get('authorization'), null)
    assert.equal(a.upstream.has('proxy-authorization'), false)
    const p = await run(
      { hide_credentials: true },
      { headers: { ...ok.headers, 'proxy-authorization': ok.headers?.['authorization'] as string, authorization: 'hello' } },
    )
    assert.equal(p.upstream.get('proxy-authorization'), null)
    assert.equal(p.upstream.has('authorization'), false)
    assert.equal((await run({}, ok)).upstream.has('authorization'), false)
  })

  test('enforce_headers: every one must be signed', async () => {
    const rec = await run({ enforce_headers: ['date', 'request-line', 'digest'] }, signed())
    assert.equal(rec.exit?.message, SIGNATURE_NOT_VALID)
    assert.match(rec.logs[0]?.text ?? '', /enforced header "digest" not used for signature creation/)
    assert.equal((await run({ enforce_headers: ['date', 'request-line'] }, signed())).exit, null)
  })

  test('algorithms limits what is accepted', async () => {
    const rec = await run({ algorithms: ['hmac-sha1'] }, signed('hmac-sha512'))
    assert.equal(rec.exit?.message, SIGNATURE_NOT_VALID)
    assert.match(rec.logs[0]?.text ?? '', /algorithm "hmac-sha512" not supported \(config\.algorithms: hmac-sha1\)/)
  })

  test('validate_request_body: Digest must be the SHA-256 of the body; no Digest needs no body', async () => {
    const body = '{"a":"apple","b":"ball"}'
    const digest = `SHA-256=${createHash('sha256').update(body).digest('base64')}`
    const base = signed()
    assert.equal((await run({ validate_request_body: true }, { ...base, body, headers: { ...base.headers, digest } })).exit, null)
    assert.equal((await run({ validate_request_body: true }, base)).exit, null)
    const missing = await run({ validate_request_body: true }, { ...base, body })
    assert.equal(missing.exit?.message, SIGNATURE_NOT_SAME)
    assert.match(missing.logs[0]?.text ?? '', /no Digest header, and the body is not empty/)
    const tampered = await run({ validate_request_body: true }, { ...base, body: `${body} `, headers: { ...base.headers, digest } })
    assert.equal(tampered.exit?.message, SIGNATURE_NOT_SAME)
    assert.match(tampered.logs[0]?.text ?? '', /the Digest header is not the body's SHA-256/)
  })

  test('anonymous: a failure continues as that consumer; an authenticated request is left alone', async () => {
    const rec = await run({ anonymous: ANON.username }, {})
    assert.equal(rec.exit, null)
    assert.equal(rec.consumer, ANON)
    assert.equal(rec.upstream.get('x-anonymous-consumer'), 'true')
    assert.match(rec.logs[0]?.text ?? '', /\(Unauthorized: no Authorization.*continuing as the anonymous consumer "anon"/)
    assert.equal((await run({ anonymous: 'nobody-at-all' }, {})).exit?.status, 500)
    const other: Credential = { id: 'key-1', consumer: { id: ALICE.id } }
    const already = await run({ anonymous: ANON.username }, {}, (kong) => kong.client.authenticate(ALICE, other))
    assert.equal(already.credential, other)
    assert.equal(already.upstream.size, 0)
  })

  test('bounds: a header too long, or listing too many headers, is refused unread', async () => {
    const date = new Date().toUTCString()
    const long = header('al', 'hmac-sha1', 'date', 'A'.repeat(MAX_AUTHORIZATION_LENGTH))
    const a = await run({}, { headers: { date, authorization: long } })
    assert.equal(a.exit?.message, SIGNATURE_NOT_VALID)
    assert.match(a.logs[0]?.text ?? '', /longer than 8192 characters/)
    const many = header('al', 'hmac-sha1', Array.from({ length: MAX_SIGNED_HEADERS + 1 }, () => 'date').join(' '), 'AAAA')
    const b = await run({}, { headers: { date, authorization: many } })
    assert.equal(b.exit?.message, SIGNATURE_NOT_VALID)
    assert.match(b.logs[0]?.text ?? '', /lists 101 headers \(at most 100 are read\)/)
  })
})
