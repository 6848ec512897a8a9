/**
 * The jwt plugin's pure logic: where tokens are found (Kong's retrieve_tokens), how a token is
 * read (Kong's jwt_parser errors), the registered-claim and maximum-expiration rules, secrets,
 * keys and signatures through jose, and the WWW-Authenticate values.
 */
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, test } from 'node:test'
import { SignJWT } from 'jose'
import {
  checkMaximumExpiration,
  cookieValue,
  credentialKey,
  decodeBase64Secret,
  decodeToken,
  describeSources,
  describeTime,
  retrieveTokens,
  verifyRegisteredClaims,
  verifySignature,
  wwwAuthenticate,
  type TokenRequest,
} from '../../../../src/plugins/jwt/handler.js'
import { jwt } from '../../../../src/plugins/jwt/index.js'

const DEFAULTS = { uri_param_names: ['jwt'], cookie_names: [] as string[], header_names: ['authorization'] }
const b64 = (s: string): string => Buffer.from(s).toString('base64url')

function req(query: Record<string, string | true | (string | true)[]>, headers: Record<string, string | string[]> = {}): TokenRequest {
  return { getQuery: () => query, getHeaders: () => headers }
}

describe('jwt: finding the token', () => {
  test("query, cookie and header sources, de-duplicated, in Kong's order", () => {
    const conf = { uri_param_names: ['jwt', 't'], cookie_names: ['c'], header_names: ['authorization', 'x_token'] }
    assert.deepEqual(retrieveTokens(req({}), conf).tokens, [])
    assert.deepEqual(retrieveTokens(req({ jwt: 'A' }), conf).tokens, ['A'])
    const same = retrieveTokens(req({ jwt: 'A', t: 'A' }, { cookie: 'c=A', authorization: 'Bearer A', 'x-token': 'bearer A' }), conf)
    assert.deepEqual(same.tokens, ['A'])
    assert.deepEqual(same.sources, ["query 'jwt', query 't', cookie 'c', header 'authorization', header 'x_token'"])
    const two = retrieveTokens(req({ jwt: ['A', 'B'] }), conf)
    assert.deepEqual(two.tokens, ['A', 'B'])
    // A bare flag is a token Kong cannot recognise; an empty value is none.
    assert.deepEqual(retrieveTokens(req({ jwt: true }), conf).tokens, [true])
    assert.deepEqual(retrieveTokens(req({ jwt: '' }), conf).tokens, [])
    // Only the first value of a repeated header counts.
    assert.deepEqual(retrieveTokens(req({}, { authorization: ['Bearer X', 'Bearer Y'] }), conf).tokens, ['X'])
  })

  test("the Bearer pattern is Kong's: case of the B, spaces, not anchored", () => {
    const t = (h: string) => retrieveTokens(req({}, { authorization: h }), DEFAULTS)
    assert.deepEqual(t('Bearer abc').tokens, ['abc'])
    assert.deepEqual(t('bearer    abc').tokens, ['abc'])
    assert.deepEqual(t('Token Bearer abc').tokens, ['abc'])
    assert.deepEqual(t('BEARER abc').tokens, [])
    assert.deepEqual(t('Basic abc').notBearer, ['authorization'])
    assert.deepEqual(t('Bearer').tokens, [])
  })

  test('inherited object keys are not query parameters', () => {
    assert.deepEqual(retrieveTokens(req({}), { ...DEFAULTS, uri_param_names: ['constructor', '__proto__'] }).tokens, [])
  })

  test('cookies as nginx $cookie_: first match, name case-insensitive, several Cookie headers', () => {
    assert.equal(cookieValue('a=1; jwt=tok; jwt=second', 'jwt'), 'tok')
    assert.equal(cookieValue('JWT=tok', 'jwt'), 'tok')
    assert.equal(cookieValue(['a=1', 'b=2; jwt=x'], 'jwt'), 'x')
    assert.equal(cookieValue('ajwt=1', 'jwt'), undefined)
    assert.equal(cookieValue(undefined, 'jwt'), undefined)
  })

  test('the explanation names every place looked', () => {
    assert.equal(describeSources(DEFAULTS), "query parameter 'jwt'; header 'authorization' (Bearer scheme)")
    assert.equal(describeSources({ uri_param_names: [], cookie_names: ['a', 'b'], header_names: [] }), "cookie 'a', 'b'")
    assert.match(describeSources({ uri_param_names: [], cookie_names: [], header_names: [] }), /^nowhere/)
  })
})

describe("jwt: reading the token (Kong's jwt_parser errors)", () => {
  test('valid structure', () => {
    const d = decodeToken(`${b64('{"alg":"HS256","typ":"JWT"}')}.${b64('{"iss":"k"}')}.sig`)
    assert.ok(d.ok)
    assert.equal(d.alg, 'HS256')
    assert.deepEqual(d.claims, { iss: 'k' })
  })

  test('invalid JSON, alg, claims and signature', () => {
    const err = (t: string) => {
      const d = decodeToken(t)
      return d.ok ? 'ok' : d.error
    }
    assert.equal(err('abc'), 'invalid JSON')
    assert.equal(err('a.b'), 'invalid JSON')
    assert.equal(err(`${b64('{"alg":"HS256"')}.${b64('{}')}.x`), 'invalid JSON')
    assert.equal(err(`${b64('{"alg":"HS256"}')}.${b64('{not json')}.x`), 'invalid JSON')
    assert.equal(err(`${b64('{}')}.${b64('{}')}.x`), 'invalid alg')
    assert.equal(err(`${b64('{"alg":"none"}')}.${b64('{}')}.`), 'invalid alg')
    assert.equal(err(`${b64('{"alg":"HS1"}')}.${b64('{}')}.x`), 'invalid alg')
    assert.equal(err(`${b64('{"alg":7}')}.${b64('{}')}.x`), 'invalid alg')
    assert.equal(err(`${b64('{"alg":"RS256"}')}.${b64('"str"')}.x`), 'invalid claims')
    assert.equal(err(`${b64('{"alg":"RS256"}')}.${b64('{}')}.x.y`), 'invalid signature')
  })
})

