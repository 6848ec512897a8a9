/**
 * Configuration-supplied regexes run in bounded time whatever the pattern and the input; our own
 * regexes on request data have no catastrophic or quadratic backtracking.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { boundedRegex, regexEngineOf, REGEX_MATCH_TIMEOUT_MS } from '../../../src/regex/bounded-regex.js'
import { luaToNumber } from '../../../src/schema/coerce.js'
import { validateRouteHost } from '../../../src/schema/validators.js'
import { parseBasic } from '../../../src/plugins/basic-auth/handler.js'
import { retrieveTokens } from '../../../src/plugins/jwt/handler.js'
import { examineAgent, prepareBotDetection } from '../../../src/plugins/bot-detection/index.js'
import { allowOrigin, prepareCors } from '../../../src/plugins/cors/index.js'

/** Runs fn and returns how long it took, in ms. */
function timed(fn: () => void): number {
  const t = process.hrtime.bigint()
  fn()
  return Number(process.hrtime.bigint() - t) / 1e6
}

// Each of these takes minutes to hours with a plain backtracking RegExp.
const HOSTILE = 'a'.repeat(40) + 'X'

test('nested quantifiers, anchored: answered fast, same result', () => {
  const re = boundedRegex('^/re/(a+)+$')
  assert.ok(timed(() => assert.equal(re.exec('/re/' + HOSTILE), null)) < 1000)
  const m = re.exec('/re/aaa')
  assert.equal(m?.[1], 'aaa')
})

test('nested quantifiers, unanchored and with alternation: the linear engine', () => {
  for (const src of ['(a+)+$', '^x|(a+)+$', '(a|aa)+$']) {
    const re = boundedRegex(src)
    assert.equal(regexEngineOf(re), 'linear', src)
    assert.ok(timed(() => assert.equal(re.test(HOSTILE), false)) < 1000, src)
  }
  // A quadratic scan (every start position) is linear too.
  const scan = boundedRegex('\\s*[Bb]asic\\s*(.+)')
  assert.ok(timed(() => assert.equal(scan.test(' '.repeat(200_000) + 'x'), false)) < 1000)
})

test('named groups and captures are kept', () => {
  const re = boundedRegex('^/users/(?<id>\\d+)/(\\w+)$')
  const m = re.exec('/users/42/orders')
  assert.equal(m?.groups?.['id'], '42')
  assert.equal(m?.[2], 'orders')
})

test('lookarounds and backreferences still match, in a sandbox with a time limit', () => {
  const look = boundedRegex('^/(?!admin)(\\w+)$')
  assert.equal(regexEngineOf(look), 'sandboxed')
  assert.equal(look.exec('/users')?.[1], 'users')
  assert.equal(look.exec('/admin'), null)
  const back = boundedRegex('^/(\\w+)/\\1$')
  assert.equal(back.test('/ab/ab'), true)
  assert.equal(back.test('/ab/cd'), false)
  // Catastrophic with a lookahead: stopped at the limit and treated as no match.
  const evil = boundedRegex('^/re/(?=a)(a+)+$')
  const ms = timed(() => assert.equal(evil.exec('/re/' + HOSTILE), null))
  assert.ok(ms >= REGEX_MATCH_TIMEOUT_MS / 2 && ms < 1000, `${ms} ms`)
  // It still works afterwards.
  assert.equal(evil.exec('/re/aa')?.[1], 'aa')
})

test('invalid patterns throw as new RegExp does', () => {
  assert.throws(() => boundedRegex('(a'), SyntaxError)
})

test('the case-insensitive flag works (linear engine or sandbox)', () => {
  const re = boundedRegex('^/api/(v\\d)$', 'i')
  assert.equal(re.exec('/API/V1')?.[1], 'V1')
  assert.ok(timed(() => boundedRegex('^/re/(a+)+$', 'i').test('/re/' + HOSTILE)) < 1000)
})

const LONG = 50_000 // the old patterns took seconds on this much input

