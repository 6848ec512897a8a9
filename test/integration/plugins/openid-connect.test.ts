/**
 * openid-connect against the real gateway and a real OpenID provider stub on loopback: discovery,
 * JWKS caching (no provider call for cached keys), the provider rotating its signing key mid-test
 * (200 without a restart — the seed's "401 after the IdP rotated its certificate" does not
 * happen), an unknown kid refused after a refresh and the refresh rate limit, concurrent requests
 * sharing one refresh, claim checks (expiry, audience, scopes) with their explaining log lines,
 * consumer mapping, upstream headers from claims, anonymous, hide_credentials, display_errors,
 * run_on_preflight, and a provider that is down or fails once.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { call, startTestGateway, type TestGateway } from '../../helpers/gateway.js'
import { closedPort } from '../../helpers/ports.js'
import { startOidcProvider, type OidcProvider } from '../../helpers/oidc-provider.js'
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js'
import { admin, settle } from '../proxy/helpers.js'

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

describe('openid-connect plugin', () => {
  let gw: TestGateway
  let up: TestUpstream
  let idp: OidcProvider
  let flaky: OidcProvider
  let deadIssuer: string
  let alice: { id: string }
  const tokens: string[] = []
  const bearer = (t: string): Record<string, string> => {
    tokens.push(t)
    return { authorization: `Bearer ${t}` }
  }

  before(async () => {
    up = await startUpstream()
    idp = await startOidcProvider()
    flaky = await startOidcProvider({ issuerPath: '/flaky' })
    deadIssuer = `http://127.0.0.1:${await closedPort()}/dead`
    // No access log: this file is about the error log (and the worker's access sink is not needed).
    gw = await startTestGateway()
    await admin(gw, '/services', { name: 'svc', url: up.url })
    for (const name of ['rot', 'claims', 'consumer', 'anon', 'hide', 'display', 'preflight', 'flaky', 'dead']) {
      await admin(gw, '/services/svc/routes', { name, paths: [`/${name}`] })
    }
    alice = (await admin(gw, '/consumers', { username: 'alice' })).body
    await admin(gw, '/consumers', { username: 'bob', custom_id: 'cust-7' })
    await admin(gw, '/consumers', { username: 'anon-user' })
    const issuer = idp.issuer
    await admin(gw, '/routes/rot/plugins', { name: 'openid-connect', config: { issuer, rediscovery_lifetime: 1 } })
    await admin(gw, '/routes/claims/plugins', {
      name: 'openid-connect',
      config: {
        issuer,
        audience_required: ['api'],
        scopes_required: ['read write', 'admin'],
        upstream_headers_claims: ['sub', 'email', 'roles'],
        upstream_headers_names: ['x-user', 'x-email', 'x-roles'],
      },
    })
    await admin(gw, '/routes/consumer/plugins', { name: 'openid-connect', config: { issuer, consumer_claim: ['preferred_username'] } })
    await admin(gw, '/routes/anon/plugins', { name: 'openid-connect', config: { issuer, anonymous: 'anon-user' } })
    await admin(gw, '/routes/hide/plugins', {
      name: 'openid-connect',
      config: { issuer, hide_credentials: true, bearer_token_param_type: ['header', 'query'] },
    })
    await admin(gw, '/routes/display/plugins', {
      name: 'openid-connect',
      config: { issuer, display_errors: true, unauthorized_error_message: 'Login required' },
    })
    await admin(gw, '/routes/preflight/plugins', { name: 'openid-connect', config: { issuer, run_on_preflight: false } })
    flaky.failNext('discovery', 1, 503)
    await admin(gw, '/routes/flaky/plugins', { name: 'openid-connect', config: { issuer: flaky.discoveryUrl } })
    await admin(gw, '/routes/dead/plugins', { name: 'openid-connect', config: { issuer: deadIssuer, timeout: 2000 } })
    await settle(gw)
  })
  after(async () => {
    await gw.stop()
    await up.close()
    await idp.close()
    await flaky.close()
  })

  test('key rotation: key A → 200; the provider rotates to key B → 200 without a restart; an unknown kid → 401 after a refresh; the refresh is rate-limited', async () => {
    const a = await call('GET', `${gw.proxyUrl}/rot/x`, undefined, bearer(idp.sign({ sub: 'u1' })))
    assert.equal(a.status, 200, a.text)
    assert.equal(a.body.headers['x-credential-identifier'], 'u1')
    assert.equal(a.body.headers['x-anonymous-consumer'], undefined)
    // Cached keys: more requests, no provider call.
    const jwksBefore = idp.hits.jwks
    for (let i = 0; i < 5; i++)
      assert.equal((await call('GET', `${gw.proxyUrl}/rot/x`, undefined, bearer(idp.sign({ sub: 'u1' })))).status, 200)
    assert.equal(idp.hits.jwks, jwksBefore, 'no JWKS request for a cached key')

    const oldKey = idp.current
    const b = idp.rotate() // the JWKS now publishes only key B
    const res = await call('GET', `${gw.proxyUrl}/rot/x`, undefined, bearer(idp.sign({ sub: 'u2' })))
    assert.equal(res.status, 200, res.text)
    assert.equal(idp.hits.jwks, jwksBefore + 1, 'exactly one JWKS refresh')
    await gw.waitForLog(
      new RegExp(
        `\\[openid-connect\\] loaded 1 signing key\\(s\\) for issuer .*unknown kid "${b.kid}", new: ${b.kid}, removed: ${oldKey.kid}`,
      ),
    )

    // A kid the provider never published: refreshed (the window of 1 s has passed), still unknown → 401.
    await sleep(1100)
    const stranger = idp.unpublishedKey()
    const unknown = await call('GET', `${gw.proxyUrl}/rot/x`, undefined, bearer(idp.sign({ sub: 'u3' }, { key: stranger })))
    assert.equal(unknown.status, 401)
    assert.equal(unknown.body.message, 'Unauthorized')
    assert.match(unknown.body.request_id, /^[0-9a-f]{32}$/)
    assert.equal(unknown.headers['www-authenticate'], `Bearer realm="127.0.0.1:${idp.port}", error="invalid_token"`)
    assert.equal(idp.hits.jwks, jwksBefore + 2)
    const line = await gw.waitForLog(new RegExp(`kid "${stranger.kid}" not found in JWKS after refresh`))
    assert.match(line, /\[notice\]/)
    assert.match(line, /\[openid-connect\] refused with 401 on route "rot" \([0-9a-f-]+\)/)
    assert.match(line, new RegExp(`JWKS kids: ${b.kid}`))
    assert.match(line, /request_id: "[0-9a-f]{32}"/)

    // Right after: another unknown kid (or the removed key A) does not reach the provider again.
    const again = await call('GET', `${gw.proxyUrl}/rot/x`, undefined, bearer(idp.sign({ sub: 'u4' }, { key: oldKey })))
    assert.equal(again.status, 401)
    assert.equal(idp.hits.jwks, jwksBefore + 2, 'rate-limited: no JWKS request')
    await gw.waitForLog(
      new RegExp(
        `kid "${oldKey.kid}" not found in the cached JWKS .* not refreshed: the last refresh for an unknown kid was .* ago, next allowed in .* \\(rediscovery_lifetime 1 s\\)`,
      ),
    )
  })

  test('concurrent requests with a new key share one JWKS refresh (EC key this time); cached keys never wait on it', async () => {
    await sleep(1100) // past the previous refresh's rate-limit window
    const cachedToken = idp.sign({ sub: 'cached' }) // signed with the key the gateway has cached
    idp.rotate({ alg: 'ES256' })
    idp.setJwksDelay(800)
    const before = idp.hits.jwks
    try {
      const ends: number[] = []
      const pending = Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          call('GET', `${gw.proxyUrl}/rot/c${i}`, undefined, bearer(idp.sign({ sub: `c${i}` }))).then((r) => {
            ends.push(performance.now())
            return r
          }),
        ),
      )
      // While that refresh waits on the slow provider, a token with a cached key is not held up.
      await sleep(100)
      const cached = await call('GET', `${gw.proxyUrl}/rot/cached`, undefined, bearer(cachedToken))
      const cachedEnd = performance.now()
      assert.equal(cached.status, 200)
      const results = await pending
      assert.deepEqual(
        results.map((r) => r.status),
        Array(8).fill(200),
      )
      assert.ok(cachedEnd < Math.min(...ends), 'the cached-key request finished before the refresh it did not need')
    } finally {
      idp.setJwksDelay(0)
    }
    assert.equal(idp.hits.jwks, before + 1, 'one refresh for all eight')
  })

  test('no token → 401 Unauthorized with a bare Bearer challenge; the log names the places looked in', async () => {
    const res = await call('GET', `${gw.proxyUrl}/claims/x`)
    assert.equal(res.status, 401)
    assert.equal(res.body.message, 'Unauthorized')
    assert.equal(res.headers['www-authenticate'], `Bearer realm="127.0.0.1:${idp.port}"`)
    const line = await gw.waitForLog(
      /\[openid-connect\] refused with 401 on route "claims" \([0-9a-f-]+\): no bearer token found \(looked in the Authorization header \(Bearer\), the access_token query argument, the access_token body field\)/,
    )
    assert.match(line, /\[notice\]/)
    // Another scheme in Authorization is not a bearer token.
    const basic = await call('GET', `${gw.proxyUrl}/claims/x`, undefined, { authorization: 'Basic dXNlcjpwdw==' })
    assert.equal(basic.status, 401)
  })

  test('claims: expired, not yet valid, wrong audience, missing scopes, wrong issuer — each refused and explained', async () => {
    const now = Math.floor(Date.now() / 1000)
    const good = { aud: 'api', scope: 'openid read write' }

    const expired = await call('GET', `${gw.proxyUrl}/claims/x`, undefined, bearer(idp.sign({ ...good, exp: now - 120 })))
    assert.equal(expired.status, 401)
    assert.equal(expired.headers['www-authenticate'], `Bearer realm="127.0.0.1:${idp.port}", error="invalid_token"`)
    await gw.waitForLog(
      new RegExp(
        `refused with 401 on route "claims" \\([0-9a-f-]+\\): token expired at .* \\(exp=${now - 120}, 1[12][0-9] s ago, leeway 0 s\\)`,
      ),
    )

    const early = await call('GET', `${gw.proxyUrl}/claims/x`, undefined, bearer(idp.sign({ ...good, nbf: now + 600 })))
    assert.equal(early.status, 401)
    await gw.waitForLog(/token not valid before .* \(nbf=\d+, \d+ s from now/)

    const aud = await call('GET', `${gw.proxyUrl}/claims/x`, undefined, bearer(idp.sign({ ...good, aud: ['other'] })))
    assert.equal(aud.status, 403)
    assert.equal(aud.body.message, 'Forbidden')
    assert.equal(aud.headers['www-authenticate'], `Bearer realm="127.0.0.1:${idp.port}", error="insufficient_scope"`)
    await gw.waitForLog(
      /refused with 403 on route "claims" \([0-9a-f-]+\): token audience \["other"\] does not match the required audience api \(missing: api\)/,
    )

    const scopes = await call('GET', `${gw.proxyUrl}/claims/x`, undefined, bearer(idp.sign({ ...good, scope: 'openid read' })))
    assert.equal(scopes.status, 403)
    await gw.waitForLog(/token scopes \["openid","read"\] do not include the required scopes read AND write OR admin \(missing: write\)/)
    // The other alternative of scopes_required: admin alone.
    assert.equal((await call('GET', `${gw.proxyUrl}/claims/x`, undefined, bearer(idp.sign({ aud: 'api', scope: 'admin' })))).status, 200)

    const iss = await call('GET', `${gw.proxyUrl}/claims/x`, undefined, bearer(idp.sign({ ...good, iss: 'https://elsewhere.example' })))
    assert.equal(iss.status, 401)
    await gw.waitForLog(new RegExp(`token issuer "https://elsewhere.example" is not allowed \\(expected "${idp.issuer}"\\)`))
  })

  test('signature, algorithm and format failures are 401 with the reason logged', async () => {
    // Signed by a key that is not the provider's, but claiming the current kid.
    const forged = idp.sign({ aud: 'api', scope: 'admin' }, { key: idp.unpublishedKey(idp.current.alg), kid: idp.current.kid })
    const res = await call('GET', `${gw.proxyUrl}/claims/x`, undefined, bearer(forged))
    assert.equal(res.status, 401)
    await gw.waitForLog(/refused with 401 on route "claims" \([0-9a-f-]+\): token signature verification failed \(key from the JWKS of /)

    const [h, p] = idp.sign({ aud: 'api' }).split('.')
    const none = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${p}.`
    assert.equal((await call('GET', `${gw.proxyUrl}/claims/x`, undefined, bearer(none))).status, 401)
    await gw.waitForLog(/token algorithm "none" is not accepted/)
    assert.ok(h !== undefined)

    assert.equal((await call('GET', `${gw.proxyUrl}/claims/x`, undefined, bearer('opaque-token-value'))).status, 401)
    await gw.waitForLog(/bearer token is not a signed JWT \(JWS compact form\) \(token sha256:[0-9a-f]{8}, from the Authorization header/)
  })

  test('a valid token reaches the upstream with claims as headers; forged claim headers are removed', async () => {
    const res = await call('GET', `${gw.proxyUrl}/claims/x`, undefined, {
      ...bearer(idp.sign({ sub: 'user-42', aud: ['api', 'other'], scope: 'read write', roles: ['r1', 'r2'] })),
      'x-email': 'forged@example.com',
    })
    assert.equal(res.status, 200, res.text)
    const h = res.body.headers
    assert.equal(h['x-user'], 'user-42')
    assert.equal(h['x-email'], undefined, 'a claim the token lacks clears the client-sent header')
    assert.equal(Buffer.from(h['x-roles'], 'base64').toString(), '["r1","r2"]')
    assert.match(h['authorization'], /^Bearer /, 'hide_credentials=false passes the token on')
    assert.equal(h['x-consumer-id'], undefined)
  })

  test('consumer mapping by claim: username, then custom_id; an unknown consumer is 403', async () => {
    const byName = await call('GET', `${gw.proxyUrl}/consumer/x`, undefined, bearer(idp.sign({ preferred_username: 'alice' })))
    assert.equal(byName.status, 200, byName.text)
    assert.equal(byName.body.headers['x-consumer-id'], alice.id)
    assert.equal(byName.body.headers['x-consumer-username'], 'alice')
    const byCustom = await call('GET', `${gw.proxyUrl}/consumer/x`, undefined, bearer(idp.sign({ preferred_username: 'cust-7' })))
    assert.equal(byCustom.status, 200)
    assert.equal(byCustom.body.headers['x-consumer-username'], 'bob')
    assert.equal(byCustom.body.headers['x-consumer-custom-id'], 'cust-7')
    const nobody = await call('GET', `${gw.proxyUrl}/consumer/x`, undefined, bearer(idp.sign({ preferred_username: 'nobody' })))
    assert.equal(nobody.status, 403)
    assert.equal(nobody.body.message, 'Forbidden')
    await gw.waitForLog(
      /refused with 403 on route "consumer" \([0-9a-f-]+\): no consumer with username or custom_id "nobody" \(from claim "preferred_username"\)/,
    )
  })

  test('anonymous: a refused request continues as the anonymous consumer', async () => {
    const res = await call('GET', `${gw.proxyUrl}/anon/x`)
    assert.equal(res.status, 200)
    assert.equal(res.body.headers['x-consumer-username'], 'anon-user')
    assert.equal(res.body.headers['x-anonymous-consumer'], 'true')
    await gw.waitForLog(/route "anon" \([0-9a-f-]+\): no bearer token found .*; continuing as the anonymous consumer "anon-user"/)
    const ok = await call('GET', `${gw.proxyUrl}/anon/x`, undefined, bearer(idp.sign({ sub: 's' })))
    assert.equal(ok.status, 200)
    assert.equal(ok.body.headers['x-anonymous-consumer'], undefined)
  })

  test('hide_credentials removes the token from the header or the query string', async () => {
    const t = idp.sign({ sub: 'h' })
    tokens.push(t)
    const viaQuery = await call('GET', `${gw.proxyUrl}/hide/x?a=1&access_token=${t}`)
    assert.equal(viaQuery.status, 200, viaQuery.text)
    assert.equal(viaQuery.body.url, '/x?a=1')
    const viaHeader = await call('GET', `${gw.proxyUrl}/hide/x`, undefined, bearer(t))
    assert.equal(viaHeader.status, 200)
    assert.equal(viaHeader.body.headers['authorization'], undefined)
    // body is not a configured source on this route
    const viaBody = await call('POST', `${gw.proxyUrl}/hide/x`, `access_token=${t}`, {
      'content-type': 'application/x-www-form-urlencoded',
    })
    assert.equal(viaBody.status, 401)
  })

  test('a token in a form body is accepted when body is a source', async () => {
    const res = await call('POST', `${gw.proxyUrl}/anon/x`, `access_token=${idp.sign({ sub: 'body-user' })}&x=1`, {
      'content-type': 'application/x-www-form-urlencoded',
    })
    assert.equal(res.status, 200)
    assert.equal(res.body.headers['x-credential-identifier'], 'body-user')
  })

  test('display_errors puts the reason in the message and error_description; custom messages', async () => {
    const res = await call('GET', `${gw.proxyUrl}/display/x`, undefined, bearer(idp.sign({ exp: Math.floor(Date.now() / 1000) - 5 })))
    assert.equal(res.status, 401)
    assert.match(res.body.message, /^Login required \(token expired at .*\)$/)
    assert.match(
      String(res.headers['www-authenticate']),
      /^Bearer realm="[^"]+", error="invalid_token", error_description="token expired at /,
    )
  })

  test('run_on_preflight=false lets OPTIONS through without a token', async () => {
    assert.equal((await call('OPTIONS', `${gw.proxyUrl}/preflight/x`)).status, 200)
    assert.equal((await call('GET', `${gw.proxyUrl}/preflight/x`)).status, 401)
  })

  test('discovery that failed once is retried; the issuer may be given as the discovery URL', async () => {
    await gw.waitForLog(
      /\[error\].*\[openid-connect\] loading keys for issuer .*\/flaky\/\.well-known\/openid-configuration failed: GET .* answered HTTP 503/,
    )
    await sleep(300) // the first back-off step
    const res = await call('GET', `${gw.proxyUrl}/flaky/x`, undefined, bearer(flaky.sign({ sub: 'f' })))
    assert.equal(res.status, 200, res.text)
    assert.equal(flaky.hits.discovery, 2)
  })

  test('a provider that cannot be reached → 500 and an error-log line saying why', async () => {
    const res = await call('GET', `${gw.proxyUrl}/dead/x`, undefined, bearer(idp.sign({ sub: 'd' })))
    assert.equal(res.status, 500)
    assert.equal(res.body.message, 'An unexpected error occurred')
    await gw.waitForLog(
      /\[error\].*\[openid-connect\] cannot verify tokens on route "dead" \([0-9a-f-]+\): loading keys for issuer .*\/dead failed: GET .* failed: .*ECONNREFUSED/,
    )
  })

  test('config validation: issuer required and an http(s) URL; claim/header lists of equal length; Kong defaults filled in', async () => {
    const missing = await call('POST', `${gw.adminUrl}/plugins`, { name: 'openid-connect', config: {} })
    assert.equal(missing.status, 400)
    assert.equal(missing.body.fields.config.issuer, 'required field missing')
    const bad = await call('POST', `${gw.adminUrl}/plugins`, { name: 'openid-connect', config: { issuer: 'ftp://x' } })
    assert.equal(bad.status, 400)
    assert.equal(bad.body.fields.config.issuer, 'must be an http or https URL')
    const uneven = await call('POST', `${gw.adminUrl}/plugins`, {
      name: 'openid-connect',
      config: { issuer: idp.issuer, upstream_headers_claims: ['a', 'b'], upstream_headers_names: ['x-a'] },
    })
    assert.equal(uneven.status, 400, uneven.text)
    assert.match(uneven.text, /upstream_headers_claims and upstream_headers_names must have the same number of elements/)
    const ok = await call('POST', `${gw.adminUrl}/schemas/plugins/validate`, { name: 'openid-connect', config: { issuer: idp.issuer } })
    assert.equal(ok.status, 200, ok.text)
    const rot = await call('GET', `${gw.adminUrl}/routes/rot/plugins`)
    const conf = rot.body.data[0].config
    assert.deepEqual(conf.consumer_by, ['username', 'custom_id'])
    assert.deepEqual(conf.bearer_token_param_type, ['header', 'query', 'body'])
    assert.deepEqual(conf.scopes_claim, ['scope'])
    assert.equal(conf.run_on_preflight, true)
    assert.equal(conf.unauthorized_error_message, 'Unauthorized')
  })

  test('no token ever reaches the error log', () => {
    const log = gw.errorLog()
    for (const t of tokens) assert.ok(!log.includes(t), 'a token was logged')
    for (const t of tokens) {
      const sig = t.split('.')[2] ?? ''
      if (sig.length >= 16) assert.ok(!log.includes(sig), 'a token signature was logged')
    }
    assert.ok(tokens.length > 20)
  })
})
