/**
 * The jwt plugin against the real gateway: consumers and jwt credentials created over the Admin
 * API, tokens signed at test time with jose for every algorithm Kong 3.9 supports (keys generated
 * here), and each of Kong's refusals with its exact status, body and WWW-Authenticate, plus the
 * error-log line that explains it without the token.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync, type KeyObject } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import { SignJWT, type JWTPayload } from 'jose'
import { call, eventually, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'

type Alg = 'HS256' | 'HS384' | 'HS512' | 'RS256' | 'RS384' | 'RS512' | 'ES256' | 'ES384' | 'ES512' | 'PS256' | 'PS384' | 'PS512' | 'EdDSA'
const ALGS: readonly Alg[] = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
]

interface Pair {
  readonly privateKey: KeyObject
  readonly pem: string
}
function pair(kind: 'rsa' | 'ec' | 'ed25519', curve?: string): Pair {
  const { privateKey, publicKey } =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : kind === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: curve ?? 'P-256' })
        : generateKeyPairSync('ed25519')
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }
}

const HS_SECRET = 'alice-hmac-secret-0123456789abcdef0123456789abcdef0123456789abcdef'
const now = (): number => Math.floor(Date.now() / 1000)

describe('jwt plugin', () => {
  let gw: TestGateway
  let up: TestUpstream
  let aliceId: string
  const keys = new Map<Alg, Pair>()
  const otherKeys = new Map<Alg, Pair>()

  async function sign(
    alg: Alg,
    claims: JWTPayload,
    opts: { key?: KeyObject | Uint8Array; header?: Record<string, unknown> } = {},
  ): Promise<string> {
    const key = opts.key ?? (alg.startsWith('HS') ? new TextEncoder().encode(HS_SECRET) : (keys.get(alg) as Pair).privateKey)
    return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', ...opts.header }).sign(key)
  }
  const get = (path: string, headers: Record<string, string> = {}) => call('GET', `${gw.proxyUrl}${path}`, undefined, headers)
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` })
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await call(method, `${gw.adminUrl}${path}`, body)
    assert.ok(res.status < 300, `${method} ${path} → ${res.status} ${res.text}`)
    return res.body
  }
  /** Kong's 401: exact body (no request_id) and WWW-Authenticate. */
  function refused(res: Awaited<ReturnType<typeof get>>, body: unknown, www: string | undefined): void {
    assert.equal(res.status, 401, res.text)
    assert.deepEqual(res.body, body)
    assert.equal(res.headers['www-authenticate'], www)
  }

  before(async () => {
    up = await startUpstream()
    gw = await startTestGateway()
    const rsa = pair('rsa')
    const ec: Record<string, Pair> = { ES256: pair('ec', 'P-256'), ES384: pair('ec', 'P-384'), ES512: pair('ec', 'P-521') }
    const ed = pair('ed25519')
    const rsa2 = pair('rsa')
    const ec2: Record<string, Pair> = { ES256: pair('ec', 'P-256'), ES384: pair('ec', 'P-384'), ES512: pair('ec', 'P-521') }
    const ed2 = pair('ed25519')
    for (const alg of ALGS) {
      if (alg.startsWith('HS')) continue
      keys.set(alg, alg.startsWith('ES') ? (ec[alg] as Pair) : alg === 'EdDSA' ? ed : rsa)
      otherKeys.set(alg, alg.startsWith('ES') ? (ec2[alg] as Pair) : alg === 'EdDSA' ? ed2 : rsa2)
    }

    await admin('POST', '/services', { name: 's1', url: up.url })
    await admin('POST', '/services', { name: 's2', url: up.url })
    const route = async (name: string, service: string, config?: Record<string, unknown>) => {
      await admin('POST', `/services/${service}/routes`, { name, paths: [`/${name}`] })
      if (config !== undefined) await admin('POST', `/routes/${name}/plugins`, { name: 'jwt', config })
    }
    await route('default', 's1', {})
    await route('claims', 's1', { claims_to_verify: ['exp', 'nbf'], realm: 'api' })
    await route('max', 's1', { claims_to_verify: ['exp'], maximum_expiration: 60 })
    await route('sources', 's1', {
      uri_param_names: ['token'],
      cookie_names: ['jwt_cookie'],
      header_names: ['x-jwt'],
      key_claim_name: 'kid',
    })
    await route('b64', 's1', { secret_is_base64: true })
    await route('anon', 's1', { anonymous: 'guest' })
    await route('preflight', 's1', { run_on_preflight: false })
    await route('anon-missing', 's1', { anonymous: 'nobody-here' })
    // Scope precedence: a service-level instance, overridden on one of its routes.
    await admin('POST', '/services/s2/plugins', { name: 'jwt', config: { realm: 'service-level' } })
    await route('inherits', 's2')
    await route('overrides', 's2', { realm: 'route-level' })

    aliceId = (await admin('POST', '/consumers', { username: 'alice', custom_id: 'crm-42' })).id as string
    await admin('POST', '/consumers', { username: 'bob' })
    await admin('POST', '/consumers', { username: 'guest' })
    for (const alg of ALGS) {
      const body: Record<string, unknown> = { key: `alice-${alg}`, algorithm: alg }
      if (alg.startsWith('HS')) body['secret'] = HS_SECRET
      else body['rsa_public_key'] = (keys.get(alg) as Pair).pem
      await admin('POST', '/consumers/alice/jwt', body)
    }
    await admin('POST', '/consumers/bob/jwt', {
      key: 'bob-b64',
      secret: Buffer.from('bob raw secret bytes \u0001\u0002').toString('base64'),
    })
    await admin('POST', '/consumers/bob/jwt', { key: 'bob-plain', secret: 'bob plain secret!' })

    // Configuration reaches the worker: the last route and credential answer.
    const probe = await sign('HS256', { iss: 'alice-HS256' })
    await eventually(
      async () => (await get('/overrides', bearer(probe))).status === 200 && (await get('/anon-missing')).status === 500,
      10_000,
      'jwt configuration in the worker',
    )
  })
  after(async () => {
    await gw?.stop()
    await up?.close()
  })

  test('a token signed with each algorithm authenticates its consumer', async () => {
    for (const alg of ALGS) {
      const token = await sign(alg, { iss: `alice-${alg}`, sub: 'x' })
      const res = await get('/default', { ...bearer(token), 'x-consumer-username': 'forged', 'x-anonymous-consumer': 'true' })
      assert.equal(res.status, 200, `${alg}: ${res.text}`)
      const h = res.body.headers as Record<string, string>
      assert.equal(h['x-consumer-id'], aliceId, alg)
      assert.equal(h['x-consumer-username'], 'alice', alg)
      assert.equal(h['x-consumer-custom-id'], 'crm-42', alg)
      assert.equal(h['x-credential-identifier'], `alice-${alg}`, alg)
      assert.equal(h['x-anonymous-consumer'], undefined, alg)
      // Kong's jwt plugin has no hide_credentials: the token goes upstream.
      assert.equal(h['authorization'], `Bearer ${token}`)
    }
  })

  test('a token signed with another key is refused with Invalid signature, for each family', async () => {
    for (const alg of ALGS) {
      const key = alg.startsWith('HS')
        ? new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret-0123456789')
        : (otherKeys.get(alg) as Pair).privateKey
      const token = await sign(alg, { iss: `alice-${alg}` }, { key })
      refused(await get('/default', bearer(token)), { message: 'Invalid signature' }, 'Bearer error="invalid_token"')
    }
    const line = await gw.waitForLog(/\[jwt\].*invalid EdDSA signature/)
    assert.match(line, /\[notice\]/)
    assert.match(line, /refused with 401 on route "default"/)
    assert.match(line, /credential "alice-EdDSA"/)
    assert.match(line, /token sha256:[0-9a-f]{8} from header 'authorization'/)
    assert.doesNotMatch(gw.errorLog(), /eyJ/, 'no token in the error log')
    assert.ok(!gw.errorLog().includes(HS_SECRET), 'no secret in the error log')
  })

  test('no token: 401 Unauthorized with a bare Bearer challenge; the log names where it looked', async () => {
    refused(await get('/default'), { message: 'Unauthorized' }, 'Bearer')
    await gw.waitForLog(
      /no JWT found in the request; looked in query parameter 'jwt'; header 'authorization' \(Bearer scheme\), client: 127\.0\.0\.1, server: kong, request: "GET \/default HTTP\/1\.1", host: "[^"]+", request_id/,
    )
    refused(await get('/default', { authorization: 'Basic YWxpY2U6cHc=' }), { message: 'Unauthorized' }, 'Bearer')
    await gw.waitForLog(/header 'authorization' present but not in the form 'Bearer <token>'/)
    refused(await get('/claims'), { message: 'Unauthorized' }, 'Bearer realm="api"')
  })

  test('query, header and cookie sources; duplicates and conflicts', async () => {
    const token = await sign('HS256', { iss: 'alice-HS256' })
    const other = await sign('HS256', { iss: 'alice-HS256', n: 1 })
    assert.equal((await get(`/default?jwt=${token}`)).status, 200)
    // The same token in two places is one token.
    assert.equal((await get(`/default?jwt=${token}`, bearer(token))).status, 200)
    refused(await get(`/default?jwt=${token}`, bearer(other)), { message: 'Multiple tokens provided' }, 'Bearer error="invalid_token"')
    refused(await get(`/default?jwt=${token}&jwt=${other}`), { message: 'Multiple tokens provided' }, 'Bearer error="invalid_token"')
    refused(await get('/default?jwt'), { message: 'Unrecognizable token' }, 'Bearer error="invalid_token"')
    // An empty value is no token at all.
    refused(await get('/default?jwt='), { message: 'Unauthorized' }, 'Bearer')
    // Lower-case scheme and extra spaces, as Kong's pattern.
    assert.equal((await get('/default', { authorization: `bearer   ${token}` })).status, 200)

    // Custom names; key_claim_name read from the token header when the payload lacks it.
    const kidToken = await sign('HS256', { sub: 'no-iss' }, { header: { kid: 'alice-HS256' } })
    assert.equal((await get(`/sources?token=${kidToken}`)).status, 200)
    assert.equal((await get('/sources', { cookie: `a=b; jwt_cookie=${kidToken}; c=d` })).status, 200)
    assert.equal((await get('/sources', { 'x-jwt': `Bearer ${kidToken}` })).status, 200)
    // authorization is not among this route's header_names.
    refused(await get('/sources', bearer(kidToken)), { message: 'Unauthorized' }, 'Bearer')
    refused(
      await get('/sources', { 'x-jwt': `Bearer ${token}` }),
      { message: "No mandatory 'kid' in claims" },
      'Bearer error="invalid_token"',
    )
  })

  test('malformed tokens, key claim and credential lookup', async () => {
    const www = 'Bearer error="invalid_token"'
    refused(await get('/default', bearer('not-a-jwt')), { message: 'Bad token; invalid JSON' }, www)
    refused(await get('/default', bearer('e30.e30.')), { message: 'Bad token; invalid alg' }, www)
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"iss":"alice-HS256"}').toString('base64url')}.`
    refused(await get('/default', bearer(none)), { message: 'Bad token; invalid alg' }, www)
    const arr = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('[1]').toString('base64url')}.x`
    refused(await get('/default', bearer(arr)), { message: 'Bad token; invalid claims' }, www)
    refused(await get('/default', bearer(await sign('HS256', { sub: 'x' }))), { message: "No mandatory 'iss' in claims" }, www)
    refused(await get('/default', bearer(await sign('HS256', { iss: '' }))), { message: "Invalid 'iss' in claims" }, www)
    refused(
      await get('/default', bearer(await sign('HS256', { iss: 'who-is-this' }))),
      { message: "No credentials found for given 'iss'" },
      www,
    )
    await gw.waitForLog(/no jwt credential has key "who-is-this" \(the token's 'iss'\)/)
    // The credential is HS256; the token HS512 with the same secret.
    refused(await get('/default', bearer(await sign('HS512', { iss: 'alice-HS256' }))), { message: 'Invalid algorithm' }, www)
    await gw.waitForLog(/is signed with HS512 but credential "alice-HS256" \(id [0-9a-f-]+\) expects HS256/)
  })

  test("claims_to_verify: exp and nbf, with Kong's claim error bodies and the realm", async () => {
    const www = 'Bearer realm="api" error="invalid_token"'
    const expired = now() - 3600
    refused(
      await get('/claims', bearer(await sign('HS256', { iss: 'alice-HS256', exp: expired, nbf: expired - 60 }))),
      { exp: 'token expired' },
      www,
    )
    const line = await gw.waitForLog(/fails claims_to_verify: exp token expired/)
    assert.ok(line.includes(`exp = ${expired} (`), line)
    assert.match(line, /s ago\)/)
    refused(
      await get('/claims', bearer(await sign('HS256', { iss: 'alice-HS256', exp: now() + 600, nbf: now() + 600 }))),
      { nbf: 'token not valid yet' },
      www,
    )
    refused(
      await get('/claims', bearer(await sign('HS256', { iss: 'alice-HS256' }))),
      { exp: 'must be a number', nbf: 'must be a number' },
      www,
    )
    assert.equal((await get('/claims', bearer(await sign('HS256', { iss: 'alice-HS256', exp: now() + 600, nbf: now() - 5 })))).status, 200)
    // Without claims_to_verify an expired token is accepted, as in Kong.
    assert.equal((await get('/default', bearer(await sign('HS256', { iss: 'alice-HS256', exp: expired })))).status, 200)
  })

  test('maximum_expiration: too distant or missing exp is refused; the schema requires exp', async () => {
    const www = 'Bearer error="invalid_token"'
    refused(
      await get('/max', bearer(await sign('HS256', { iss: 'alice-HS256', exp: now() + 3600 }))),
      { exp: 'exceeds maximum allowed expiration' },
      www,
    )
    await gw.waitForLog(/lives too long: exp = \d+ .*maximum_expiration is 60 s from now/)
    assert.equal((await get('/max', bearer(await sign('HS256', { iss: 'alice-HS256', exp: now() + 30 })))).status, 200)

    const bad = await call('POST', `${gw.adminUrl}/plugins`, { name: 'jwt', config: { maximum_expiration: 60, claims_to_verify: ['nbf'] } })
    assert.equal(bad.status, 400, bad.text)
    assert.equal(bad.body.name, 'schema violation')
    assert.equal(bad.body.fields.config.claims_to_verify, 'expected to contain: exp')
    const tooBig = await call('POST', `${gw.adminUrl}/plugins`, {
      name: 'jwt',
      config: { maximum_expiration: 31536001, claims_to_verify: ['exp'] },
    })
    assert.equal(tooBig.status, 400)
    assert.equal(tooBig.body.fields.config.maximum_expiration, 'value should be between 0 and 31536000')
    const badClaim = await call('POST', `${gw.adminUrl}/plugins`, { name: 'jwt', config: { claims_to_verify: ['iat'] } })
    assert.equal(badClaim.status, 400)
    assert.deepEqual(badClaim.body.fields.config.claims_to_verify, ['expected one of: exp, nbf'])
  })

  test('defaults as Kong 3.9, and jwt cannot be scoped to a consumer', async () => {
    const list = await call('GET', `${gw.adminUrl}/routes/default/plugins`)
    assert.deepEqual(list.body.data[0].config, {
      uri_param_names: ['jwt'],
      cookie_names: [],
      key_claim_name: 'iss',
      secret_is_base64: false,
      claims_to_verify: null,
      anonymous: null,
      run_on_preflight: true,
      maximum_expiration: 0,
      header_names: ['authorization'],
      realm: null,
    })
    const onConsumer = await call('POST', `${gw.adminUrl}/consumers/alice/plugins`, { name: 'jwt' })
    assert.equal(onConsumer.status, 400)
    assert.equal(onConsumer.body.fields.consumer, 'value must be null')
  })

  test('secret_is_base64: the token is signed with the decoded secret', async () => {
    const raw = new TextEncoder().encode('bob raw secret bytes \u0001\u0002')
    const token = await sign('HS256', { iss: 'bob-b64' }, { key: raw })
    const res = await get('/b64', bearer(token))
    assert.equal(res.status, 200, res.text)
    assert.equal(res.body.headers['x-consumer-username'], 'bob')
    // Signed with the base64 text itself: wrong key.
    const asText = await sign('HS256', { iss: 'bob-b64' }, { key: new TextEncoder().encode(Buffer.from(raw).toString('base64')) })
    refused(await get('/b64', bearer(asText)), { message: 'Invalid signature' }, 'Bearer error="invalid_token"')
    // A secret that is not base64 cannot be used.
    refused(
      await get('/b64', bearer(await sign('HS256', { iss: 'bob-plain' }, { key: new TextEncoder().encode('bob plain secret!') }))),
      { message: 'Invalid key/secret' },
      'Bearer error="invalid_token"',
    )
  })

  test('anonymous: failures continue as the anonymous consumer, with the reason logged', async () => {
    const res = await get('/anon')
    assert.equal(res.status, 200)
    assert.equal(res.body.headers['x-consumer-username'], 'guest')
    assert.equal(res.body.headers['x-anonymous-consumer'], 'true')
    assert.equal(res.body.headers['x-credential-identifier'], undefined)
    const bad = await get(
      '/anon',
      bearer(await sign('HS256', { iss: 'alice-HS256' }, { key: new TextEncoder().encode('wrong-wrong-wrong-wrong-wrong-wrong') })),
    )
    assert.equal(bad.status, 200)
    assert.equal(bad.body.headers['x-consumer-username'], 'guest')
    await gw.waitForLog(/authentication failed on route "anon".*continuing as anonymous consumer "guest": .*invalid HS256 signature/)
    const good = await get('/anon', bearer(await sign('HS256', { iss: 'alice-HS256' })))
    assert.equal(good.body.headers['x-consumer-username'], 'alice')
    assert.equal(good.body.headers['x-anonymous-consumer'], undefined)
    // An anonymous consumer that does not exist is a configuration error: 500, explained.
    const missing = await get('/anon-missing')
    assert.equal(missing.status, 500)
    await gw.waitForLog(/anonymous consumer nobody-here is configured but doesn't exist/)
  })

  test('run_on_preflight false lets OPTIONS through without a token', async () => {
    const pre = await call('OPTIONS', `${gw.proxyUrl}/preflight`)
    assert.equal(pre.status, 200)
    assert.equal(pre.body.method, 'OPTIONS')
    refused(await get('/preflight'), { message: 'Unauthorized' }, 'Bearer')
    refused(await call('OPTIONS', `${gw.proxyUrl}/default`), { message: 'Unauthorized' }, 'Bearer')
  })

  test('scope precedence: a route-level instance overrides the service-level one', async () => {
    refused(await get('/inherits'), { message: 'Unauthorized' }, 'Bearer realm="service-level"')
    refused(await get('/overrides'), { message: 'Unauthorized' }, 'Bearer realm="route-level"')
  })
})