test('built-in patterns on long hostile input: linear', () => {
  assert.ok(timed(() => assert.equal(luaToNumber('1'.repeat(LONG) + 'x'), undefined)) < 1000)
  assert.equal(luaToNumber('12.5e3'), 12500)
  assert.equal(luaToNumber('12.'), 12)
  assert.equal(luaToNumber('.5'), 0.5)
  assert.equal(luaToNumber('1.2.3'), undefined)
  assert.ok(timed(() => assert.match(validateRouteHost('a'.repeat(LONG) + '**') ?? '', /at most one wildcard/)) < 1000)
  assert.equal(validateRouteHost('*.example.com'), undefined)
  assert.ok(timed(() => assert.ok('error' in parseBasic(' '.repeat(LONG) + 'x'))) < 1000)
  const noColon = Buffer.from(':' + 'a'.repeat(LONG)).toString('base64')
  assert.ok(timed(() => assert.ok('error' in parseBasic('Basic ' + noColon))) < 1000)
  assert.deepEqual(parseBasic('Basic ' + Buffer.from('::user:pa:ss').toString('base64')), { username: 'user', password: 'pa:ss' })
  assert.deepEqual(parseBasic('  basic ' + Buffer.from('u:').toString('base64')), { username: 'u', password: '' })
  const req = { getQuery: () => ({}), getHeaders: () => ({ authorization: ' '.repeat(LONG) + 'x' }) }
  assert.ok(
    timed(() =>
      assert.deepEqual(retrieveTokens(req, { uri_param_names: [], cookie_names: [], header_names: ['authorization'] }).tokens, []),
    ) < 1000,
  )
  const ok = { getQuery: () => ({}), getHeaders: () => ({ authorization: '  Bearer abc' }) }
  assert.deepEqual(retrieveTokens(ok, { uri_param_names: [], cookie_names: [], header_names: ['authorization'] }).tokens, ['abc'])
})

test('bot-detection built-in list on long hostile User-Agents: linear', () => {
  const conf = prepareBotDetection({ allow: [], deny: [] })
  for (const ua of [
    'a'.repeat(16_000),
    ' '.repeat(16_000),
    'A-'.repeat(8000),
    'crawl'.repeat(3200),
    'Microsoft '.repeat(1600),
    'archive'.repeat(2300),
  ]) {
    const ms = timed(() => examineAgent(conf, ua))
    assert.ok(ms < 1000, `${JSON.stringify(ua.slice(0, 12))}…: ${ms} ms`)
  }
  for (const ua of [
    'Mozilla/5.0 (compatible; Googlebot/2.1)',
    'SomeCrawler/1.0',
    'my crawler 2',
    'archive.org_bot',
    'Microsoft X Bot',
    'Yandexbot',
  ]) {
    assert.equal(examineAgent(conf, ua).verdict, 'bot', ua)
  }
  assert.equal(examineAgent(conf, 'Mozilla/5.0 (Linux; Android 10; CUBOT X30)').verdict, 'none')
})

test('cors origin and bot-detection deny regexes from configuration: bounded on hostile input', () => {
  const cors = prepareCors({
    origins: ['http://(a+)+\\.example', 'http://ok\\.example'],
    headers: null,
    exposed_headers: null,
    methods: null,
    max_age: null,
    credentials: false,
    private_network: false,
    preflight_continue: false,
  })
  const origin = 'http://' + HOSTILE + '.example'
  assert.ok(timed(() => assert.equal(allowOrigin(cors, origin).value, null)) < 1000)
  assert.equal(allowOrigin(cors, 'http://aaa.example').value, 'http://aaa.example')
  const bots = prepareBotDetection({ allow: [], deny: ['(a+)+$'] })
  assert.ok(timed(() => assert.equal(examineAgent(bots, HOSTILE).verdict, 'none')) < 1000)
  assert.equal(examineAgent(bots, 'xaa').verdict, 'deny')
})
