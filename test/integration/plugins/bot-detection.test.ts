/**
 * bot-detection against the real gateway: the built-in list (crawlers, HTTP libraries) refused
 * with 403 {"message":"Forbidden"}, browsers and curl let through, allow winning over the built-in
 * list, deny regexes, requests without a User-Agent, two User-Agent headers (400), the log line.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { request } from 'undici'
import { call } from '../../helpers/gateway.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36'

describe('bot-detection plugin', () => {
  const fx = pluginSuite({}, async () => {
    await fx.route('plain', [{ name: 'bot-detection' }])
    await fx.route('lists', [{ name: 'bot-detection', config: { allow: ['Googlebot'], deny: ['^curl/', 'BadClient'] } }])
  })

  const ua = (path: string, agent: string) => call('GET', `${fx.gw.proxyUrl}${path}`, undefined, { 'user-agent': agent })

  test('built-in bots are refused with 403 Forbidden', async () => {
    for (const agent of [
      'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
      'facebookexternalhit/1.1',
      'Twitterbot/1.0',
      'Apache-HttpClient/4.5.13 (Java/11)',
      'Python-urllib/3.11',
      'Scrapy/2.11 (+https://scrapy.org)',
      'my-crawler/1.0',
    ]) {
      const res = await ua('/plain', agent)
      assert.equal(res.status, 403, agent)
      assert.deepEqual(res.body, { message: 'Forbidden' }, agent)
    }
  })

  test('browsers, curl and requests without a User-Agent pass', async () => {
    assert.equal((await ua('/plain', BROWSER)).status, 200)
    assert.equal((await ua('/plain', 'curl/8.5.0')).status, 200)
    const none = await request(`${fx.gw.proxyUrl}/plain`, { headers: {} })
    await none.body.text()
    assert.equal(none.statusCode, 200)
  })

  test('allow wins over the built-in list; deny regexes refuse', async () => {
    assert.equal((await ua('/lists', 'Mozilla/5.0 (compatible; Googlebot/2.1)')).status, 200)
    assert.equal((await ua('/lists', 'curl/8.5.0')).status, 403)
    assert.equal((await ua('/lists', 'Mozilla/5.0 BadClient')).status, 403)
    assert.equal((await ua('/lists', 'bingbot/2.0')).status, 403, 'the built-in list still applies')
    assert.equal((await ua('/lists', BROWSER)).status, 200)
    await fx.gw.waitForLog(
      /\[bot-detection\] 403 "Forbidden" on route "lists" \([^)]+\): User-Agent "curl\/8\.5\.0" matches config\.deny entry "\^curl\/"/,
    )
  })

  test('two User-Agent headers: 400', async () => {
    const res = await request(`${fx.gw.proxyUrl}/plain`, { headers: ['user-agent', 'a', 'user-agent', 'b'] })
    assert.equal(res.statusCode, 400)
    assert.deepEqual(await res.body.json(), { message: 'Only one User-Agent header allowed' })
  })

  test('configuration: entries must be regexes; defaults are empty lists', async () => {
    const bad = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'bot-detection', config: { deny: ['(oops'] } })
    assert.equal(bad.status, 400)
    assert.match(bad.text, /not a valid regex: \(oops/)
    const list = await call('GET', `${fx.gw.adminUrl}/routes/plain/plugins`)
    assert.deepEqual(list.body.data[0].config, { allow: [], deny: [] })
  })
})
