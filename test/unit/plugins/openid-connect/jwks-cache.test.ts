import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { ProviderFetchError, discoveryUrl, configuredIssuer, type Discovery } from '../../../../src/plugins/openid-connect/discovery.js'
import { IssuerKeyStore, keyFits, parseJwks, type StoreOptions } from '../../../../src/plugins/openid-connect/jwks-cache.js'

const ISS = 'http://127.0.0.1:9/realms/t'
const OPTS: StoreOptions = { timeoutMs: 1000, cacheTtlMs: 60_000, rediscoveryMs: 30_000 }

function jwk(kid: string | undefined, type: 'rsa' | 'ec' = 'ec'): Record<string, unknown> {
  const { publicKey } =
    type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 1024 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const j = publicKey.export({ format: 'jwk' }) as Record<string, unknown>
  return kid === undefined ? j : { ...j, kid }
}

/** A fake provider: a JWKS that tests change, calls counted, optional failures and delay. */
function fakeProvider() {
  const state = {
    keys: [jwk('a')] as Record<string, unknown>[],
    discoveries: 0,
    jwksCalls: 0,
    failDiscovery: 0,
    failJwks: 0,
    delay: 0,
    now: 1000,
    logs: [] as string[],
  }
  const discover = async (issuer: string): Promise<Discovery> => {
    state.discoveries++
    if (state.failDiscovery > 0) {
      state.failDiscovery--
      throw new ProviderFetchError('GET discovery answered HTTP 503')
    }
    return { issuer, jwks_uri: `${issuer}/jwks` }
  }
  const fetchJson = async (): Promise<Record<string, unknown>> => {
    state.jwksCalls++
    if (state.delay > 0) await new Promise((r) => setTimeout(r, state.delay))
    if (state.failJwks > 0) {
      state.failJwks--
      throw new ProviderFetchError('GET jwks failed: ECONNREFUSED')
    }
    return { keys: state.keys }
  }
  const store = new IssuerKeyStore(ISS, OPTS, {
    now: () => state.now,
    discover,
    fetchJson,
    log: (level, m) => state.logs.push(`${level}: ${m}`),
  })
  return { state, store }
}

describe('openid-connect discovery URLs', () => {
  it('derives the discovery URL and the issuer from either form', () => {
    assert.equal(discoveryUrl('https://idp/realms/x/'), 'https://idp/realms/x/.well-known/openid-configuration')
    assert.equal(discoveryUrl('https://idp/x/.well-known/openid-configuration'), 'https://idp/x/.well-known/openid-configuration')
    assert.equal(configuredIssuer('https://idp/x/.well-known/openid-configuration'), 'https://idp/x')
  })
})

describe('openid-connect JWKS parsing', () => {
  it('keeps signature keys (public members only) and explains skipped ones', () => {
    const rsa = jwk('r', 'rsa')
    const { keys, skipped } = parseJwks({
      keys: [
        rsa,
        { ...jwk('enc'), use: 'enc' },
        { kty: 'oct', k: 'c2VjcmV0', kid: 'h' },
        { kty: 'EC', kid: 'bad', crv: 'P-999', x: 'AA', y: 'AA' },
        jwk(undefined),
      ],
    })
    assert.deepEqual(
      keys.map((k) => k.kid),
      ['r', undefined],
    )
    assert.equal(skipped.length, 3)
    assert.match(skipped.join('|'), /bad: not a valid EC key/)
    assert.match(skipped.join('|'), /enc: use "enc"/)
    assert.match(skipped.join('|'), /h: key type "oct"/)
    assert.ok(keys[0] !== undefined && keys[0].key.type === 'public')
    assert.throws(() => parseJwks({}), /no "keys" array/)
  })

  it('matches algorithms to key types and pinned algs', () => {
    const [ec] = parseJwks({ keys: [{ ...jwk('e'), alg: 'ES256' }] }).keys
    const [rsa] = parseJwks({ keys: [jwk('r', 'rsa')] }).keys
    assert.ok(ec !== undefined && rsa !== undefined)
    assert.equal(keyFits(ec, 'ES256'), true)
    assert.equal(keyFits(ec, 'ES384'), false)
    assert.equal(keyFits(ec, 'RS256'), false)
    assert.equal(keyFits(rsa, 'PS256'), true)
    assert.equal(keyFits(rsa, 'HS256'), false)
  })
})

