/** cors origin matching: Kong's normalization and decisions, no gateway. */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { allowOrigin, normalizeOrigin, prepareCors, type CorsConfig } from '../../../../src/plugins/cors/index.js'

const conf = (origins: string[] | null, extra: Partial<CorsConfig> = {}) =>
  prepareCors({
    origins,
    headers: null,
    exposed_headers: null,
    methods: null,
    max_age: null,
    credentials: false,
    private_network: false,
    preflight_continue: false,
    ...extra,
  })

describe('cors origins', () => {
  test('normalize: default ports dropped, others kept, non-URLs as is', () => {
    assert.deepEqual(normalizeOrigin('https://a.test:443'), { domain: 'https://a.test', host: 'a.test' })
    assert.deepEqual(normalizeOrigin('http://a.test:80'), { domain: 'http://a.test', host: 'a.test' })
    assert.deepEqual(normalizeOrigin('http://a.test:8080'), { domain: 'http://a.test:8080', host: 'a.test' })
    assert.deepEqual(normalizeOrigin('null'), { domain: 'null', host: 'null' })
  })

  test('allow-all: none or only *', () => {
    assert.deepEqual(allowOrigin(conf(null), 'https://x'), { value: '*', allowAll: true, vary: false })
    assert.deepEqual(allowOrigin(conf(['*']), undefined), { value: '*', allowAll: true, vary: false })
  })

  test('single plain origin is sent whatever the request origin', () => {
    assert.deepEqual(allowOrigin(conf(['https://a.test']), 'https://b.test'), { value: 'https://a.test', allowAll: false, vary: true })
  })

  test('lists and regexes: exact after normalization, regex by host when it has no colon', () => {
    const c = conf(['https://a.test', '.*\\.b\\.test', 'https://c\\.test:\\d+'])
    assert.equal(allowOrigin(c, 'https://a.test:443').value, 'https://a.test')
    assert.equal(allowOrigin(c, 'http://a.test').value, null)
    assert.equal(allowOrigin(c, 'http://x.b.test:99').value, 'http://x.b.test:99')
    assert.equal(allowOrigin(c, 'http://x.b.test.evil').value, null)
    assert.equal(allowOrigin(c, 'https://c.test:8443').value, 'https://c.test:8443')
    assert.equal(allowOrigin(c, undefined).value, null)
  })

  test('a regex single origin is matched, not sent as is; ^ anchors, $ is added', () => {
    const c = conf(['^https://(a|b)\\.test'])
    assert.equal(allowOrigin(c, 'https://b.test').value, 'https://b.test')
    assert.equal(allowOrigin(c, 'https://b.test.x').value, null)
    assert.equal(allowOrigin(c, 'xhttps://b.test').value, null)
  })

  test('* among others allows all but still varies', () => {
    assert.deepEqual(allowOrigin(conf(['https://a.test', '*']), 'https://z'), { value: '*', allowAll: true, vary: true })
  })
})
