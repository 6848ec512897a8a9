import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  checkClaims,
  claimAt,
  claimValues,
  headerValue,
  parseRequirements,
  satisfies,
  type ClaimRules,
} from '../../../../src/plugins/openid-connect/claims.js'

const ISS = 'http://127.0.0.1:9/realms/test'
const rules = (over: Partial<ClaimRules> = {}): ClaimRules => ({
  issuers: [ISS],
  leeway: 0,
  audienceClaim: ['aud'],
  audienceRequired: null,
  scopesClaim: ['scope'],
  scopesRequired: null,
  ...over,
})
const NOW = 1_700_000_000

describe('openid-connect claims', () => {
  it('accepts a valid token and tolerates a trailing slash on the issuer', () => {
    assert.equal(checkClaims({ iss: ISS, exp: NOW + 10, nbf: NOW - 1, iat: NOW }, rules(), NOW), undefined)
    assert.equal(checkClaims({ iss: `${ISS}/` }, rules(), NOW), undefined)
  })

  it('refuses a wrong or missing issuer with 401 naming the expected one', () => {
    const f = checkClaims({ iss: 'https://evil.example' }, rules(), NOW)
    assert.equal(f?.status, 401)
    assert.equal(f?.error, 'invalid_token')
    assert.match(f?.reason ?? '', /issuer "https:\/\/evil\.example" is not allowed \(expected "http:\/\/127\.0\.0\.1:9\/realms\/test"\)/)
    assert.match(checkClaims({}, rules(), NOW)?.reason ?? '', /no "iss" claim/)
  })

  it('explains expiry with exp, the date and the leeway; leeway extends validity', () => {
    const f = checkClaims({ iss: ISS, exp: NOW - 30 }, rules(), NOW)
    assert.equal(f?.status, 401)
    assert.match(f?.reason ?? '', /^token expired at 2023-11-14T22:12:50\.000Z \(exp=1699999970, 30 s ago, leeway 0 s\)$/)
    assert.equal(checkClaims({ iss: ISS, exp: NOW - 30 }, rules({ leeway: 60 }), NOW), undefined)
    assert.match(checkClaims({ iss: ISS, exp: 'soon' }, rules(), NOW)?.reason ?? '', /"exp" claim is not a number/)
  })

  it('refuses a token used before nbf or issued in the future', () => {
    assert.match(
      checkClaims({ iss: ISS, nbf: NOW + 100 }, rules(), NOW)?.reason ?? '',
      /not valid before .* \(nbf=1700000100, 100 s from now, leeway 0 s\)/,
    )
    assert.equal(checkClaims({ iss: ISS, nbf: NOW + 100 }, rules({ leeway: 100 }), NOW), undefined)
    assert.match(checkClaims({ iss: ISS, iat: NOW + 100 }, rules(), NOW)?.reason ?? '', /issued in the future/)
  })

  it('checks the audience with AND inside an entry and OR between entries (403)', () => {
    const r = rules({ audienceRequired: parseRequirements(['api extra', 'admin']) })
    assert.equal(checkClaims({ iss: ISS, aud: ['api', 'extra'] }, r, NOW), undefined)
    assert.equal(checkClaims({ iss: ISS, aud: 'admin' }, r, NOW), undefined)
    const f = checkClaims({ iss: ISS, aud: ['api'] }, r, NOW)
    assert.equal(f?.status, 403)
    assert.equal(f?.error, 'insufficient_scope')
    assert.equal(f?.reason, 'token audience ["api"] does not match the required audience api AND extra OR admin (missing: extra)')
    assert.match(checkClaims({ iss: ISS }, r, NOW)?.reason ?? '', /\(claim "aud" missing\)/)
  })

  it('checks scopes from a space-separated string or an array, at a nested claim path', () => {
    const r = rules({ scopesRequired: parseRequirements(['read write']) })
    assert.equal(checkClaims({ iss: ISS, scope: 'openid read write' }, r, NOW), undefined)
    assert.equal(checkClaims({ iss: ISS, scope: ['read', 'write'] }, r, NOW), undefined)
    const f = checkClaims({ iss: ISS, scope: 'openid read' }, r, NOW)
    assert.equal(f?.status, 403)
    assert.match(f?.reason ?? '', /do not include the required scopes read AND write \(missing: write\)/)
    const nested = rules({ scopesClaim: ['realm', 'scopes'], scopesRequired: parseRequirements(['x']) })
    assert.equal(checkClaims({ iss: ISS, realm: { scopes: ['x'] } }, nested, NOW), undefined)
  })

  it('helpers: claim paths, values, requirement parsing, header values', () => {
    assert.equal(claimAt({ a: { b: 1 } }, ['a', 'b']), 1)
    assert.equal(claimAt({ a: [1] }, ['a', '0']), undefined)
    assert.deepEqual(claimValues('a  b'), ['a', 'b'])
    assert.deepEqual(claimValues([1, 'x', {}]), ['1', 'x'])
    assert.equal(parseRequirements([]), null)
    assert.equal(parseRequirements(['  ']), null)
    assert.deepEqual(
      satisfies(
        ['a'],
        [
          ['a', 'b'],
          ['c', 'd', 'e'],
        ],
      ),
      { ok: false, missing: ['b'] },
    )
    assert.equal(headerValue('x'), 'x')
    assert.equal(headerValue(3), '3')
    assert.equal(headerValue(null), undefined)
    assert.equal(Buffer.from(headerValue(['r1', 'r2']) ?? '', 'base64').toString(), '["r1","r2"]')
  })
})