describe('openid-connect key store', () => {
  it('shares one initial load between concurrent requests', async () => {
    const { state, store } = fakeProvider()
    state.delay = 20
    await Promise.all([store.ensureLoaded(), store.ensureLoaded(), store.ensureLoaded()])
    assert.equal(state.discoveries, 1)
    assert.equal(state.jwksCalls, 1)
    assert.ok(store.find('a'))
    await store.ensureLoaded() // cached: no provider call
    assert.equal(state.jwksCalls, 1)
  })

  it('backs off after a failed load, failing fast with the last error, then retries', async () => {
    const { state, store } = fakeProvider()
    state.failDiscovery = 1
    await assert.rejects(store.ensureLoaded(), /loading keys for issuer .* failed: GET discovery answered HTTP 503/)
    await assert.rejects(store.ensureLoaded(), /failed 1 time\(s\); next attempt in 0\.3 s/)
    assert.equal(state.discoveries, 1)
    state.now += 300
    await store.ensureLoaded()
    assert.equal(state.discoveries, 2)
    assert.ok(store.ready)
    assert.ok(state.logs.some((l) => l.startsWith('err: loading keys')))
  })

  it('refreshes once for an unknown kid, shared by concurrent callers, then rate-limits', async () => {
    const { state, store } = fakeProvider()
    await store.ensureLoaded()
    state.keys = [jwk('b')] // the provider rotated
    state.delay = 20
    const results = await Promise.all([store.refreshForKid('b'), store.refreshForKid('b'), store.refreshForKid('b')])
    assert.equal(state.jwksCalls, 2, 'the initial load does not count against the rate limit; one refresh served all three')
    for (const r of results) assert.ok(r.kind === 'refreshed' && r.found?.kid === 'b')
    assert.equal(store.find('a'), undefined, 'a key the provider removed is gone')
    state.now += 5000
    const limited = await store.refreshForKid('zzz')
    assert.equal(limited.kind, 'rate-limited')
    assert.ok(limited.kind === 'rate-limited' && Math.round(limited.nextInMs) === 25_000)
    assert.equal(state.jwksCalls, 2)
    state.now += 25_000
    const again = await store.refreshForKid('zzz')
    assert.ok(again.kind === 'refreshed' && again.found === undefined)
    assert.equal(state.jwksCalls, 3)
  })

  it('reports a failed refresh and keeps the cached keys', async () => {
    const { state, store } = fakeProvider()
    await store.ensureLoaded()
    state.failJwks = 1
    const r = await store.refreshForKid('new')
    assert.ok(r.kind === 'failed' && /ECONNREFUSED/.test(r.error))
    assert.ok(store.find('a'), 'cached keys still serve')
  })

  it('falls back to the known jwks_uri when re-discovery fails', async () => {
    const { state, store } = fakeProvider()
    await store.ensureLoaded()
    state.keys = [jwk('a'), jwk('c')]
    state.failDiscovery = 1
    const r = await store.refreshForKid('c')
    assert.ok(r.kind === 'refreshed' && r.found?.kid === 'c')
    assert.ok(state.logs.some((l) => /re-discovery .* failed .* using the known jwks_uri/.test(l)))
  })

  it('refreshes stale keys in the background without making callers wait', async () => {
    const { state, store } = fakeProvider()
    await store.ensureLoaded()
    store.refreshIfStale()
    assert.equal(state.jwksCalls, 1, 'fresh: nothing to do')
    state.now += OPTS.cacheTtlMs
    state.keys = [jwk('a'), jwk('d')]
    state.delay = 30
    store.refreshIfStale()
    assert.ok(store.find('a'), 'old keys keep serving during the refresh')
    assert.equal(store.find('d'), undefined)
    // bounded wait for the background refresh
    for (let i = 0; i < 50 && store.find('d') === undefined; i++) await new Promise((r) => setTimeout(r, 10))
    assert.ok(store.find('d'))
    assert.equal(store.stats.backgroundRefreshes, 1)
  })
})
