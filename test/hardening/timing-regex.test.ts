/**
 * Hardening, regex matching limits: a configured regex (route path, route header, plugin setting)
 * costs bounded time on any request, and a hostile request never delays another client. Kong runs
 * route regexes in linear time (Rust's regex crate) and plugin regexes under PCRE's match limit.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { request } from 'undici'
import { call, eventually, startTestGateway, type TestGateway } from '../helpers/gateway.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

let gw: TestGateway
let echo: TestUpstream

// 40 `a`s and an `X`: hours of backtracking for `(a+)+$` in a plain backtracking engine.
const HOSTILE = 'a'.repeat(40) + 'X'

before(async () => {
  ;[gw, echo] = await Promise.all([startTestGateway(), startUpstream()])
  const admin = gw.adminUrl
  assert.equal((await call('POST', `${admin}/services`, { name: 's', url: echo.url })).status, 201)
  const routes: Record<string, unknown>[] = [
    { name: 'nested', paths: ['~/re/(a+)+$'] },
    { name: 'look', paths: ['~/look/(?!admin)(?<name>\\w+)$'] },
    { name: 'look-evil', paths: ['~/slow/(?=a)(a+)+$'] },
    { name: 'header', paths: ['/hdr'], headers: { 'x-evil': ['~*(a+)+$'] } },
    { name: 'plain', paths: ['/plain'] },
    { name: 'bots', paths: ['/bots'] },
  ]
  for (const r of routes) {
    const res = await call('POST', `${admin}/services/s/routes`, r)
    assert.equal(res.status, 201, res.text)
  }
  const bot = await call('POST', `${admin}/routes/bots/plugins`, { name: 'bot-detection', config: { deny: ['(a+)+$'] } })
  assert.equal(bot.status, 201, bot.text)
  await eventually(
    async () => (await call('GET', `${gw.proxyUrl}/bots`, undefined, { 'user-agent': 'aaa' })).status === 403,
    5000,
    'plugin applied',
  )
})

after(async () => {
  // SIGKILL: on the old code the worker is stuck for hours and would not stop gracefully.
  await Promise.allSettled([gw?.kill(), echo?.close()])
})

/** A proxied GET that gives up after 5 s (answer time in ms, or -1 when it did not answer). */
async function timedGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; ms: number }> {
  const t = Date.now()
  try {
    const res = await request(`${gw.proxyUrl}${path}`, { headers, headersTimeout: 5000, bodyTimeout: 5000 })
    await res.body.text()
    return { status: res.statusCode, ms: Date.now() - t }
  } catch {
    return { status: -1, ms: -1 }
  }
}

test('a catastrophic route path regex answers within 1 s and other clients are served', async () => {
  const [hostile, other] = await Promise.all([
    timedGet('/re/' + HOSTILE),
    (async () => {
      await new Promise((r) => setTimeout(r, 20))
      return timedGet('/plain')
    })(),
  ])
  assert.equal(hostile.status, 404)
  assert.ok(hostile.ms < 1000, `answered in ${hostile.ms} ms`)
  assert.equal(other.status, 200)
  assert.ok(other.ms < 1000, `other client answered in ${other.ms} ms`)
  assert.equal((await timedGet('/re/aaaa')).status, 200)
})

test('a lookaround route still matches, and a catastrophic one is cut short and logged', async () => {
  const ok = await request(`${gw.proxyUrl}/look/users`)
  assert.equal(ok.statusCode, 200)
  await ok.body.text()
  assert.equal((await timedGet('/look/admin')).status, 404)
  assert.equal((await timedGet('/slow/aaa')).status, 200)
  const slow = await timedGet('/slow/' + HOSTILE)
  assert.equal(slow.status, 404)
  assert.ok(slow.ms < 1000, `answered in ${slow.ms} ms`)
  await gw.waitForLog(/regex match stopped after \d+ ms and treated as no match/)
})

test('a catastrophic route header regex answers within 1 s', async () => {
  assert.equal((await timedGet('/hdr', { 'x-evil': 'aaa' })).status, 200)
  const res = await timedGet('/hdr', { 'x-evil': HOSTILE })
  assert.equal(res.status, 404)
  assert.ok(res.ms < 1000, `answered in ${res.ms} ms`)
})

test('a catastrophic plugin regex (bot-detection deny) answers within 1 s', async () => {
  const res = await timedGet('/bots', { 'user-agent': HOSTILE })
  assert.equal(res.status, 200)
  assert.ok(res.ms < 1000, `answered in ${res.ms} ms`)
})
