/**
 * key-auth's pure logic (search order, duplicate detection, credential stripping from query,
 * form, JSON and multipart bodies) and its access handler over a recording PDK, plus the shared
 * set_consumer / anonymous helpers every auth plugin uses.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { Credential } from '../../../../src/pdk/types.js'
import {
  bodyWithout,
  findKey,
  keyAuthAccess,
  parseBody,
  parseMultipartFields,
  prepareKeyAuth,
  removeArg,
  removeMultipartField,
} from '../../../../src/plugins/key-auth/handler.js'
import { keyAuth } from '../../../../src/plugins/key-auth/index.js'
import type { KeyAuthConfig } from '../../../../src/plugins/key-auth/schema.js'
import { fingerprint, keyFingerprint, setConsumer, useAnonymous, wwwAuthenticate } from '../../../../src/plugins/shared/consumer.js'
import { ALICE, ANON, fakePdk } from './fake-pdk.js'

const DEFAULTS: KeyAuthConfig = {
  key_names: ['apikey'],
  hide_credentials: false,
  anonymous: null,
  key_in_header: true,
  key_in_query: true,
  key_in_body: false,
  run_on_preflight: true,
  realm: null,
}
const CRED: Credential = { id: 'cred-1', consumer: { id: ALICE.id }, key: 'k1' }
const creds = { 'keyauth_credentials.key': { k1: CRED } }

describe('key-auth: plugin definition', () => {
  test("Kong's name, priority and defaults", () => {
    assert.equal(keyAuth.name, 'key-auth')
    assert.equal(keyAuth.priority, 1250)
    assert.equal(keyAuth.schema.no_consumer, true)
    const c = keyAuth.schema.config
    assert.deepEqual((c['key_names'] as { default: unknown }).default, ['apikey'])
    for (const [f, d] of [
      ['hide_credentials', false],
      ['key_in_header', true],
      ['key_in_query', true],
      ['key_in_body', false],
      ['run_on_preflight', true],
    ] as const) {
      assert.equal((c[f] as { default: unknown }).default, d, f)
    }
    assert.equal((c['realm'] as { default?: unknown }).default, undefined)
    assert.deepEqual(
      keyAuth.entities?.map((e) => e.name),
      ['keyauth_credentials'],
    )
  })
})

describe('key-auth: findKey', () => {
  test('per name: header, then query, then body; first name wins', () => {
    const conf = { ...DEFAULTS, key_names: ['a', 'b'], key_in_body: true }
    assert.deepEqual(findKey(conf, { b: 'hb' }, { a: 'qa' }, null), { found: 'key', key: 'qa', name: 'a', source: 'query' })
    assert.deepEqual(findKey(conf, { a: 'ha' }, { a: 'qa' }, null), { found: 'key', key: 'ha', name: 'a', source: 'header' })
    assert.deepEqual(findKey(conf, {}, {}, { a: 'ba', b: 'bb' }), { found: 'key', key: 'ba', name: 'a', source: 'body' })
    assert.deepEqual(findKey(conf, { b: 'hb' }, {}, {}), { found: 'key', key: 'hb', name: 'b', source: 'header' })
    assert.deepEqual(findKey(conf, {}, {}, {}), { found: 'none' })
  })
  test('header names are matched case-insensitively', () => {
    assert.equal(findKey({ ...DEFAULTS, key_names: ['X-Api-Key'] }, { 'x-api-key': 'k' }, {}, null).found, 'key')
  })
  test('disabled places are not searched', () => {
    const conf = { ...DEFAULTS, key_in_header: false, key_in_query: false }
    assert.deepEqual(findKey(conf, { apikey: 'h' }, { apikey: 'q' }, { apikey: 'b' }), { found: 'none' })
  })
  test('a repeated value, or a JSON structure, is a duplicate; a bare ?apikey or a number is skipped', () => {
    assert.deepEqual(findKey(DEFAULTS, {}, { apikey: ['a', 'b'] }, null), { found: 'duplicate', name: 'apikey', source: 'query' })
    assert.equal(findKey({ ...DEFAULTS, key_in_body: true }, {}, {}, { apikey: { x: 1 } }).found, 'duplicate')
    assert.deepEqual(findKey(DEFAULTS, {}, { apikey: true }, null), { found: 'none' })
    assert.deepEqual(findKey({ ...DEFAULTS, key_in_body: true }, {}, {}, { apikey: 42 }), { found: 'none' })
  })
})

describe('key-auth: stripping the credential', () => {
  test('removeArg keeps the other arguments, their order and their encoding', () => {
    assert.equal(removeArg('z=1&apikey=k&a=%20b&apikey=x', 'apikey'), 'z=1&a=%20b')
    assert.equal(removeArg('apikey=k', 'apikey'), '')
    assert.equal(removeArg('api%6Bey=k&b', 'apikey'), 'b', 'names are compared decoded')
    assert.equal(removeArg('a=1', 'apikey'), 'a=1')
  })
  test('multipart: fields parsed, the named part removed byte for byte', () => {
    const ct = 'multipart/form-data; boundary="B0und"'
    const raw = Buffer.from(
      [
        '--B0und',
        'Content-Disposition: form-data; name="apikey"',
        '',
        'k1',
        '--B0und',
        'Content-Disposition: form-data; name="f"; filename="a.bin"',
        'Content-Type: application/octet-stream',
        '',
        '\u00ff\u0000x',
        '--B0und',
        'Content-Disposition: form-data; name="keep"',
        '',
        'yes',
        '--B0und--',
        '',
      ].join('\r\n'),
      'latin1',
    )
    assert.deepEqual({ ...parseMultipartFields(raw, ct) }, { apikey: 'k1', keep: 'yes' })
    const out = removeMultipartField(raw, ct, 'apikey')
    assert.equal(
      out.toString('latin1'),
      raw.toString('latin1').replace('--B0und\r\nContent-Disposition: form-data; name="apikey"\r\n\r\nk1\r\n', ''),
    )
    assert.ok(out.includes(Buffer.from([0xff, 0x00])), 'binary parts survive')
    assert.equal(removeMultipartField(raw, ct, 'absent'), raw)
    assert.equal(parseMultipartFields(raw, 'multipart/form-data'), null, 'no boundary')
  })
  test('parseBody by content type; bodyWithout re-encodes as it came', () => {
    const json = parseBody(Buffer.from('{"apikey":"k","n":1}'), 'application/json; charset=utf-8')
    assert.ok(typeof json !== 'string')
    assert.equal(bodyWithout(json, 'apikey')?.toString(), '{"n":1}')
    const form = parseBody(Buffer.from('a=1&apikey=k&apikey=j'), 'application/x-www-form-urlencoded')
    assert.ok(typeof form !== 'string')
    assert.deepEqual(form.args['apikey'], ['k', 'j'])
    assert.equal(bodyWithout(form, 'apikey')?.toString(), 'a=1')
    assert.equal(bodyWithout(form, 'other'), null)
    assert.equal(parseBody(Buffer.from('x'), undefined), 'missing content type')
    assert.equal(parseBody(Buffer.from('x'), 'text/plain'), "unsupported content type 'text/plain'")
    assert.equal(parseBody(Buffer.from('{'), 'application/json'), 'the JSON body could not be parsed')
  })
})

describe('key-auth: access handler', () => {
  const run = (conf: Partial<KeyAuthConfig>, req: Parameters<typeof fakePdk>[0]) => {
    const { kong, rec } = fakePdk({ consumers: [ALICE, ANON], credentials: creds, ...req })
    const r = keyAuthAccess(kong, prepareKeyAuth({ ...DEFAULTS, ...conf }))
    assert.equal(r, undefined, 'synchronous when key_in_body is off')
    return rec
  }
  test('a valid key authenticates and sets the consumer headers', () => {
    const rec = run({}, { headers: { apikey: 'k1' } })
    assert.equal(rec.exit, null)
    assert.equal(rec.consumer, ALICE)
    assert.equal(rec.credential, CRED)
    assert.equal(rec.upstream.get('x-consumer-id'), ALICE.id)
    assert.equal(rec.upstream.get('x-consumer-username'), 'alice')
    assert.equal(rec.upstream.get('x-consumer-custom-id'), 'c-1')
    assert.equal(rec.upstream.get('x-credential-identifier'), 'cred-1')
    assert.equal(rec.upstream.get('x-anonymous-consumer'), null, 'cleared')
    assert.equal(rec.upstream.has('apikey'), false)
  })
  test('no key → 401 with Kong message and WWW-Authenticate; the log names the places', () => {
    const rec = run({ realm: 'r' }, {})
    assert.deepEqual(rec.exit, { status: 401, message: 'No API key found in request', headers: { 'WWW-Authenticate': 'Key realm="r"' } })
    assert.equal(rec.logs.length, 1)
    assert.equal(rec.logs[0]?.level, 'notice', 'seen at the default log level')
    assert.match(
      rec.logs[0]?.text ?? '',
      /^401 "No API key found in request" on route "my-route" \(r-1\): looked for "apikey" in headers, query string/,
    )
  })
  test('an empty key is "no key"; an unknown key is "Unauthorized" with a fingerprint only', () => {
    assert.equal(run({}, { headers: { apikey: '' } }).exit?.message, 'No API key found in request')
    const rec = run({}, { query: 'apikey=secret-value' })
    assert.equal(rec.exit?.message, 'Unauthorized')
    assert.equal((rec.exit?.headers as Record<string, string>)['WWW-Authenticate'], 'Key')
    assert.ok(rec.logs[0]?.text.includes(`("sec…" ${fingerprint('secret-value')})`), rec.logs[0]?.text)
    assert.ok(!rec.logs[0]?.text.includes('secret-value'))
  })
  test('keyFingerprint: at most 4 leading printable chars and a quarter of the key, then the hash; a giant key is hashed, not echoed', () => {
    assert.equal(keyFingerprint('abc'), fingerprint('abc'))
    assert.equal(keyFingerprint('abcdefgh'), `"ab…" ${fingerprint('abcdefgh')}`)
    assert.equal(keyFingerprint('a1b2c3d4e5f6g7h8i9'), `"a1b2…" ${fingerprint('a1b2c3d4e5f6g7h8i9')}`)
    assert.equal(keyFingerprint('"\n"xxxxxxxxxxxxx'), fingerprint('"\n"xxxxxxxxxxxxx'))
    const giant = 'k'.repeat(1_000_000)
    assert.equal(keyFingerprint(giant), `"kkkk…" ${fingerprint(giant)}`)
  })
  test('hide_credentials clears the header and the query argument', () => {
    const rec = run({ hide_credentials: true }, { query: 'a=1&apikey=k1', headers: { apikey: 'k1' } })
    assert.equal(rec.upstream.get('apikey'), null)
    assert.equal(rec.query, 'a=1')
  })
  test('run_on_preflight=false skips OPTIONS', () => {
    const rec = run({ run_on_preflight: false }, { method: 'OPTIONS' })
    assert.equal(rec.exit, null)
    assert.equal(rec.consumer, null)
  })
  test('anonymous: failure → the anonymous consumer (by username); already authenticated → untouched', () => {
    const rec = run({ anonymous: 'anon' }, {})
    assert.equal(rec.exit, null)
    assert.equal(rec.consumer, ANON)
    assert.equal(rec.credential, null)
    assert.equal(rec.upstream.get('x-anonymous-consumer'), 'true')
    assert.equal(rec.upstream.get('x-credential-identifier'), null)
    assert.equal(rec.upstream.get('x-consumer-custom-id'), null)
    const { kong, rec: r2 } = fakePdk({ consumers: [ALICE, ANON], credentials: creds })
    kong.client.authenticate(ALICE, CRED)
    void keyAuthAccess(kong, prepareKeyAuth({ ...DEFAULTS, anonymous: ANON.id }))
    assert.equal(r2.consumer, ALICE, 'logical OR: an earlier plugin authenticated')
    assert.equal(r2.upstream.size, 0)
  })
  test("anonymous naming no consumer → 500 with Kong's message, logged at error", () => {
    const rec = run({ anonymous: 'ghost' }, {})
    assert.deepEqual(rec.exit, { status: 500, message: "anonymous consumer ghost is configured but doesn't exist", headers: undefined })
    assert.ok(rec.logs.some((l) => l.level === 'error' && l.text.includes('ghost')))
  })
})

describe('shared consumer helpers', () => {
  test('setConsumer clears what is unknown and honours a custom credential identifier', () => {
    const { kong, rec } = fakePdk()
    setConsumer(kong, { id: 'c', username: null, custom_id: 'x' }, CRED, { credentialIdentifier: 'jwt-key' })
    assert.equal(rec.upstream.get('x-consumer-username'), null)
    assert.equal(rec.upstream.get('x-consumer-custom-id'), 'x')
    assert.equal(rec.upstream.get('x-credential-identifier'), 'jwt-key')
  })
  test('useAnonymous by id; wwwAuthenticate; fingerprint is short and stable', () => {
    const { kong, rec } = fakePdk({ consumers: [ANON] })
    assert.equal(useAnonymous(kong, ANON.id), true)
    assert.equal(rec.consumer, ANON)
    assert.equal(wwwAuthenticate('Key', null), 'Key')
    assert.equal(wwwAuthenticate('Basic', 'service'), 'Basic realm="service"')
    assert.match(fingerprint('x'), /^sha256:[0-9a-f]{8}$/)
    assert.equal(fingerprint('x'), fingerprint('x'))
  })
})