describe('jwt: claims', () => {
  const now = 1_700_000_000
  test("only the claims in claims_to_verify, with Kong's messages", () => {
    assert.equal(verifyRegisteredClaims({ exp: now - 1 }, null, now), null)
    assert.equal(verifyRegisteredClaims({ exp: now - 1 }, [], now), null)
    assert.deepEqual(verifyRegisteredClaims({ exp: now }, ['exp'], now), { exp: 'token expired' })
    assert.equal(verifyRegisteredClaims({ exp: now + 1 }, ['exp'], now), null)
    assert.deepEqual(verifyRegisteredClaims({ nbf: now + 1 }, ['nbf'], now), { nbf: 'token not valid yet' })
    assert.equal(verifyRegisteredClaims({ nbf: now }, ['nbf'], now), null)
    assert.deepEqual(verifyRegisteredClaims({ exp: '123' }, ['exp', 'nbf'], now), { exp: 'must be a number', nbf: 'must be a number' })
  })

  test('maximum_expiration', () => {
    assert.equal(checkMaximumExpiration({}, 0, now), null)
    assert.deepEqual(checkMaximumExpiration({}, 60, now), { exp: 'exceeds maximum allowed expiration' })
    assert.deepEqual(checkMaximumExpiration({ exp: now + 61 }, 60, now), { exp: 'exceeds maximum allowed expiration' })
    assert.equal(checkMaximumExpiration({ exp: now + 60 }, 60, now), null)
  })

  test('times are explained for the log', () => {
    assert.equal(describeTime(now - 30, now), `${now - 30} (2023-11-14T22:12:50Z, 30 s ago)`)
    assert.equal(describeTime(now + 5, now), `${now + 5} (2023-11-14T22:13:25Z, in 5 s)`)
    assert.equal(describeTime('x', now), '"x"')
  })
})

describe('jwt: keys and signatures', () => {
  test('base64 secrets as Kong decodes them', () => {
    assert.deepEqual(decodeBase64Secret('aGVsbG8'), Buffer.from('hello'))
    assert.deepEqual(decodeBase64Secret('aGVsbG8='), Buffer.from('hello'))
    assert.deepEqual(decodeBase64Secret('-_8'), Buffer.from([0xfb, 0xff]))
    assert.equal(decodeBase64Secret('not base64!'), null)
  })

  test('credential keys: HMAC bytes, parsed public keys, explained failures, cached per row', () => {
    const row = { id: '1', secret: 'hello', rsa_public_key: 'garbage' }
    const k = credentialKey(row, 'HS256', false)
    assert.ok(k instanceof Uint8Array)
    assert.equal(credentialKey(row, 'HS256', false), k)
    assert.deepEqual(credentialKey({ id: '1', secret: 'aGVsbG8=' }, 'HS256', true), new Uint8Array(Buffer.from('hello')))
    const bad = credentialKey(row, 'RS256', false)
    assert.ok('error' in bad && /does not parse/.test(bad.error))
    const none = credentialKey({ id: '2', secret: null }, 'HS256', false)
    assert.ok('error' in none && /no secret/.test(none.error))
  })

  test("signatures are checked by jose, with only the credential's algorithm", async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const token = await new SignJWT({ iss: 'k' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey)
    const key = credentialKey({ id: 'e', rsa_public_key: pem }, 'ES256', false)
    assert.ok(!('error' in key))
    assert.equal(await verifySignature(token, 'ES256', key), undefined)
    const tampered = token.slice(0, token.lastIndexOf('.') + 1) + 'A'.repeat(86)
    assert.match((await verifySignature(tampered, 'ES256', key)) ?? '', /does not match/)
    assert.match((await verifySignature(token, 'ES384', key)) ?? '', /cannot be checked/)
  })

  test('WWW-Authenticate as Kong 3.9 builds it', () => {
    assert.equal(wwwAuthenticate(null, false), 'Bearer')
    assert.equal(wwwAuthenticate(null, true), 'Bearer error="invalid_token"')
    assert.equal(wwwAuthenticate('kong', false), 'Bearer realm="kong"')
    assert.equal(wwwAuthenticate('kong', true), 'Bearer realm="kong" error="invalid_token"')
  })
})

describe('jwt: plugin definition', () => {
  test('name, priority, entities and defaults as Kong 3.9', () => {
    assert.equal(jwt.name, 'jwt')
    assert.equal(jwt.priority, 1450)
    assert.equal(jwt.schema.no_consumer, true)
    assert.deepEqual(
      jwt.entities?.map((e) => e.name),
      ['jwt_secrets'],
    )
    const c = jwt.schema.config
    assert.deepEqual(Object.keys(c), [
      'uri_param_names',
      'cookie_names',
      'key_claim_name',
      'secret_is_base64',
      'claims_to_verify',
      'anonymous',
      'run_on_preflight',
      'maximum_expiration',
      'header_names',
      'realm',
    ])
  })
})
