/**
 * basic-auth's header parsing (Kong's `[Bb]asic` + base64 + `user:password`) and its access
 * handler over a recording PDK: Proxy-Authorization first, Kong's password digest, the 401 and
 * its WWW-Authenticate, hide_credentials, anonymous, and log lines without the password.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Credential } from '../../../../src/pdk/types.js'
import { hashBasicAuthPassword } from '../../../../src/plugins/basic-auth/entities.js'
import { basicAuthAccess, parseBasic, prepareBasicAuth } from '../../../../src/plugins/basic-auth/handler.js'
import { basicAuth } from '../../../../src/plugins/basic-auth/index.js'
import type { BasicAuthConfig } from '../../../../src/plugins/basic-auth/schema.js'
import { ALICE, ANON, fakePdk } from '../key-auth/fake-pdk.js'

const b64 = (s: string): string => Buffer.from(s).toString('base64')
const DEFAULTS: BasicAuthConfig = { anonymous: null, hide_credentials: false, realm: 'service' }
const CRED: Credential = { id: 'cred-b', consumer: { id: ALICE.id }, username: 'al', password: hashBasicAuthPassword(ALICE.id, 'pw:1') }
const creds = { 'basicauth_credentials.username': { al: CRED } }

describe('basic-auth: plugin definition', () => {
  test("Kong's name, priority and defaults", () => {
    assert.equal(basicAuth.name, 'basic-auth')
    assert.equal(basicAuth.priority, 1100)
    assert.equal(basicAuth.schema.no_consumer, true)
    assert.equal((basicAuth.schema.config['realm'] as { default: unknown }).default, 'service')
    assert.equal((basicAuth.schema.config['hide_credentials'] as { default: unknown }).default, false)
  })
})

describe('basic-auth: parseBasic', () => {
  test('splits at the first colon; the password may contain colons and be empty', () => {
    assert.deepEqual(parseBasic(`Basic ${b64('user:pa:ss')}`), { username: 'user', password: 'pa:ss' })
    assert.deepEqual(parseBasic(`basic ${b64('user:')}`), { username: 'user', password: '' })
    assert.deepEqual(parseBasic(`  Basic   ${b64('u:p')}  `), { username: 'u', password: 'p' })
  })
  test('explains what is wrong', () => {
    assert.deepEqual(parseBasic('Bearer x'), { error: 'is not "Basic" credentials' })
    assert.deepEqual(parseBasic('Basic !!!'), { error: 'is not valid base64 after "Basic"' })
    assert.match((parseBasic(`Basic ${b64('nocolon')}`) as { error: string }).error, /username:password/)
  })
})

describe('basic-auth: access handler', () => {
  const run = (conf: Partial<BasicAuthConfig>, headers: Record<string, string>) => {
    const { kong, rec } = fakePdk({ consumers: [ALICE, ANON], credentials: creds, headers })
    basicAuthAccess(kong, prepareBasicAuth({ ...DEFAULTS, ...conf }))
    return rec
  }
  test('valid credentials authenticate', () => {
    const rec = run({}, { authorization: `Basic ${b64('al:pw:1')}` })
    assert.equal(rec.exit, null)
    assert.equal(rec.consumer, ALICE)
    assert.equal(rec.upstream.get('x-credential-identifier'), 'cred-b')
    assert.equal(rec.upstream.has('authorization'), false)
  })
  test('Proxy-Authorization is tried first; Authorization is the fallback', () => {
    assert.equal(run({}, { 'proxy-authorization': `Basic ${b64('al:pw:1')}` }).consumer, ALICE)
    assert.equal(run({}, { 'proxy-authorization': `Basic ${b64('nobody:x')}`, authorization: `Basic ${b64('al:pw:1')}` }).consumer, ALICE)
  })
  test('failures: 401 Unauthorized, Basic realm, the reason logged, never the password', () => {
    for (const [headers, why] of [
      [{}, /no Authorization or Proxy-Authorization header/],
      [{ authorization: `Basic ${b64('al:wrong-pw')}` }, /wrong password for the basic-auth username "al"/],
      [{ authorization: `Basic ${b64('zed:x')}` }, /no basic-auth credential has the username "zed"/],
      [{ authorization: 'Digest abc' }, /the Authorization header is not "Basic" credentials/],
    ] as const) {
      const rec = run({ realm: 'svc' }, headers)
      assert.deepEqual(rec.exit, { status: 401, message: 'Unauthorized', headers: { 'WWW-Authenticate': 'Basic realm="svc"' } })
      assert.match(rec.logs[0]?.text ?? '', why)
      assert.match(rec.logs[0]?.text ?? '', /^401 "Unauthorized" on route "my-route"/)
      assert.ok(!rec.logs[0]?.text.includes('wrong-pw'))
    }
  })
  test('hide_credentials clears the headers it read', () => {
    const rec = run({ hide_credentials: true }, { authorization: `Basic ${b64('al:pw:1')}`, 'proxy-authorization': 'junk' })
    assert.equal(rec.upstream.get('authorization'), null)
    assert.equal(rec.upstream.get('proxy-authorization'), null)
  })
  test('anonymous', () => {
    const rec = run({ anonymous: ANON.id }, { authorization: `Basic ${b64('al:bad')}` })
    assert.equal(rec.exit, null)
    assert.equal(rec.consumer, ANON)
    assert.equal(rec.upstream.get('x-anonymous-consumer'), 'true')
    assert.match(rec.logs[0]?.text ?? '', /continuing as the anonymous consumer/)
  })
})
