/**
 * response-transformer against the real gateway: header changes in Kong's order, JSON body keys
 * (remove, rename, replace, add, append with json_types) on a JSON response streamed in pieces,
 * Content-Length dropped for a changed body, non-JSON responses untouched, an invalid JSON body
 * passed through, and gateway-generated responses transformed too.
 */
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { call } from '../../helpers/gateway.js'
import type { Handler } from '../../helpers/upstream.js'
import { pluginSuite } from '../../helpers/plugin-fixture.js'

/** The upstream: headers to transform, and a JSON body written in pieces (or plain text, or broken JSON). */
const jsonUpstream: Handler = (req, res) => {
  const url = req.url ?? '/'
  res.setHeader('x-remove', 'gone')
  res.setHeader('x-old', 'moved')
  res.setHeader('x-replace', 'original')
  res.setHeader('x-keep', 'upstream')
  res.setHeader('x-multi', 'one')
  if (url.startsWith('/text')) {
    res.setHeader('content-type', 'text/plain')
    res.end('{"secret":"plain text is left alone"}')
    return
  }
  if (url.startsWith('/broken')) {
    res.setHeader('content-type', 'application/json')
    res.end('{"broken":')
    return
  }
  // A JSON body written in several pieces, with a Content-Length.
  const body = JSON.stringify({ secret: 's', old: 'o', rep: 'r', f: false, keep: 'k', list: 'a', nested: { a: 1 } })
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
  res.write(body.slice(0, 10))
  setTimeout(() => res.end(body.slice(10)), 20)
}

describe('response-transformer plugin', () => {
  const fx = pluginSuite({ upstream: jsonUpstream }, async () => {
    await fx.admin('/services/svc/routes', { name: 'main', paths: ['/'] })
    await fx.admin('/routes/main/plugins', {
      name: 'response-transformer',
      config: {
        remove: { headers: ['x-remove'], json: ['secret'] },
        rename: { headers: ['x-old:x-new'], json: ['old:new'] },
        replace: { headers: ['x-replace:replaced', 'x-absent:never'], json: ['rep:replaced', 'f:not-replaced', 'missing:never'] },
        add: {
          headers: ['x-added:yes', 'x-keep:ignored'],
          json: ['count:42', 'flag:true', 'f:added', 'keep:ignored'],
          json_types: ['number', 'boolean', 'string', 'string'],
        },
        append: { headers: ['x-multi:two'], json: ['list:b'] },
      },
    })
    // Gateway-generated JSON: request-termination answers, response-transformer still runs.
    await fx.admin('/services/svc/routes', { name: 'term', paths: ['/term'] })
    await fx.admin('/routes/term/plugins', { name: 'request-termination', config: { status_code: 404 } })
    await fx.admin('/routes/term/plugins', {
      name: 'response-transformer',
      config: { add: { json: ['extra:1'], headers: ['x-term:yes'] } },
    })
  })

  test('headers: remove, rename, replace, add, append', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/json`)
    assert.equal(res.status, 200)
    assert.equal(res.headers['x-remove'], undefined)
    assert.equal(res.headers['x-old'], undefined)
    assert.equal(res.headers['x-new'], 'moved')
    assert.equal(res.headers['x-replace'], 'replaced')
    assert.equal(res.headers['x-absent'], undefined)
    assert.equal(res.headers['x-added'], 'yes')
    assert.equal(res.headers['x-keep'], 'upstream')
    assert.deepEqual(res.headers['x-multi'], ['one', 'two'])
  })

  test('JSON body: keys transformed with json_types; Content-Length dropped (chunked)', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/json`)
    assert.deepEqual(res.body, {
      new: 'o',
      rep: 'replaced',
      f: 'added',
      keep: 'k',
      list: ['a', 'b'],
      nested: { a: 1 },
      count: 42,
      flag: true,
    })
    assert.equal(res.headers['content-length'], undefined)
    assert.equal(res.headers['transfer-encoding'], 'chunked')
  })

  test('non-JSON responses keep their body and Content-Length (headers still change)', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/text`)
    assert.equal(res.text, '{"secret":"plain text is left alone"}')
    assert.equal(res.headers['content-length'], String(res.text.length))
    assert.equal(res.headers['x-added'], 'yes')
  })

  test('an invalid JSON body goes out unchanged, with a warning in the error log', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/broken`)
    assert.equal(res.status, 200)
    assert.equal(res.text, '{"broken":')
    await fx.gw.waitForLog(/\[warn\].*\[response-transformer\] body transform failed/)
  })

  test('responses made by the gateway are transformed as well', async () => {
    const res = await call('GET', `${fx.gw.proxyUrl}/term`)
    assert.equal(res.status, 404)
    assert.deepEqual(res.body, { message: 'Not found', extra: '1' })
    assert.equal(res.headers['x-term'], 'yes')
    assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.text)))
  })

  test('configuration: values need a colon, json_types are boolean/number/string', async () => {
    const bad = await call('POST', `${fx.gw.adminUrl}/plugins`, { name: 'response-transformer', config: { add: { json: ['novalue'] } } })
    assert.equal(bad.status, 400)
    const types = await call('POST', `${fx.gw.adminUrl}/plugins`, {
      name: 'response-transformer',
      config: { add: { json_types: ['object'] } },
    })
    assert.equal(types.status, 400)
    assert.match(types.text, /expected one of: boolean, number, string/)
  })
})
